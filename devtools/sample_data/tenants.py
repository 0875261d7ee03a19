"""Tenants, providers and the small deterministic helpers (seeded streams, hashing, id encoding)."""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import numpy as np
import polars as pl

from settld.core import period_bounds

PROVIDERS: tuple[str, ...] = ("stripe_connect", "wire_fedline", "usdc_circle")
PROVIDER_WEIGHTS: tuple[float, ...] = (0.55, 0.25, 0.20)
CURRENCIES: tuple[str, ...] = ("USD", "EUR", "GBP")

# (slug, initial plan, currency, providers) of the named tenants; later tenants are `tnt_0007`, ...
_NAMED: tuple[tuple[str, str, str, tuple[int, ...]], ...] = (
    ("acme", "growth", "USD", (0, 1, 2)),
    ("globex", "builder", "EUR", (0, 1)),  # upgrades builder -> growth mid-run
    ("initech", "builder", "USD", (1, 2)),  # cancels its subscription at the end of the run
    ("umbrella", "free", "GBP", (0, 2)),
    ("hooli", "enterprise", "USD", (0, 1, 2)),
    ("stark", "growth", "USD", (0, 1)),
)
_PROVIDER_SETS: tuple[tuple[int, ...], ...] = ((0, 1, 2), (0, 1), (1, 2), (0, 2))
UPGRADE_TENANT = 1
CANCEL_TENANT = 2

# Independent random streams of one (tenant, period) chunk.
STREAM_SETTLEMENTS = 1
STREAM_INSTRUCTIONS = 2
STREAM_RAILS = 3
STREAM_STRIPE = 4

DAY = 86_400
HOUR = 3_600
TS_FORMAT = "%Y-%m-%dT%H:%M:%SZ"


@dataclass(frozen=True)
class Tenant:
    index: int  # 0-based position; tenant number (file names, tnt_0007) is index + 1
    tenant_id: str
    slug: str
    plan: str
    currency: str
    providers: tuple[int, ...]  # indexes into PROVIDERS

    @property
    def number(self) -> int:
        return self.index + 1

    @property
    def currency_code(self) -> int:
        return CURRENCIES.index(self.currency)

    @property
    def provider_names(self) -> tuple[str, ...]:
        return tuple(PROVIDERS[p] for p in self.providers)


def tenant(index: int) -> Tenant:
    if index < len(_NAMED):
        slug, plan, currency, providers = _NAMED[index]
    else:
        slug = f"{index + 1:04d}"
        plan = ("builder", "growth", "enterprise", "free")[index % 4]
        currency = "EUR" if index % 5 == 1 else "GBP" if index % 7 == 3 else "USD"
        providers = _PROVIDER_SETS[index % 4]
    return Tenant(index, f"tnt_{slug}", slug, plan, currency, providers)


def tenant_list(count: int) -> list[Tenant]:
    return [tenant(i) for i in range(count)]


def stream(seed: int, tenant_index: int, period_index: int, stream_id: int) -> np.random.Generator:
    """The random stream of one (tenant, period) chunk: independent of every other chunk."""
    return np.random.Generator(
        np.random.PCG64(np.random.SeedSequence([seed, tenant_index, period_index, stream_id]))
    )


@lru_cache(maxsize=256)
def period_epochs(period: str) -> tuple[int, int]:
    start, end = period_bounds(period)
    return int(start.timestamp()), int(end.timestamp())


# ---------------------------------------------------------------------------------------------- hashing
_M64 = (1 << 64) - 1


def mix64(values: np.ndarray) -> np.ndarray:
    """splitmix64 finaliser over uint64 arrays (wrapping arithmetic): a cheap, stable per-id hash."""
    z = values.astype(np.uint64) + np.uint64(0x9E3779B97F4A7C15)
    z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
    z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
    return z ^ (z >> np.uint64(31))


def keyed_hash(seed: int, tenant_index: int, salt: int, ids: np.ndarray) -> np.ndarray:
    """A stable 64-bit hash of (seed, tenant, salt, id) per id: attributes that ignore the period."""
    key = (seed * 0x100000001B3 + tenant_index * 0x9E3779B1 + salt * 0x85EBCA77) & _M64
    return mix64(ids.astype(np.uint64) ^ np.uint64(key))


def unit_float(hashes: np.ndarray) -> np.ndarray:
    return (hashes >> np.uint64(11)).astype(np.float64) / float(1 << 53)


_ALPHABETS = {
    "hex": np.frombuffer(b"0123456789abcdef", dtype=np.uint8),
    "digits": np.frombuffer(b"0123456789", dtype=np.uint8),
    "base62": np.frombuffer(
        b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz", dtype=np.uint8
    ),
}


def encode(hashes: np.ndarray, width: int, alphabet: str = "hex") -> pl.Series:
    """Fixed-width strings from uint64 hashes, vectorised (every 10 characters come from a re-mixed hash)."""
    chars = _ALPHABETS[alphabet]
    base = np.uint64(chars.size)
    source = hashes.astype(np.uint64)
    out = np.empty((source.size, width), dtype=np.uint8)
    values = source.copy()
    for position in range(width):
        if position and position % 10 == 0:
            values = mix64(source + np.uint64(position))
        out[:, position] = chars[(values % base).astype(np.intp)]
        values //= base
    return pl.Series(np.ascontiguousarray(out).view(f"S{width}").ravel()).cast(pl.String)


def zfill(column: str | pl.Expr, width: int) -> pl.Expr:
    expr = pl.col(column) if isinstance(column, str) else column
    return expr.cast(pl.String).str.zfill(width)


def iso(column: str) -> pl.Expr:
    """Epoch seconds (negative = null) -> `2026-09-03T14:22:05Z`."""
    col = pl.col(column)
    return pl.when(col >= 0).then(pl.from_epoch(col, time_unit="s").dt.strftime(TS_FORMAT)).otherwise(None)
