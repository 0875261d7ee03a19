"""The invoice arithmetic of a period's usage on a plan, in the shape of the invoice draft's lines
(marts.fct_invoice_draft_lines; the old service's arithmetic, reference section 3.5, with its gaps fixed):

    SUBSCRIPTION_BASE      the plan's subscription, when > 0;
    VERIFIED_RUN_OVERAGE   (runs - included) x milli-cents per run, rounded HALF-UP to cents, when > 0;
    SETTLED_VOLUME_FEE     floor(volume x bps / 10000), one line PER CURRENCY (never summed across);
    ARBITRATION_USAGE_FEE  cases x fee per case, when there were cases.

Integer arithmetic only, as the SQL macros (dbt_project/macros/billing.sql): `round_half_up_divide` and
`floor_divide` here are those macros for Python. tests/api/test_api_billing_summary.py holds the two to
each other: the API's summary of a closed period equals its finalised invoice line for line, and the
pipeline drill compares every published draft.
"""

from __future__ import annotations

from dataclasses import dataclass

from api.billing.catalog import PlanTerms


def floor_divide(numerator: int, denominator: int) -> int:
    """Non-negative integers only (counts and cents), as the SQL macro."""
    if numerator < 0 or denominator <= 0:
        raise ValueError(f"floor_divide takes non-negative integers, not {numerator}/{denominator}")
    return numerator // denominator


def round_half_up_divide(numerator: int, denominator: int) -> int:
    """numerator / denominator rounded half-up (2.5 -> 3): floor((numerator + denominator // 2) / denominator)."""
    return floor_divide(numerator + denominator // 2, denominator)


@dataclass(frozen=True)
class Usage:
    verified_runs: int
    arbitration_cases: int
    settled_volume: dict[str, int]  # currency -> released cents


@dataclass(frozen=True)
class Line:
    currency: str
    line_code: str
    quantity: int
    unit_amount_cents: int | None
    unit_amount_milli_cents: int | None
    unit_amount_bps: int | None
    amount_cents: int


def estimate_lines(terms: PlanTerms, usage: Usage) -> list[Line]:
    """The draft lines of one tenant's period, sorted by currency then line code (as the invoices list)."""
    lines = []
    if terms.subscription_cents > 0:
        lines.append(Line(terms.currency, "SUBSCRIPTION_BASE", 1, terms.subscription_cents, None, None,
                          terms.subscription_cents))  # fmt: skip
    overage = usage.verified_runs - terms.included_verified_runs
    if overage > 0:
        milli_cents = overage * terms.overage_milli_cents_per_run
        lines.append(Line(terms.currency, "VERIFIED_RUN_OVERAGE", overage, None, terms.overage_milli_cents_per_run,
                          None, round_half_up_divide(milli_cents, 1000)))  # fmt: skip
    for currency, volume in sorted(usage.settled_volume.items()):
        fee = floor_divide(volume * terms.settled_volume_fee_bps, 10_000)
        lines.append(
            Line(currency, "SETTLED_VOLUME_FEE", volume, None, None, terms.settled_volume_fee_bps, fee)
        )
    if usage.arbitration_cases > 0:
        lines.append(Line(terms.currency, "ARBITRATION_USAGE_FEE", usage.arbitration_cases,
                          terms.arbitration_case_fee_cents, None, None,
                          usage.arbitration_cases * terms.arbitration_case_fee_cents))  # fmt: skip
    return sorted(lines, key=lambda line: (line.currency, line.line_code))


def totals_per_currency(lines: list[Line]) -> dict[str, int]:
    totals: dict[str, int] = {}
    for line in lines:
        totals[line.currency] = totals.get(line.currency, 0) + line.amount_cents
    return dict(sorted(totals.items()))
