"""The period gate and the close: may each tenant's month close, and which months are closed."""

import dagster as dg

from orchestration.defs.gate.assets import period_closes, period_gate_verdicts

defs = dg.Definitions(assets=[period_gate_verdicts, period_closes])
