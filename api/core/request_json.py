"""The JSON a request may carry: how deep it nests, and the guarded parse every write's body goes through.

`nests_deeper_than(raw, limit)` measures a body without parsing it (linear, in C), so the limits middleware
refuses a deep body before any parser recurses into it. `load_json(raw, limits)` is the parse of a write's
body (the idempotency layer hashes its result, before the route validates it): besides JSON syntax and
UTF-8 it refuses, as 422 VALIDATION_FAILED naming each place, what the database cannot store or canonical
JSON cannot encode: NUL and lone surrogates (`"\\ud800"`) in text, text longer than the limit, integers
outside int64, numbers a float cannot hold (`1e999`), NaN and Infinity, and an object naming a key twice
(parsers disagree on which one wins). Page cursors are parsed by it too (their values reach the SQL).
"""

from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass
from itertools import accumulate
from typing import Any

from api.core.errors import JsonTooDeep, ValidationFailed

INT64_MIN, INT64_MAX = -(2**63), 2**63 - 1
MAX_REPORTED = 20  # refusals named in one problem document
_UNSTORABLE_TEXT = re.compile("[\x00\ud800-\udfff]")
_NOT_BRACKETS = bytes(byte for byte in range(256) if byte not in b"[]{}")
_STEP = {ord("["): 1, ord("{"): 1, ord("]"): -1, ord("}"): -1}


@dataclass(frozen=True)
class JsonLimits:
    max_depth: int
    max_string_length: int


def nests_deeper_than(raw: bytes, limit: int) -> bool:
    """Whether the JSON text `raw` opens more than `limit` arrays or objects inside each other, counting
    brackets outside strings. Works on any bytes (invalid JSON is judged by the parser afterwards)."""
    if raw.count(b"[") + raw.count(b"{") <= limit:
        return False
    unescaped = raw.replace(b"\\\\", b"").replace(b'\\"', b"")  # escapes pair left to right, as JSON's do
    outside_strings = b"".join(unescaped.split(b'"')[::2])
    brackets = outside_strings.translate(None, _NOT_BRACKETS)
    return max(accumulate(map(_STEP.__getitem__, brackets)), default=0) > limit


def text_refusal(text: str, max_length: int | None = None) -> tuple[str, str] | None:
    """(error type, message) when `text` cannot be stored (NUL, a lone surrogate) or is too long."""
    if max_length is not None and len(text) > max_length:
        return "string_too_long", f"Text longer than {max_length} characters is refused."
    found = _UNSTORABLE_TEXT.search(text)
    if found is None:
        return None
    if found.group() == "\x00":
        return "string_nul", "Text must not contain NUL characters (the database cannot store them)."
    return "string_unicode_surrogate", "Text must be valid Unicode: a lone surrogate (\\ud800-\\udfff) is not."  # fmt: skip


def too_deep(limit: int) -> JsonTooDeep:
    return JsonTooDeep(f"The JSON nests deeper than {limit} levels.", max_json_depth=limit)


_TOO_MANY_DIGITS = object()  # an integer literal longer than any int64


class _Members(dict[str, Any]):
    duplicated: tuple[str, ...] = ()


def _members(pairs: list[tuple[str, Any]]) -> _Members:
    members = _Members(pairs)
    if len(members) != len(pairs):
        seen: set[str] = set()
        members.duplicated = tuple(dict.fromkeys(key for key, _ in pairs if key in seen or seen.add(key)))
    return members


def _integer(literal: str) -> int | object:
    # Python refuses to convert integers of more than 4300 digits (a ValueError mid-parse): never try.
    return int(literal) if len(literal) <= 20 else _TOO_MANY_DIGITS


def _loc_part(key: str) -> str:
    """A key as it may appear in a problem's `loc`: short, and encodable whatever it holds."""
    return key[:64].encode("utf-8", "backslashreplace").decode("utf-8")


def _number_refusal(value: Any) -> tuple[str, str] | None:
    if value is _TOO_MANY_DIGITS or (isinstance(value, int) and not INT64_MIN <= value <= INT64_MAX):
        return "number_out_of_range", "Integers must lie within int64 (-2**63 .. 2**63-1)."
    if isinstance(value, float) and not math.isfinite(value):
        return (
            "number_not_finite",
            "Numbers must be finite: NaN, Infinity and overflowing floats are refused.",
        )
    return None


def _refusals(value: Any, max_string_length: int, loc: tuple[str, ...]) -> list[dict[str, Any]]:
    """Each place in the decoded JSON `value` that `load_json` refuses, as `{loc, msg, type}` errors."""
    found: list[dict[str, Any]] = []
    pending: list[tuple[Any, tuple[str, ...]]] = [(value, loc)]
    while pending and len(found) < MAX_REPORTED:
        item, where = pending.pop()
        refusal = None
        if isinstance(item, str):
            refusal = text_refusal(item, max_string_length)
        elif isinstance(item, dict):
            found += [_error((*where, _loc_part(key)), "key_duplicated", "An object names this key twice.")
                      for key in getattr(item, "duplicated", ())]  # fmt: skip
            for key, member in reversed(item.items()):
                if key_refusal := text_refusal(key, max_string_length):
                    found.append(_error((*where, _loc_part(key)), *key_refusal))
                pending.append((member, (*where, _loc_part(key))))
        elif isinstance(item, list):
            pending += [(member, (*where, str(index))) for index, member in reversed(list(enumerate(item)))]
        elif not isinstance(item, bool):
            refusal = _number_refusal(item)
        if refusal is not None:
            found.append(_error(where, *refusal))
    return found[:MAX_REPORTED]


def _error(loc: tuple[str, ...], kind: str, message: str) -> dict[str, Any]:
    return {"loc": list(loc), "msg": message, "type": kind}


def load_json(raw: bytes, limits: JsonLimits, *, loc: tuple[str, ...] = ("body",)) -> Any:
    """The JSON value of `raw`; JsonTooDeep (400) or ValidationFailed (422) for what it must not be."""
    if nests_deeper_than(raw, limits.max_depth):
        raise too_deep(limits.max_depth)
    try:
        value = json.loads(raw.decode("utf-8"), object_pairs_hook=_members, parse_int=_integer)
    except UnicodeDecodeError as error:
        raise ValidationFailed(
            errors=[_error((*loc, str(error.start)), "json_invalid", "Not UTF-8 text.")]
        ) from None
    except json.JSONDecodeError as error:
        raise ValidationFailed(
            errors=[_error((*loc, str(error.pos)), "json_invalid", "JSON decode error")]
        ) from None
    if found := _refusals(value, limits.max_string_length, loc):
        raise ValidationFailed(errors=found)
    return value
