"""Hypothesis strategies for hostile requests to an OpenAPI operation (used by tests/api/test_api_fuzz.py).

A request is drawn for one hostile *kind*: lone surrogates, NUL, huge and overflowing numbers (2**63,
-2**63-1, 1e999, NaN), deep nesting, invalid UTF-8, very long strings, wrong types, duplicated keys,
non-ASCII header bytes. The hostile values go where the operation takes input (its body, whether it
declares one or not, and its path, query and header parameters), beside valid values drawn from the
operation's own schemas, so that a request reaches past validation as often as it stops there.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import string
import time
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote, quote_from_bytes

from hypothesis import strategies as st


@dataclass(frozen=True)
class Raw:
    """JSON text as it goes on the wire (it may be no valid JSON at all)."""

    text: bytes


@dataclass(frozen=True)
class Obj:
    """A JSON object as a list of members, so a key can appear twice (keys are str or Raw)."""

    members: tuple[tuple[Any, Any], ...]


def render(value: Any) -> bytes:
    if isinstance(value, Raw):
        return value.text
    if isinstance(value, Obj):
        return b"{" + b",".join(render(key) + b":" + render(member) for key, member in value.members) + b"}"
    if isinstance(value, list):
        return b"[" + b",".join(render(item) for item in value) + b"]"
    return json.dumps(value, ensure_ascii=True).encode()


def _json_texts(*texts: str | bytes) -> st.SearchStrategy[Raw]:
    return st.sampled_from([Raw(text.encode() if isinstance(text, str) else text) for text in texts])


def _deep(depth: int) -> Raw:
    return Raw(b"[" * depth + b"]" * depth)


# Per kind: hostile JSON values (None: the kind is not about JSON values) and hostile plain values for
# path, query and header parameters (None: nothing of the kind fits there).
JSON_VALUES: dict[str, st.SearchStrategy[Raw] | None] = {
    "lone_surrogate": _json_texts('"\\ud800"', '"a\\udfffb"', '"\\udc00\\ud800"', '"ok\\ud83d"'),
    "nul": _json_texts('"\\u0000"', '"a\\u0000b"'),
    "numbers": _json_texts(
        str(2**63),
        str(-(2**63) - 1),
        str(2**64),
        "1e999",
        "-1e999",
        "NaN",
        "Infinity",
        "-Infinity",
        "1e-999",
        "1" + "0" * 5000,
        "0.1e99999",
        "-0",
    ),  # fmt: skip
    "deep_nesting": st.sampled_from(
        [_deep(65), _deep(1_000), _deep(50_000), Raw(b'{"a":' * 5_000 + b"1" + b"}" * 5_000)]
    ),
    "invalid_utf8": _json_texts(b'"\xff"', b'"a\xc3("', b'"\xed\xa0\x80"', b'"\xf4\x90\x80\x80"', b"\xff"),
    "long_strings": st.sampled_from(
        [Raw(json.dumps(text).encode()) for text in ("a" * 16_385, "é" * 20_000, "x" * 300_000)]
    ),
    "wrong_types": _json_texts("true", "false", "null", "[]", "{}", '""', "0", "-1", "1.5", '"x"', "[null]"),
    "duplicate_keys": None,
    "header_bytes": None,
}
PLAIN_VALUES: dict[str, st.SearchStrategy[bytes] | None] = {
    "lone_surrogate": st.sampled_from([b"\xed\xa0\x80", b"a\xed\xbf\xbfb"]),
    "nul": st.sampled_from([b"\x00", b"a\x00b"]),
    "numbers": st.sampled_from(
        [str(2**63).encode(), str(-(2**63) - 1).encode(), b"1e999", b"NaN", b"-Infinity", b"9" * 5000]
    ),  # fmt: skip
    "deep_nesting": st.sampled_from([b"[" * 1_000, b"{" * 1_000]),
    "invalid_utf8": st.sampled_from([b"\xff", b"\xc3(", b"\xfe\xff"]),
    "long_strings": st.sampled_from([b"a" * 16_385, "é".encode() * 4_000]),  # httpx sends URLs up to 64 KiB
    "wrong_types": st.sampled_from([b"", b"true", b"[]", b"{}", b"-1", b"1.5", b"null"]),
    "duplicate_keys": None,  # a query parameter twice: see `query`
    "header_bytes": None,
}
HEADER_BYTES = st.sampled_from([b"\xe9", "é".encode(), b"\x80\xff", b"t=1,v1=\xe9", b"Bearer sk_\xff.\xff",
                                b"application/json; charset=\xff", b"\xff" * 4_000, b"a\tb c"])  # fmt: skip
EVERY_ROUTE_HEADERS = ("Authorization", "Content-Type", "X-Request-Id")
CONTENT_TYPES = st.sampled_from([b"application/json", b"text/plain", b"application/x+json"])
KINDS = tuple(JSON_VALUES)
# Member names a body without a schema of its own (the Stripe webhook's) is likely to read.
COMMON_KEYS = (
    "id",
    "type",
    "object",
    "created",
    "data",
    "metadata",
    "status",
    "customer",
    "amount",
    "reason",
)
# Values for those members: of no hostile kind (text, integers an int64 holds, an object), so that what a
# request shows is its kind's.
PLAUSIBLE = st.one_of(st.text(string.ascii_letters + "_.", max_size=12), st.integers(0, 2**40),
                      st.just({"object": {"id": "obj_1", "metadata": {"tenant_id": "acme"}}}))  # fmt: skip
SIGNATURE_HEADER = "Stripe-Signature"
ASCII_KEY = st.text(string.ascii_letters + string.digits + "-_.:", min_size=1, max_size=40)


@dataclass
class Operation:
    """An OpenAPI operation with its schemas resolved against the document's components."""

    method: str
    path: str
    spec: dict[str, Any]
    components: dict[str, Any] = field(repr=False)

    def resolve(self, schema: dict[str, Any]) -> dict[str, Any]:
        while "$ref" in schema:
            schema = self.components[schema["$ref"].rsplit("/", 1)[1]]
        return schema

    def parameters(self, location: str) -> list[dict[str, Any]]:
        return [p for p in self.spec.get("parameters", []) if p["in"] == location]

    def body_schema(self) -> dict[str, Any] | None:
        content = self.spec.get("requestBody", {}).get("content", {})
        schema = content.get("application/json", {}).get("schema")
        return None if schema is None else self.resolve(schema)


