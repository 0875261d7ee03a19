"""Faults of a running PostgreSQL server, for drills: freeze it (SIGSTOP on the postmaster and every process
it forked, as a partition or an overloaded host looks to a client: connections open, nothing answers), thaw
it, stop it and start it again on the same port.

    with running_server() as url:                 # devtools/postgres_server.py
        server = PostgresFaults.of(url)
        with server.frozen():                     # SIGCONT when the block ends, even on failure
            ...
        server.stop()                             # refused connections
        server.start()

It works on the server of `running_server` (the same machine; as root it runs pg_ctl as the `postgres`
user, as `running_server` does).
"""

from __future__ import annotations

import os
import signal
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path

from devtools.postgres_server import as_server_user, find_bindir


def _children(parent: int) -> list[int]:
    """The processes whose parent is `parent` (Linux /proc)."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:  # gone meanwhile
            continue
        # pid (comm) state ppid ...: comm may hold spaces and parentheses, so split after the last ")"
        if int(stat.rsplit(")", 1)[1].split()[1]) == parent:
            found.append(int(entry.name))
    return sorted(found)


@dataclass(frozen=True)
class PostgresFaults:
    data_directory: Path
    port: int

    @classmethod
    def of(cls, server_url: str) -> PostgresFaults:
        """The server behind a SQLAlchemy or libpq URL (asked for its data directory and port)."""
        import psycopg

        conninfo = server_url.replace("postgresql+psycopg://", "postgresql://")
        with psycopg.connect(conninfo, autocommit=True, connect_timeout=5) as connection:
            data = connection.execute("show data_directory").fetchone()
            port = connection.execute("show port").fetchone()
        assert data is not None and port is not None
        return cls(Path(data[0]), int(port[0]))

    def postmaster_pid(self) -> int:
        return int((self.data_directory / "postmaster.pid").read_text().splitlines()[0])

    def processes(self) -> list[int]:
        """The postmaster, then every process it forked (backends, checkpointer, walwriter, ...)."""
        postmaster = self.postmaster_pid()
        return [postmaster, *_children(postmaster)]

    def freeze(self) -> list[int]:
        """SIGSTOP the postmaster first (it forks no new backend), then its children; returns the pids."""
        stopped = []
        for pid in self.processes():
            try:
                os.kill(pid, signal.SIGSTOP)
                stopped.append(pid)
            except ProcessLookupError:
                pass
        return stopped

    @staticmethod
    def thaw(pids: list[int]) -> None:
        for pid in reversed(pids):
            with suppress(ProcessLookupError):
                os.kill(pid, signal.SIGCONT)

    @contextmanager
    def frozen(self) -> Iterator[list[int]]:
        pids = self.freeze()
        try:
            yield pids
        finally:
            self.thaw(pids)

    def _pg_ctl(self, *args: str) -> None:
        command = [*as_server_user(), str(find_bindir() / "pg_ctl"), "-D", str(self.data_directory), *args]
        subprocess.run(command, check=True, capture_output=True, timeout=90, stdin=subprocess.DEVNULL)

    def stop(self) -> None:
        """Stop the server (fast: open connections are ended); clients are refused until `start`."""
        self._pg_ctl("-w", "-t", "60", "-m", "fast", "stop")

    def start(self) -> None:
        """Start it again on the same port, with the same settings, logging beside the data directory."""
        log = self.data_directory.parent / "server.log"
        self._pg_ctl("-w", "-t", "60", "-l", str(log), "-o", f"-p {self.port}", "start")
