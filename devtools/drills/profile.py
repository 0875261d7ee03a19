"""Where the throughput drill's time goes: CPU seconds of each party (the API's workers, Postgres, locust)
from /proc while the load runs, and optionally a py-spy sampling profile of the API's workers summarised by
layer (`--profile`; py-spy must be installed: `uv pip install --python .venv/bin/python py-spy`).

    meter = CpuMeter({"api": server_pid, "postgres": postmaster_pid})
    ...load...
    figures = meter.figures(extra={"locust": locust_cpu_seconds})
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

TICKS = os.sysconf("SC_CLK_TCK")
# The first folder of a frame's file (py-spy prints paths relative to sys.path) -> its layer; the rest is
# "other" (the standard library and small packages).
LAYERS = {
    "api": "the project (api/, settld/, reports/)", "settld": "the project (api/, settld/, reports/)",
    "reports": "the project (api/, settld/, reports/)", "sqlalchemy": "sqlalchemy", "psycopg": "psycopg",
    "pydantic": "pydantic", "pydantic_core": "pydantic", "fastapi": "fastapi/starlette",
    "starlette": "fastapi/starlette", "uvicorn": "uvicorn/h11/asyncio", "h11": "uvicorn/h11/asyncio",
    "httptools": "uvicorn/h11/asyncio", "asyncio": "uvicorn/h11/asyncio", "threading.py": "thread hand-off (threading, anyio)",
    "anyio": "thread hand-off (threading, anyio)", "stripe": "stripe", "json": "json",
}  # fmt: skip


def _children(parent: int) -> list[int]:
    from devtools.postgres_faults import _children as children

    return children(parent)


def process_tree(root: int) -> list[int]:
    found, stack = [], [root]
    while stack:
        pid = stack.pop()
        found.append(pid)
        stack.extend(_children(pid))
    return found


def cpu_seconds(pids: list[int]) -> float:
    total = 0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += int(fields[11]) + int(fields[12])  # utime, stime (fields 14 and 15 of stat)
    return total / TICKS


class CpuMeter:
    """CPU seconds used by each named process tree between construction and `figures()`."""

    def __init__(self, roots: dict[str, int]) -> None:
        self.roots = roots
        self.started = time.monotonic()
        self.before = {name: cpu_seconds(process_tree(pid)) for name, pid in roots.items()}

    def figures(self, *, extra: dict[str, float] | None = None) -> dict:
        wall = time.monotonic() - self.started
        used = {name: cpu_seconds(process_tree(pid)) - self.before[name] for name, pid in self.roots.items()}
        used.update(extra or {})
        return {
            "wall_seconds": round(wall, 1),
            "machine_cpu_seconds_available": round(wall * (os.cpu_count() or 1), 1),
            # negative: the tree was replaced meanwhile (Postgres restarted by the incident): not measured
            "cpu_seconds": {
                name: round(value, 1) if value >= 0 else None for name, value in sorted(used.items())
            },
            "note": "the API's and Postgres' trees are read at the end: processes that exited meanwhile "
            "(backends before an outage) are missing",
        }


def start_profile(server_pid: int, seconds: int, output: Path) -> subprocess.Popen | None:
    """py-spy on the API's process tree for `seconds`, only samples holding the GIL (the Python CPU time; waits
    on Postgres and idle threads are not counted). None when py-spy is not installed."""
    py_spy = shutil.which("py-spy") or str(Path(sys.executable).with_name("py-spy"))
    if not Path(py_spy).is_file():
        return None
    command = [py_spy, "record", "--pid", str(server_pid), "--subprocesses", "--duration", str(seconds),
               "--rate", "50", "--gil", "--format", "raw", "--output", str(output), "--nonblocking"]  # fmt: skip
    return subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def _layer(frame: str) -> str:
    found = re.search(r"\(([^:()]+):\d+\)$", frame)
    path = found.group(1) if found else ""
    first = path.split("site-packages/")[-1].split("/")[0]
    return LAYERS.get(first) or LAYERS.get(path.rsplit("/", 1)[-1]) or "other"


def summarise_profile(collapsed: Path, top: int = 15) -> dict:
    """From py-spy's collapsed stacks: the share of samples whose innermost frame is in each layer (self
    time), and the hottest innermost functions."""
    layers: Counter[str] = Counter()
    leaves: Counter[str] = Counter()
    total = 0
    for line in collapsed.read_text(errors="replace").splitlines():
        stack, _, count = line.rpartition(" ")
        if not stack or not count.isdigit():
            continue
        frames = [frame for frame in stack.split(";") if not frame.startswith("process ")]
        leaf = frames[-1] if frames else "?"
        layers[_layer(leaf)] += int(count)
        leaves[leaf] += int(count)
        total += int(count)
    share = {name: round(100 * count / total, 1) for name, count in layers.most_common()} if total else {}
    hottest = [
        {"frame": frame[:160], "percent": round(100 * count / total, 1)}
        for frame, count in leaves.most_common(top)
    ]
    return {"samples": total, "self_percent_by_layer": share, "hottest_frames": hottest}
