"""The period gate: may each tenant's month close? One verdict per tenant and period, every day."""

import dagster as dg

from orchestration.defs.gate.assets import period_gate_verdicts

defs = dg.Definitions(assets=[period_gate_verdicts])
