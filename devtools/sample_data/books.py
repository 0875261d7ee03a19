"""The settlement kernel's books of one (tenant, period) chunk, consistent with its settlements and payout
instructions: the ledger's postings, the month close, its GL batch and party statements, and the
held-exposure roll-forward (contracts: ingestion/finance_contracts.py; rules: docs/DECISIONLOG.md,
"Finance integrity").

Journal entries per settlement (accounts `<party>:available` and `<party>:escrow_locked`):
- `je_<settlement>_hold` at locked_at: the payer's available -amount, its escrow +amount (`escrow:hold:`);
- `je_<settlement>_release` at resolved_at: the payer's escrow -released (`escrow:release:`), the payee's
  available +released, so a payee's available total of the month is its payout instruction's amount;
- `je_<settlement>_forfeit` at resolved_at: the payer's escrow -refunded (`escrow:forfeit:`), its
  available +refunded.
Decoys every chunk: a wallet top-up (`wallet:credit:`, an unknown memo prefix on accounts that are not
escrow) and, for the first tenant, a zero roll-forward of a currency with no postings; every third chunk
an earlier, superseded GL batch of half the lines (only the latest by generated_at counts).

Problems injected on purpose, one GL and one escrow problem per closed tenant-month (cycling through the
kinds by chunk number), each expected finding a row of injected.csv keyed as the mart keys it.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import duckdb
import numpy as np
import polars as pl

from settld.core import canonical_hash
from settld.vocabulary import ESCROW_NET_CLOSE_SOURCE, FINANCE_RECONCILE_SOURCE, VOCABULARY

from .kernel import Settlements
from .tenants import CURRENCIES, DAY, HOUR, Tenant, period_epochs, zfill

GL_KINDS = (
    "gl_hash_mismatch", "totals_mismatch", "entry_ids_mismatch", "statement_period_mismatch",
    "statement_basis_mismatch", "gl_not_zero_sum", "statements_missing", "gl_batch_missing",
)  # fmt: skip
ESCROW_KINDS = (
    "held_rollforward_ledger_mismatch", "ledger_unclassified_escrow_adjustment", "held_rollforward_missing",
    "held_rollforward_invalid",
)  # fmt: skip
FINANCE_MISMATCH_TYPES = VOCABULARY.mismatch_types_of(FINANCE_RECONCILE_SOURCE)
ESCROW_MISMATCH_TYPES = VOCABULARY.mismatch_types_of(ESCROW_NET_CLOSE_SOURCE)
BOOKS_DECOY_TYPES = ("superseded_gl_batch", "unknown_memo_not_escrow", "currency_without_postings")
OPEN_MONTH_TENANT = 2  # the third tenant's last month is still open in the kernel (not closable)
KERNEL_PROVIDER = "settlement_kernel"  # the provider_id of every finance finding
BASIS = "settled_at"
TOTALS_DELTA, ADJUSTMENT, HELD_DELTA, INVALID_DELTA = 137, 250, 500, 300
TS = "%Y-%m-%dT%H:%M:%SZ"


@dataclass
class BooksState:
    """What one tenant's books carry from month to month: the escrow balance per currency."""

    escrow_balance: dict[str, int] = field(default_factory=dict)


def gl_batch_hashes(lines: pl.DataFrame) -> dict[str, str]:
    """batch_id -> artifact hash: the multiset digest of its lines (party, account, entry, amount), as
    dbt's `gl_batch_digest` computes it (macros/finance.sql), so order does not matter."""
    if lines.is_empty():
        return {}
    with duckdb.connect() as con:
        con.register(
            "lines", lines.select("batch_id", "party_id", "account_id", "entry_id", "amount_cents").to_arrow()
        )
        rows = con.sql(
            """
            with hashed as (
                select batch_id, md5(party_id || chr(31) || account_id || chr(31) || entry_id || chr(31)
                                     || cast(amount_cents as varchar)) as h
                from lines
            )
            select batch_id, sha256(cast(count(*) as varchar)
                || '|' || cast(cast(sum(cast('0x' || substr(h, 1, 8) as bigint)) as bigint) as varchar)
                || '|' || cast(cast(sum(cast('0x' || substr(h, 9, 8) as bigint)) as bigint) as varchar)
                || '|' || cast(cast(sum(cast('0x' || substr(h, 17, 8) as bigint)) as bigint) as varchar)
                || '|' || cast(cast(sum(cast('0x' || substr(h, 25, 8) as bigint)) as bigint) as varchar))
            from hashed group by batch_id
            """
        ).fetchall()
    return dict(rows)


