"""One subpackage per domain; each exposes `defs`, a `dagster.Definitions` of its assets, checks, jobs,
schedules and sensors. `orchestration/definitions.py` finds them all: a new domain needs no edit elsewhere."""
