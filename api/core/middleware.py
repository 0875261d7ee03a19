"""The app's ASGI middleware, outermost first (`install_middleware`):

- `RequestIdMiddleware`: the request id, taken from `X-Request-Id` when it is sane, generated otherwise,
  echoed on every response;
- `UnhandledErrorMiddleware`: the last resort. An exception no handler answered is logged and answered
  with a 500 problem document that closes its connection (`Connection: close`), instead of escaping to
  the server, which would log it again and drop the connection under the client's next request;
- `RequestLimitsMiddleware`: the body is read here, before any route or library parses it, and refused
  when it is larger than `max_body_bytes` (413 BODY_TOO_LARGE) or nests deeper than `max_json_depth`
  (400 JSON_TOO_DEEP); otherwise it is handed on unchanged.
"""

from __future__ import annotations

import logging
import re
import uuid
from typing import Any

from fastapi import FastAPI
from starlette.requests import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api.core.errors import BodyTooLarge, InternalError, Problem, problem_response
from api.core.request_json import nests_deeper_than, too_deep
from api.core.settings import ApiSettings

logger = logging.getLogger("api.errors")
REQUEST_ID_HEADER = b"x-request-id"
REQUEST_ID_PATTERN = re.compile(r"^[A-Za-z0-9._:\-]{1,128}$")
# Bodies whose brackets mean nothing: form and binary encodings are never parsed as JSON.
NOT_JSON_MEDIA_TYPES = frozenset({"multipart/form-data", "application/x-www-form-urlencoded", "application/octet-stream"})  # fmt: skip


def new_request_id() -> str:
    return f"req_{uuid.uuid4().hex}"


def install_middleware(app: FastAPI, settings: ApiSettings) -> None:
    """Add the middleware above (Starlette runs the one added last first)."""
    app.add_middleware(RequestLimitsMiddleware, max_body_bytes=settings.max_body_bytes,
                       max_json_depth=settings.max_json_depth)  # fmt: skip
    app.add_middleware(UnhandledErrorMiddleware)
    app.add_middleware(RequestIdMiddleware)


class RequestIdMiddleware:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        supplied = dict(scope.get("headers") or []).get(REQUEST_ID_HEADER, b"").decode("latin-1")
        request_id = supplied if REQUEST_ID_PATTERN.match(supplied) else new_request_id()
        state: dict[str, Any] = scope.setdefault("state", {})
        state["request_id"] = request_id

        async def send_with_id(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = [(k, v) for k, v in message.get("headers", []) if k.lower() != REQUEST_ID_HEADER]
                headers.append((REQUEST_ID_HEADER, request_id.encode("latin-1")))
                message["headers"] = headers
            await send(message)

        await self.app(scope, receive, send_with_id)


async def _answer(problem: Problem, scope: Scope, receive: Receive, send: Send) -> None:
    await problem_response(Request(scope), problem)(scope, receive, send)


class UnhandledErrorMiddleware:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        progress = {"started": False, "complete": False}

        async def tracking_send(message: Message) -> None:
            if message["type"] == "http.response.start":
                progress["started"] = True
            elif message["type"] == "http.response.body" and not message.get("more_body", False):
                progress["complete"] = True
            await send(message)

        try:
            await self.app(scope, receive, tracking_send)
        except Exception:
            request_id = scope.get("state", {}).get("request_id")
            logger.exception(
                "unhandled error on %s %s (request %s)", scope["method"], scope["path"], request_id
            )
            if progress["started"] and not progress["complete"]:
                raise  # half a response is out: only the server can end it, by closing the connection
            if not progress["started"]:
                await _answer(InternalError(), scope, receive, send)


class RequestLimitsMiddleware:
    def __init__(self, app: ASGIApp, *, max_body_bytes: int, max_json_depth: int) -> None:
        self.app = app
        self.max_body_bytes, self.max_json_depth = max_body_bytes, max_json_depth

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        body = None if _declared_length(scope) > self.max_body_bytes else await self._read(receive)
        if body is None:
            too_large = BodyTooLarge(f"The body is larger than {self.max_body_bytes} bytes.",
                                     max_body_bytes=self.max_body_bytes)  # fmt: skip
            await _answer(too_large, scope, receive, send)
            return
        if body and _may_be_json(scope) and nests_deeper_than(body, self.max_json_depth):
            await _answer(too_deep(self.max_json_depth), scope, receive, send)
            return
        await self.app(scope, _replaying(body, receive), send)

    async def _read(self, receive: Receive) -> bytes | None:
        """The whole body, or None as soon as it passes the limit (the rest is left unread)."""
        chunks, size = [], 0
        while True:
            message = await receive()
            if message["type"] != "http.request":  # the client went away: hand on what came
                break
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > self.max_body_bytes:
                return None
            chunks.append(chunk)
            if not message.get("more_body", False):
                break
        return b"".join(chunks)


def _header(scope: Scope, name: bytes) -> str | None:
    for key, value in scope.get("headers") or []:
        if key.lower() == name:
            return value.decode("latin-1")
    return None


def _declared_length(scope: Scope) -> int:
    """Content-Length as a number (0 when absent or not one: the bytes are counted as they come)."""
    declared = (_header(scope, b"content-length") or "").strip()
    if not (declared.isascii() and declared.isdigit()):
        return 0
    return int(declared) if len(declared) <= 18 else 10**18


def _may_be_json(scope: Scope) -> bool:
    media_type = (_header(scope, b"content-type") or "").split(";")[0].strip().lower()
    return media_type not in NOT_JSON_MEDIA_TYPES


def _replaying(body: bytes, receive: Receive) -> Receive:
    """A `receive` that gives the body read above once, then defers to the server's (disconnects)."""
    delivered = False

    async def replay() -> Message:
        nonlocal delivered
        if delivered:
            return await receive()
        delivered = True
        return {"type": "http.request", "body": body, "more_body": False}

    return replay
