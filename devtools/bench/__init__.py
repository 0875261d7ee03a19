"""`settld bench`: reconciliation at scale, timed against a hand-written DuckDB floor.

`floor.sql` computes the money-rail mismatch set straight from the landing Parquet files in one query;
`floor.py` runs it in its own process; `measure.py` times a process tree and samples its memory.
"""
