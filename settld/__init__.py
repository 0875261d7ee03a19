"""The shared kernel every stage may import (canonical JSON and hashes, periods, settings, warehouse
connections, shared vocabulary) and the CLI (`settld/cli/`), the one entry point that composes the stages.

Keep the kernel tiny and free of project imports: business rules live in dbt, loaders in `ingestion/`,
wiring in `orchestration/`, artifact writers in `reports/`, tooling in `devtools/`.
"""