def _iso(epochs: pl.Expr) -> pl.Expr:
    return pl.from_epoch(epochs, time_unit="s").dt.strftime(TS)


def ledger_postings(t: Tenant, period: str, s: Settlements) -> pl.DataFrame:
    """Every posting of the chunk's settlements and the top-up decoy, sorted by (entry_id, posting_index)."""
    c = s.columns
    n = c["amount"].size
    seq = np.arange(1, n + 1)
    base = pl.DataFrame(
        {
            "seq": seq,
            "payer": c["payer"],
            "payee": c["payee"],
            "amount": c["amount"],
            "released": c["released"],
            "refunded": c["refunded"],
            "locked_at": c["locked_at"],
            "resolved_at": c["resolved_at"],
        }  # fmt: skip
    ).with_columns(
        setl=pl.lit(f"setl_run_{t.slug}_{period.replace('-', '')}_") + zfill("seq", 8),
        payer_id=pl.lit(f"agt_{t.slug}_b") + zfill("payer", 7),
        payee_id=pl.lit(f"agt_{t.slug}_s") + zfill("payee", 7),
    )

    def leg(kind: str, index: int, party: str, account: str, amount: pl.Expr, at: str, where: pl.Expr):
        return base.filter(where).select(
            entry_id=pl.col("setl").str.replace("^setl_", "je_") + f"_{kind}",
            posting_index=pl.lit(index, dtype=pl.Int64),
            posted=pl.col(at),
            account_id=pl.col(party) + f":{account}",
            party_id=pl.col(party),
            amount_cents=amount,
            memo=pl.lit(f"escrow:{kind}:") + pl.col("setl"),
        )

    resolved, amount = pl.col("resolved_at") >= 0, pl.col("amount")
    legs = [
        leg("hold", 0, "payer_id", "available", -amount, "locked_at", pl.lit(True)),
        leg("hold", 1, "payer_id", "escrow_locked", amount, "locked_at", pl.lit(True)),
        leg("release", 0, "payer_id", "escrow_locked", -pl.col("released"), "resolved_at",
            resolved & (pl.col("released") > 0)),
        leg("release", 1, "payee_id", "available", pl.col("released"), "resolved_at",
            resolved & (pl.col("released") > 0)),
        leg("forfeit", 0, "payer_id", "escrow_locked", -pl.col("refunded"), "resolved_at",
            resolved & (pl.col("refunded") > 0)),
        leg("forfeit", 1, "payer_id", "available", pl.col("refunded"), "resolved_at",
            resolved & (pl.col("refunded") > 0)),
    ]  # fmt: skip
    start, _ = period_epochs(period)
    payer = f"agt_{t.slug}_b{0:07d}"
    topup = f"je_{t.slug}_{period.replace('-', '')}_topup"
    decoy = pl.DataFrame(
        {
            "entry_id": [topup, topup],
            "posting_index": [0, 1],
            "posted": [start + HOUR, start + HOUR],
            "account_id": [f"{payer}:funding", f"{payer}:available"],
            "party_id": [payer, payer],
            "amount_cents": [-1_000_000, 1_000_000],
            "memo": [f"wallet:credit:{topup}"] * 2,
        }  # fmt: skip
    )
    return _finish(t, pl.concat([*legs, decoy], how="vertical_relaxed"))


def _finish(t: Tenant, frame: pl.DataFrame) -> pl.DataFrame:
    return frame.select(
        tenant_id=pl.lit(t.tenant_id), entry_id="entry_id", posting_index=pl.col("posting_index").cast(pl.Int64),
        posted_at=_iso(pl.col("posted")), account_id="account_id", party_id="party_id",
        amount_cents=pl.col("amount_cents").cast(pl.Int64), currency=pl.lit(t.currency), memo="memo",
        posted=pl.col("posted"),
    ).sort("entry_id", "posting_index")  # fmt: skip


