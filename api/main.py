"""The FastAPI application: `create_app(settings)`; `api.main:app` for uvicorn (built on first access)."""

from __future__ import annotations

import importlib
import pkgutil
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import APIRouter, FastAPI
from starlette.concurrency import run_in_threadpool

from api.core.database import Database
from api.core.docs import install_offline_docs
from api.core.errors import install_error_handlers
from api.core.middleware import install_middleware
from api.core.migrate import assert_schema_at_head
from api.core.settings import ApiSettings

DESCRIPTION = """Operator API of the Settld finance data platform: triage of reconciliation mismatches and
the audit log, period gate verdicts and period closes, invoices. Authenticate with `Authorization: Bearer sk_<keyId>.<secret>`; every write honours
`Idempotency-Key`; errors are problem documents with a machine-readable `code`."""


def create_app(settings: ApiSettings | None = None) -> FastAPI:
    settings = settings or ApiSettings()
    database = Database(settings.database_url, sqlite_busy_timeout=settings.sqlite_busy_timeout)

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        if settings.check_schema_on_startup:  # API_SCHEMA_OUTDATED: run `settld api migrate` first
            await run_in_threadpool(assert_schema_at_head, database.engine)
        yield
        database.dispose()

    app = FastAPI(title="Settld operator API", version="1.0.0", description=DESCRIPTION, lifespan=lifespan,
                  docs_url=None, redoc_url=None)  # fmt: skip
    app.state.settings = settings
    app.state.database = database
    install_error_handlers(app)
    install_offline_docs(app)  # /docs and /redoc from api/static/, not a CDN
    install_middleware(app, settings)  # request ids, the last-resort 500, body limits
    for router in domain_routers():
        app.include_router(router)
    return app


def domain_routers() -> list[APIRouter]:
    """`router` of every domain package's `router.py` (`api/<domain>/router.py`, and any folder appended to
    `api.__path__`), in name order: a new domain needs no edit here."""
    import api

    routers = []
    for module in sorted(pkgutil.iter_modules(api.__path__), key=lambda m: m.name):
        if not module.ispkg:
            continue
        name = f"{api.__name__}.{module.name}.router"
        try:
            routes = importlib.import_module(name)
        except ModuleNotFoundError as missing:
            if missing.name != name:
                raise
            continue  # a package without routes (core, idempotency, migrations, ...)
        routers.append(routes.router)
    return routers


_default_app: FastAPI | None = None


def __getattr__(name: str) -> Any:
    """`api.main.app`, created on first access so importing this module has no side effects."""
    global _default_app
    if name == "app":
        if _default_app is None:
            _default_app = create_app()
        return _default_app
    raise AttributeError(name)