def valid(operation: Operation, schema: dict[str, Any]) -> st.SearchStrategy[Any]:
    """Values the schema admits (roughly: enough to get past validation often)."""
    schema = operation.resolve(schema)
    options = schema.get("anyOf") or schema.get("oneOf")
    if options:
        return st.one_of([valid(operation, option) for option in options])
    if "enum" in schema or "const" in schema:
        return st.sampled_from(schema.get("enum") or [schema["const"]])
    kind = schema.get("type")
    if kind == "string" and "pattern" in schema:
        matching = st.from_regex(schema["pattern"], fullmatch=True)
        return st.sampled_from(schema["examples"]) | matching if schema.get("examples") else matching
    if kind == "string":
        return st.text(string.ascii_letters + " -_:", min_size=1, max_size=int(schema.get("maxLength", 30)))
    if kind == "integer":
        return st.integers(int(schema.get("minimum", -10)), int(min(schema.get("maximum", 100), 10**6)))
    if kind == "number":
        return st.floats(allow_nan=False, allow_infinity=False)
    if kind == "boolean":
        return st.booleans()
    if kind == "null":
        return st.none()
    if kind == "array":
        return st.lists(valid(operation, schema.get("items", {})), max_size=3)
    return st.just("x")


@st.composite
def hostile_json(draw: st.DrawFn, kind: str) -> Any:
    """A JSON value of `kind`: a hostile leaf alone, in a list, as a member's value or as a key."""
    if kind == "duplicate_keys":
        key = draw(st.sampled_from(COMMON_KEYS) | ASCII_KEY)
        return Obj(((key, draw(st.integers())), (key, draw(st.text(max_size=5)))))
    leaf = draw(JSON_VALUES[kind])
    wrap = draw(st.sampled_from(["leaf", "list", "member", "key"]))
    if wrap == "list":
        return [1, leaf, "x"]
    if wrap == "member":
        return Obj(((draw(st.sampled_from(COMMON_KEYS)), leaf),))
    if wrap == "key" and leaf.text.startswith(b'"'):
        return Obj(((leaf, 1),))
    return leaf


@st.composite
def body(draw: st.DrawFn, operation: Operation, kind: str | None) -> bytes:
    """The operation's body (members of its schema, or common names if it has none) with valid values,
    and, for a `kind`, one hostile member among them or the whole body hostile."""
    properties = (operation.body_schema() or {}).get("properties", {})
    names = list(properties) or list(COMMON_KEYS)
    members = [(name, draw(valid(operation, properties[name]) if properties else PLAUSIBLE)) for name in names
               if draw(st.booleans())]  # fmt: skip
    if kind is not None and draw(st.integers(0, 4)) == 0:
        return render(draw(hostile_json(kind)))
    if kind is not None:
        hostile = (draw(st.sampled_from(names)), draw(hostile_json(kind)))
        members.insert(draw(st.integers(0, len(members))), hostile)
    return render(Obj(tuple(members)))


