"""A throwaway PostgreSQL server, for a test session or a demo (`make demo-postgres`).

`initdb` and `pg_ctl` refuse to run as root, so when the tests run as root (CI, these machines) both run as
the `postgres` OS user through `runuser`, in a fresh directory under /tmp that the user owns. The server is
tuned for tests (trust auth, loopback only, no fsync), listens on a free port, keeps its unix socket inside
that directory, and is stopped and deleted when the context manager exits.

    with running_server() as url:  # postgresql+psycopg://postgres@127.0.0.1:PORT/postgres
        ...

`PostgresNotInstalled` means no binaries were found under /usr/lib/postgresql/*/bin (Debian's layout);
any other failure to start raises `PostgresStartError` with the tail of the server log.
"""

from __future__ import annotations

import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

BINARY_ROOT = Path("/usr/lib/postgresql")
OS_USER = "postgres"
SUPERUSER = "postgres"
SETTINGS = {
    "listen_addresses": "'127.0.0.1'",
    "fsync": "off",
    "full_page_writes": "off",
    "synchronous_commit": "off",
}


class PostgresNotInstalled(RuntimeError):
    """No PostgreSQL server binaries on this machine."""


class PostgresStartError(RuntimeError):
    """The binaries exist but the server did not start."""


def find_bindir(root: Path | None = None) -> Path:
    """The newest `/usr/lib/postgresql/<version>/bin` holding initdb, pg_ctl and postgres."""
    root = root or BINARY_ROOT

    def version(bindir: Path) -> tuple[int, ...]:
        return tuple(int(part) for part in bindir.parent.name.split(".") if part.isdigit())

    candidates = [
        bindir
        for bindir in root.glob("*/bin")
        if all((bindir / tool).is_file() for tool in ("initdb", "pg_ctl", "postgres"))
    ]
    if not candidates:
        raise PostgresNotInstalled(
            f"no PostgreSQL server binaries under {root}/*/bin (initdb, pg_ctl, postgres); install them with "
            "`apt-get install -y --no-install-recommends postgresql` (.ci/run does this on CI)"
        )
    return max(candidates, key=version)


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def as_server_user() -> list[str]:
    """The command prefix that runs a tool as the OS user owning the cluster (root cannot)."""
    if os.geteuid() != 0:
        return []
    if shutil.which("runuser") is None:
        raise PostgresStartError("running as root, but `runuser` (util-linux) is missing")
    return ["runuser", "-u", OS_USER, "--"]


def _run(command: list[str], *, cwd: Path, timeout: float) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        command,
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
        stdin=subprocess.DEVNULL,
    )


