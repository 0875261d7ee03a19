"""Settld operator API: FastAPI service over its own transactional database (SQLAlchemy 2 + Alembic).

Imports only `settld.core` and `settld.settings` from the rest of the platform; dbt reads its tables as sources.
"""