def _plain(value: Any) -> bytes:
    return (value if isinstance(value, str) else json.dumps(value)).encode()


@st.composite
def url(draw: st.DrawFn, operation: Operation, kind: str, target: str) -> str:
    """The path and a query string with valid values, except a hostile one (of `kind`) for the parameter
    named `target`; for `duplicate_keys`, that query parameter twice."""
    plain = PLAIN_VALUES[kind]

    def value(parameter: dict[str, Any]) -> str:
        hostile = plain is not None and parameter["name"] == target
        raw = draw(plain) if hostile else _plain(draw(valid(operation, parameter.get("schema", {}))))
        return quote_from_bytes(raw, safe="") or "%20"

    path = operation.path
    for parameter in operation.parameters("path"):
        path = path.replace("{" + parameter["name"] + "}", value(parameter))
    query = [p for p in operation.parameters("query") if p["name"] == target or draw(st.booleans())]
    pairs = [(quote(parameter["name"], safe=""), value(parameter)) for parameter in query]
    if kind == "duplicate_keys":
        pairs += [(name, quote_from_bytes(draw(PLAIN_VALUES["wrong_types"]), safe="")) for name, _ in pairs
                  if name == target]  # fmt: skip
    return path + ("?" + "&".join(f"{name}={value}" for name, value in pairs) if pairs else "")


@st.composite
def headers(
    draw: st.DrawFn, operation: Operation, kind: str, credentials: dict[str, bytes]
) -> dict[str, bytes]:
    """Some declared header parameters with valid values, a content type, the credentials; for
    `header_bytes`, non-ASCII bytes in one of them or in a header every route reads."""
    declared = [p for p in operation.parameters("header") if draw(st.booleans())]
    drawn = {p["name"]: _plain(draw(valid(operation, p["schema"]))).decode().encode("latin-1", "replace")
             for p in declared}  # fmt: skip
    if draw(st.booleans()):
        drawn["Content-Type"] = draw(CONTENT_TYPES)
    drawn.update(credentials)
    if kind == "header_bytes":
        names = [p["name"] for p in operation.parameters("header")] + list(EVERY_ROUTE_HEADERS)
        drawn[draw(st.sampled_from(names))] = draw(HEADER_BYTES)
    return drawn


@dataclass(frozen=True)
class Request:
    method: str
    url: str
    headers: dict[str, bytes]
    body: bytes | None

    def __str__(self) -> str:
        shown = (self.body or b"")[:200]
        return f"{self.method} {self.url[:200]} headers={self.headers!r:.300} body={shown!r}"


def stripe_signature(body: bytes, secret: str) -> bytes:
    """Stripe's scheme (v1 = HMAC-SHA256 of "<t>.<body>"), over the bytes as sent, valid UTF-8 or not."""
    timestamp = int(time.time())
    digest = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={digest}".encode()


@st.composite
def hostile_request(draw: st.DrawFn, operation: Operation, kind: str, *, token: str, secret: str) -> Request:
    """A request of `kind` to the operation: its hostile part in the body (declared or not), in one path
    or query parameter, or (`header_bytes`) in a header; half the time with valid credentials: the key
    where the operation declares `security`, a signature where it takes a `Stripe-Signature` header."""
    query = [p["name"] for p in operation.parameters("query")]
    parameters = (
        [p["name"] for p in operation.parameters("path")] + query if PLAIN_VALUES[kind] is not None else []
    )
    parameters = query if kind == "duplicate_keys" else parameters
    target = "headers" if kind == "header_bytes" else draw(st.sampled_from(["body", *parameters]))
    content = None
    if target == "body" or operation.body_schema() is not None or draw(st.booleans()):
        content = draw(body(operation, kind if target == "body" else None))
    credentials = {}
    if draw(st.booleans()):
        if operation.spec.get("security"):
            credentials["Authorization"] = f"Bearer {token}".encode()
        if any(p["name"] == SIGNATURE_HEADER for p in operation.parameters("header")):
            credentials[SIGNATURE_HEADER] = stripe_signature(content or b"", secret)
    return Request(operation.method, draw(url(operation, kind, target)), draw(headers(operation, kind, credentials)),
                   content)  # fmt: skip
