"""Landing files into the raw layer."""

import dagster as dg

from orchestration.defs.landing.assets import landing_zone

defs = dg.Definitions(assets=[landing_zone])