def adjustment_postings(t: Tenant, period: str) -> pl.DataFrame:
    """Escrow in and out again with a memo the net close cannot classify (nets to zero on escrow)."""
    start, _ = period_epochs(period)
    payer = f"agt_{t.slug}_b{0:07d}"
    rows = []
    for kind, sign, at in (("adjust_in", 1, start + 2 * HOUR), ("adjust_out", -1, start + 3 * HOUR)):
        entry = f"je_{t.slug}_{period.replace('-', '')}_{kind}"
        rows += [
            (entry, 0, at, f"{payer}:escrow_locked", payer, sign * ADJUSTMENT, f"escrow:adjust:{entry}"),
            (entry, 1, at, f"{payer}:available", payer, -sign * ADJUSTMENT, f"escrow:adjust:{entry}"),
        ]
    columns = ("entry_id", "posting_index", "posted", "account_id", "party_id", "amount_cents", "memo")
    return _finish(t, pl.DataFrame(rows, schema=columns, orient="row"))


@dataclass
class ChunkBooks:
    frames: dict[str, pl.DataFrame]
    injected: list[tuple[str, str, str, str, str, str]]  # rows of injected.csv (findings and decoys)


def build_books(
    t: Tenant, period: str, chunk_number: int, s: Settlements, state: BooksState, *, is_open: bool
) -> ChunkBooks:
    """The chunk's books with its injected problems; `state` carries the escrow balance to the next month."""
    start, end = period_epochs(period)
    gl_kind = GL_KINDS[chunk_number % len(GL_KINDS)]
    escrow_kind = ESCROW_KINDS[chunk_number % len(ESCROW_KINDS)]
    postings = ledger_postings(t, period, s)
    if not is_open and escrow_kind == "ledger_unclassified_escrow_adjustment":
        postings = pl.concat([postings, adjustment_postings(t, period)]).sort("entry_id", "posting_index")
    injected: list[tuple[str, str, str, str, str, str]] = []
    tag = f"{t.slug}_{period.replace('-', '')}"

    def finding(kind: str, key: str, note: str) -> None:
        injected.append((t.tenant_id, period, KERNEL_PROVIDER, kind, key, note))

    finding("unknown_memo_not_escrow", f"je_{tag}_topup", "wallet:credit: on accounts that are not escrow")

    # -- the ledger's escrow over the month, per currency (what the held roll-forward should say)
    escrow = postings.filter(pl.col("account_id").str.ends_with(":escrow_locked"))
    opening = state.escrow_balance.get(t.currency, 0)

    def escrow_sum(prefix: str, sign: int) -> int:
        rows = escrow.filter(pl.col("memo").str.starts_with(prefix) & (pl.col("amount_cents") * sign > 0))
        return int(rows["amount_cents"].sum()) * sign

    held = {"opening": opening, "new": escrow_sum("escrow:hold:", 1), "released": escrow_sum("escrow:release:", -1),
            "forfeited": escrow_sum("escrow:forfeit:", -1)}  # fmt: skip
    held["ending"] = opening + int(escrow["amount_cents"].sum())
    state.escrow_balance[t.currency] = held["ending"]
    closed_at = end + DAY
    frames: dict[str, pl.DataFrame] = {
        "ledger_postings": postings.drop("posted"),
        "month_closes": pl.DataFrame(
            {
                "tenant_id": [t.tenant_id],
                "period": [period],
                "status": ["open" if is_open else "closed"],
                "closed_at": [None if is_open else pl.select(_iso(pl.lit(closed_at))).item()],
                "chain_hash": [
                    None if is_open else canonical_hash({"tenant": t.tenant_id, "period": period})
                ],
                "updated_at": [pl.select(_iso(pl.lit(end + (0 if is_open else DAY)))).item()],
            }  # fmt: skip
        ),
    }
    if is_open:  # nothing is produced before the month closes: the net close reports it not closable
        return ChunkBooks(frames, injected)

    # -- GL batch: every posting of the month
    batch_id = f"glb_{tag}_2"
    lines = postings.select(
        tenant_id="tenant_id", batch_id=pl.lit(batch_id), period=pl.lit(period),
        line_no=pl.int_range(1, pl.len() + 1, dtype=pl.Int64), party_id="party_id", account_id="account_id",
        entry_id="entry_id", amount_cents="amount_cents", currency="currency",
    )  # fmt: skip
    # -- party statements: totals per (party, account), entries per party
    totals = (
        postings.group_by("party_id", "account_id")
        .agg(pl.col("amount_cents").sum())
        .sort("party_id", "account_id")
    )
    entries = postings.select("party_id", "entry_id").unique().sort("party_id", "entry_id")
    statement_lines = pl.concat(
        [
            totals.select(party_id="party_id", line_kind=pl.lit("total"), account_id="account_id",
                          entry_id=pl.lit(None, pl.String), amount_cents="amount_cents"),
            entries.select(party_id="party_id", line_kind=pl.lit("entry"), account_id=pl.lit(None, pl.String),
                           entry_id="entry_id", amount_cents=pl.lit(None, pl.Int64)),
        ]
    )  # fmt: skip
    parties = totals["party_id"].unique().sort()
    first_party = f"agt_{t.slug}_b{0:07d}"  # the top-up's payer: on every statement set
    statement_id = pl.lit(f"pst_{tag}_") + pl.col("party_id")
    if gl_kind == "totals_mismatch":
        account = f"{first_party}:available"
        statement_lines = statement_lines.with_columns(
            amount_cents=pl.when((pl.col("party_id") == first_party) & (pl.col("account_id") == account))
            .then(pl.col("amount_cents") + TOTALS_DELTA)
            .otherwise("amount_cents")
        )
        finding(gl_kind, f"{first_party}|{account}", f"statement total +{TOTALS_DELTA}")
    elif gl_kind == "entry_ids_mismatch":
        entry = f"je_{tag}_topup"
        statement_lines = statement_lines.filter(pl.col("entry_id").is_null() | (pl.col("entry_id") != entry))
        finding(gl_kind, entry, "entry left out of every statement")
    elif gl_kind == "gl_not_zero_sum":
        dropped = lines.filter(pl.col("entry_id") == f"je_{tag}_topup").filter(pl.col("amount_cents") < 0)
        lines = lines.filter(pl.col("line_no") != dropped["line_no"][0])
        statement_lines = statement_lines.filter(
            ~((pl.col("party_id") == first_party) & pl.col("account_id").eq_missing(dropped["account_id"][0]))
        )  # the statement agrees with the broken batch: only the zero sum fails
        finding(gl_kind, f"{batch_id}|{t.currency}", "a line of the top-up left out of batch and statement")
    headers = pl.DataFrame({"party_id": parties}).select(
        tenant_id=pl.lit(t.tenant_id), statement_id=statement_id, party_id="party_id",
        party_role=pl.when(pl.col("party_id").str.contains("_s")).then(pl.lit("payee")).otherwise(pl.lit("payer")),
        period=pl.lit(period), statement_period=pl.lit(period), basis=pl.lit(BASIS),
        generated_at=pl.lit(pl.select(_iso(pl.lit(closed_at))).item()),
    )  # fmt: skip
    statement_lines = statement_lines.select(
        tenant_id=pl.lit(t.tenant_id), statement_id=statement_id, period=pl.lit(period), line_kind="line_kind",
        account_id="account_id", entry_id="entry_id", amount_cents="amount_cents",
        currency=pl.when(pl.col("line_kind") == "total").then(pl.lit(t.currency)),
    ).sort("statement_id", "line_kind", "account_id", "entry_id", nulls_last=True)  # fmt: skip
    first_statement = f"pst_{tag}_{first_party}"
    if gl_kind == "statement_period_mismatch":
        previous = pl.select(
            pl.lit(f"{period}-01").str.to_date().dt.offset_by("-1mo").dt.strftime("%Y-%m")
        ).item()
        headers = headers.with_columns(
            statement_period=pl.when(pl.col("statement_id") == first_statement)
            .then(pl.lit(previous))
            .otherwise("statement_period")
        )
        finding(gl_kind, first_statement, f"states {previous}")
    elif gl_kind == "statement_basis_mismatch":
        headers = headers.with_columns(
            basis=pl.when(pl.col("statement_id") == first_statement)
            .then(pl.lit("created_at"))
            .otherwise("basis")
        )
        finding(gl_kind, first_statement, "basis created_at")
    statement_hashes = gl_batch_hashes(
        statement_lines.filter(pl.col("line_kind") == "total").select(
            batch_id="statement_id", party_id=pl.lit(""), account_id="account_id", entry_id=pl.lit(""),
            amount_cents="amount_cents",
        )
    )  # fmt: skip
    headers = headers.with_columns(
        artifact_hash=pl.col("statement_id").replace_strict(statement_hashes, default="")
    )
    batches = [(batch_id, closed_at, lines)]
    if chunk_number % 3 == 0:  # decoy: an earlier batch of the same close, superseded by the latest
        earlier = lines.head(lines.height // 2).with_columns(batch_id=pl.lit(f"glb_{tag}_1"))
        batches.insert(0, (f"glb_{tag}_1", closed_at - HOUR, earlier))
        finding("superseded_gl_batch", f"glb_{tag}_1", "an earlier batch of the close; the latest counts")
    all_lines = pl.concat([b[2] for b in batches])
    hashes = gl_batch_hashes(all_lines)
    if gl_kind == "gl_hash_mismatch":
        hashes[batch_id] = canonical_hash({"tampered": batch_id})
        finding(gl_kind, batch_id, "stored hash is not the lines' digest")
    gl_headers = pl.DataFrame(
        {
            "tenant_id": [t.tenant_id] * len(batches),
            "batch_id": [b[0] for b in batches],
            "period": [period] * len(batches),
            "basis": [BASIS] * len(batches),
            "generated_at": [pl.select(_iso(pl.lit(b[1]))).item() for b in batches],
            "artifact_hash": [hashes[b[0]] for b in batches],
        }  # fmt: skip
    )
    if gl_kind == "gl_batch_missing":
        gl_headers, all_lines = gl_headers.clear(), all_lines.clear()
        finding(gl_kind, period, "no GL batch for a closed month")
    if gl_kind == "statements_missing":
        headers, statement_lines = headers.clear(), statement_lines.clear()
        finding(gl_kind, batch_id, "no party statement for the batch")
    frames.update(gl_batches=gl_headers, gl_batch_lines=all_lines, party_statements=headers,
                  party_statement_lines=statement_lines)  # fmt: skip

    # -- the held roll-forward, with its problem
    rows = [(t.currency, held)]
    if t.index == 0:  # decoy: a currency the tenant holds nothing in
        other = next(c for c in CURRENCIES if c != t.currency)
        rows.append((other, dict.fromkeys(("opening", "new", "released", "forfeited", "ending"), 0)))
        finding("currency_without_postings", other, "an all-zero roll-forward of a currency never used")
    if escrow_kind == "held_rollforward_ledger_mismatch":
        held["new"] += HELD_DELTA
        held["ending"] += HELD_DELTA
        finding(escrow_kind, t.currency, f"new holds and ending +{HELD_DELTA}: conserved, not the ledger's")
    elif escrow_kind == "held_rollforward_invalid":
        held["ending"] += INVALID_DELTA
        finding(escrow_kind, t.currency, f"ending +{INVALID_DELTA}: not conserved")
        finding("held_rollforward_ledger_mismatch", t.currency, "its ending differs from the ledger's too")
    elif escrow_kind == "ledger_unclassified_escrow_adjustment":
        finding(escrow_kind, t.currency, f"escrow:adjust: +{ADJUSTMENT} and -{ADJUSTMENT}")
    elif escrow_kind == "held_rollforward_missing":
        rows = [r for r in rows if r[0] != t.currency]
        finding(escrow_kind, t.currency, "no held roll-forward for the currency")
    frames["held_exposure_rollforwards"] = pl.DataFrame(
        [(t.tenant_id, f"hrf_{tag}_{currency}", period, currency, h["opening"], h["new"], h["released"],
          h["forfeited"], h["ending"], pl.select(_iso(pl.lit(closed_at))).item()) for currency, h in rows],
        schema=["tenant_id", "artifact_id", "period", "currency", "opening_cents", "new_holds_cents",
                "released_cents", "forfeited_cents", "ending_cents", "generated_at"],
        orient="row",
    )  # fmt: skip
    return ChunkBooks(frames, injected)
