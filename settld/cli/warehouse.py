"""`settld warehouse digest`: one line per mart, `schema.table rows digest`, sorted, for `diff` between
two warehouses (settld/warehouse_digest.py). The warehouse is chosen as `settld run` chooses it. Also
`spark_cluster_drill`, which settld/cli/main.py registers as `settld drill spark-cluster`."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.markup import escape

warehouse_app = typer.Typer(no_args_is_help=True)


@warehouse_app.command("digest")
def digest(
    warehouse: Annotated[
        str | None,
        typer.Option(help="Warehouse path or URL (default: SETTLD_WAREHOUSE_URL), e.g. spark://local."),
    ] = None,
) -> None:
    """Print each mart's row count and order-independent digest, the same on DuckDB, Postgres and Spark."""
    from settld.settings import Settings, warehouse_target
    from settld.warehouse import WarehouseError, connect
    from settld.warehouse_digest import digest_lines

    settings = Settings(**({"warehouse_url": warehouse} if warehouse else {}))
    try:
        with connect(warehouse_target(settings.warehouse_url), read_only=True) as db:
            lines = digest_lines(db)
    except WarehouseError as error:
        Console(stderr=True).print(f"[red]Cannot read the warehouse:[/] {escape(str(error))}", soft_wrap=True)
        raise typer.Exit(2) from error
    for line in lines:
        print(line)


def spark_cluster_drill(
    landing: Annotated[
        Path | None, typer.Option(help="Landing zone to run (default: a small generated one).")
    ] = None,
    keep: Annotated[bool, typer.Option(help="Keep the drill's temporary folder (logs, warehouses).")] = False,
) -> None:
    """Start a Spark master, two workers and the Thrift server on loopback from pyspark's jars, run the
    pipeline through spark+thrift://, compare the mart digests with DuckDB's, stop what it started."""
    from settld.cli.drill_spark import run_cluster_drill

    raise typer.Exit(0 if run_cluster_drill(Console(), landing=landing, keep=keep) else 1)
