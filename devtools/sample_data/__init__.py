"""Deterministic, scalable sample landing zone: kernel exports, money-rail operations and Stripe events.

`generate_landing_zone(out, seed=7, tenants=4, periods=("2026-08", "2026-09", "2026-10"), scale=1,
fmt="mixed", malformed=True)` writes, in the contracts of `ingestion.contracts`:

    settlements/settlements-<period>.<ext>
    payout_instructions/payout_instructions-<period>.<ext>
    money_rail_operations/operations-<provider>-<period>.<ext>   (stripe_connect, wire_fedline, usdc_circle)
    kernel_books/<dataset>/<dataset>-<period>.<ext>               (the kernel's books: ledger postings, GL
                                                                   batches and lines, party statements and
                                                                   lines, held roll-forwards, month closes;
                                                                   books.py, one GL and one escrow problem
                                                                   per closed tenant-month)
    stripe/events/events-<month>.jsonl                            (each month from the first period to
                                                                   the one after the last, billing it)
    injected.csv                                                  (every injected problem and decoy)
    manifest.json                                                 (canonical JSON + newline)

Volume. Every (tenant, period) chunk has a pool of 80 x scale payee agents of which ~80 % are paid in
the period, each with 1-3 settlements (mean 1.75), ~94 % of them with a released amount, hence

    payout instructions ~= tenants x len(periods) x 60 x scale      (within ~2 %)
    settlements         ~= 1.75 x 64 x scale per tenant-period       (~1.9 x instructions)
    operations          ~= 1.03 x instructions                       (retries, duplicates, collections)

e.g. tenants=3, 3 periods, scale=18_519 -> ~10 million instructions. When one period could exceed
1,000,000 rows of a dataset (tenants x 240 x scale > 1,000,000) every chunk gets its own files, split into
parts of at most 1,000,000 rows: `settlements-2026-09-t0003-part0001.parquet` (t = tenant number).

Determinism. Chunk (tenant i, period j) draws from `SeedSequence([seed, i, j, stream])`, so its rows do not
depend on the other chunks (adding tenants leaves existing tenants' rows unchanged); no wall clock is
read; timestamps derive from the periods; rows are sorted by a unique key; the same arguments write
byte-identical files. Operation and money timestamps all fall before the export cut-off `as_of`
(manifest), 2 days after the last period ends.

Billing. The Stripe invoices bill the invoice drafts the billing marts compute from the generated usage
(drafts.py, stripe_invoices.py), except the invoice disagreements injected on purpose and listed in
injected.csv (docs/DECISIONLOG.md, "Sample data").
"""

from .generator import GENERATOR_VERSION, generate_landing_zone
from .rails import DECOY_TYPES, MISMATCH_TYPES
from .stripe_invoices import INVOICE_MISMATCH_TYPES

__all__ = [
    "DECOY_TYPES",
    "GENERATOR_VERSION",
    "INVOICE_MISMATCH_TYPES",
    "MISMATCH_TYPES",
    "generate_landing_zone",
]
