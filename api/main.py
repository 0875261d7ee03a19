"""The FastAPI application: `create_app(settings)`; `api.main:app` for uvicorn (built on first access)."""

from __future__ import annotations

import importlib
import logging
import pkgutil
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from datetime import datetime
from typing import Any

from fastapi import APIRouter, FastAPI
from sqlalchemy.exc import SQLAlchemyError
from starlette.concurrency import run_in_threadpool

from api.core.database import Database, utc_now
from api.core.docs import install_offline_docs
from api.core.errors import database_unavailable, first_line, install_error_handlers
from api.core.middleware import install_middleware
from api.core.migrate import assert_schema_at_head
from api.core.settings import ApiSettings

logger = logging.getLogger("api.main")
DESCRIPTION = """Operator API of the Settld finance data platform: triage of reconciliation mismatches and
the audit log, period gate verdicts and period closes, invoices. Authenticate with `Authorization: Bearer sk_<keyId>.<secret>`; every write honours
`Idempotency-Key`; errors are problem documents with a machine-readable `code`."""


def create_app(settings: ApiSettings | None = None, *, clock: Callable[[], datetime] = utc_now) -> FastAPI:
    """The app; `clock` is what "now" means to it where a rule depends on time (idempotency retention)."""
    settings = settings or ApiSettings()
    database = Database(settings.database_url, timeouts=settings.database_timeouts)

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        if settings.check_schema_on_startup:
            await run_in_threadpool(check_schema_on_startup, database)
        yield
        database.dispose()

    app = FastAPI(title="Settld operator API", version="1.0.0", description=DESCRIPTION, lifespan=lifespan,
                  docs_url=None, redoc_url=None)  # fmt: skip
    app.state.settings = settings
    app.state.database = database
    app.state.clock = clock
    install_error_handlers(app)
    install_offline_docs(app)  # /docs and /redoc from api/static/, not a CDN
    install_middleware(app, settings)  # request ids, the last-resort 500, body limits
    for router in domain_routers():
        app.include_router(router)
    return app


def check_schema_on_startup(database: Database) -> None:
    """Refuse to start on a database at another migration (API_SCHEMA_OUTDATED: run `settld api migrate`
    first), but start on one that cannot be reached: the API then answers 503 DATABASE_UNAVAILABLE and
    `/readyz` fails until the database is back, rather than nothing serving at all."""
    try:
        assert_schema_at_head(database.engine)
    except SQLAlchemyError as error:
        if not database_unavailable(error):
            raise
        logger.warning("starting without the database (%s): every request that needs it answers 503 "
                       "until it is back; /readyz tells when", first_line(error))  # fmt: skip


def domain_routers() -> list[APIRouter]:
    """The routers of every domain package's `router.py` (`api/<domain>/router.py`, and any folder appended
    to `api.__path__`), in name order: its `routers` when a domain has several, else its `router`. A new
    domain needs no edit here."""
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
        routers.extend(getattr(routes, "routers", (routes.router,)))
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
