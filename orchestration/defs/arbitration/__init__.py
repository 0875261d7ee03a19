"""Disputes and arbitration: the settlements published to the operator API, and the SLA watchdog."""

import dagster as dg

from orchestration.defs.arbitration.assets import published_settlements
from orchestration.defs.arbitration.watchdog import (
    arbitration_sla_alerts,
    arbitration_sla_watchdog,
    watchdog_resource,
)

defs = dg.Definitions(
    assets=[published_settlements],
    jobs=[arbitration_sla_alerts],
    sensors=[arbitration_sla_watchdog],
    resources={"arbitration_watchdog": watchdog_resource()},
)