def _log_tail(log: Path, lines: int = 20) -> str:
    try:
        return "\n".join(log.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return "(no server log)"


def _wait_for_connections(port: int, deadline: float, log: Path) -> None:
    import psycopg

    conninfo = f"host=127.0.0.1 port={port} user={SUPERUSER} dbname=postgres connect_timeout=2"
    while True:
        try:
            with psycopg.connect(conninfo) as connection:
                connection.execute("SELECT 1")
                return
        except psycopg.OperationalError as error:
            if time.monotonic() > deadline:
                raise PostgresStartError(
                    f"PostgreSQL on port {port} did not accept connections: {error}\n{_log_tail(log)}"
                ) from error
            time.sleep(0.05)


@contextmanager
def running_server(
    *, bindir: Path | None = None, parent: str = "/tmp", startup_timeout: float = 60.0
) -> Iterator[str]:
    """Start a fresh server in a new directory under `parent` (which the `postgres` user must be able to
    traverse), yield its SQLAlchemy URL (database `postgres`), then stop it and delete the directory."""
    bindir = bindir or find_bindir()
    prefix = as_server_user()
    root = Path(tempfile.mkdtemp(prefix="settld-pg-", dir=parent))
    data, log = root / "data", root / "server.log"
    try:
        if prefix:
            try:
                account = pwd.getpwnam(OS_USER)
            except KeyError:
                raise PostgresStartError(
                    f"running as root, but there is no `{OS_USER}` OS user to run the server as "
                    "(the Debian `postgresql` package creates it)"
                ) from None
            os.chown(root, account.pw_uid, account.pw_gid)
        initdb = _run(
            [*prefix, str(bindir / "initdb"), "-D", str(data), "-U", SUPERUSER, "-A", "trust",
             "--encoding=UTF8", "--locale=C", "--no-sync"],
            cwd=root, timeout=startup_timeout,
        )  # fmt: skip
        if initdb.returncode != 0:
            raise PostgresStartError(f"initdb failed ({initdb.returncode}):\n{initdb.stdout}{initdb.stderr}")
        settings = {**SETTINGS, "unix_socket_directories": f"'{root}'"}
        with (data / "postgresql.conf").open("a") as conf:
            conf.write("\n# settld test server\n")
            conf.writelines(f"{name} = {value}\n" for name, value in settings.items())

        deadline = time.monotonic() + startup_timeout
        for attempt in range(5):  # another process may take the free port between probe and bind
            port = _free_port()
            start = _run(
                [*prefix, str(bindir / "pg_ctl"), "-D", str(data), "-l", str(log), "-o", f"-p {port}",
                 "-w", "-t", str(int(startup_timeout)), "start"],
                cwd=root, timeout=startup_timeout + 10,
            )  # fmt: skip
            if start.returncode == 0:
                break
            if "could not bind" not in _log_tail(log) or attempt == 4:
                raise PostgresStartError(
                    f"pg_ctl start failed ({start.returncode}):\n{start.stdout}{start.stderr}\n{_log_tail(log)}"
                )
        _wait_for_connections(port, deadline, log)
        yield f"postgresql+psycopg://{SUPERUSER}@127.0.0.1:{port}/postgres"
    finally:
        if (data / "postmaster.pid").exists():  # also after a failed or timed-out start
            stop = [*prefix, str(bindir / "pg_ctl"), "-D", str(data), "-w", "-t", "30", "stop"]
            if _run([*stop, "-m", "fast"], cwd=root, timeout=40).returncode != 0:
                _run([*stop, "-m", "immediate"], cwd=root, timeout=40)
        shutil.rmtree(root, ignore_errors=True)


def create_database(server_url: str, name: str) -> str:
    """Create database `name` (UTF-8, C collation: text orders byte-wise, as on DuckDB) and return its URL."""
    import psycopg

    conninfo = server_url.replace("postgresql+psycopg://", "postgresql://")
    with psycopg.connect(conninfo, autocommit=True) as connection:
        exists = connection.execute("select 1 from pg_database where datname = %s", [name]).fetchone()
        if not exists:
            connection.execute(f"create database \"{name}\" template template0 encoding 'UTF8' locale 'C'")
    return server_url.rsplit("/", 1)[0] + f"/{name}"


def run_with_server(command: list[str]) -> int:
    """Run `command` against a throwaway server: SETTLD_WAREHOUSE_URL names database `settld`, and
    SETTLD_API_DATABASE_URL the same database's `operator_api` schema (how production is laid out)."""
    with running_server() as server_url:
        database = create_database(server_url, "settld")
        env = {
            **os.environ,
            "SETTLD_WAREHOUSE_URL": database.replace("postgresql+psycopg://", "postgresql://"),
            "SETTLD_API_DATABASE_URL": database + "?options=-csearch_path%3Doperator_api",
        }
        print(f"PostgreSQL up: {env['SETTLD_WAREHOUSE_URL']} (stopped and deleted when the command ends)")
        return subprocess.run(command, env=env, check=False).returncode


if __name__ == "__main__":
    # python -m devtools.postgres_server [COMMAND ...]: with a command, run it against a throwaway server
    # (make demo-postgres); without one, start, connect and stop (a manual check).
    import sys

    if len(sys.argv) > 1:
        raise SystemExit(run_with_server(sys.argv[1:]))
    started_at = time.monotonic()
    with running_server() as server_url:
        print(f"{server_url} up in {time.monotonic() - started_at:.2f}s")
