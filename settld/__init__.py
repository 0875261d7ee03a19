"""Shared helpers every part of the platform may import (hashing, periods, settings) and the CLI.

Keep this package tiny: business rules live in dbt, loaders in `ingestion/`, wiring in `orchestration/`.
"""
