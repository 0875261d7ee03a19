"""Run a command and measure it: wall seconds, CPU seconds and peak memory of its whole process tree.

Memory is sampled from /proc (Linux): `peak_rss_mib` is the largest sum of the resident sets of the
process and all its descendants seen at any sample (dbt runs as a child of `settld run`, so both count);
`max_process_rss_mib` is the kernel's exact peak of the largest single process (wait4's ru_maxrss).
"""

from __future__ import annotations

import os
import subprocess
import time
from pathlib import Path

PAGE_MIB = os.sysconf("SC_PAGE_SIZE") / 2**20
SAMPLE_SECONDS = 0.2


def _label(pid: int) -> str:
    """`program subcommand` of a process, e.g. `settld run` or `dbt build`."""
    try:
        argv = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
    except OSError:
        return "?"
    words = [Path(a.decode(errors="replace")).name for a in argv if a and not a.startswith(b"-")]
    if words and words[0].startswith("python") and len(words) > 1:
        words = words[1:]
    return " ".join(words[:2])


def _tree_rss_mib(root: int, by_label: dict[str, float]) -> float:
    """Resident memory of `root` and its descendants, from /proc/<pid>/stat and statm; also records
    the largest resident set seen per process label in `by_label`."""
    children: dict[int, list[int]] = {}
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            stat = Path(entry.path, "stat").read_text()
        except OSError:
            continue
        ppid = int(stat[stat.rindex(")") + 2 :].split()[1])
        children.setdefault(ppid, []).append(int(entry.name))
    total, stack = 0.0, [root]
    while stack:
        pid = stack.pop()
        stack.extend(children.get(pid, ()))
        try:
            rss = int(Path(f"/proc/{pid}/statm").read_text().split()[1]) * PAGE_MIB
        except (OSError, IndexError, ValueError):
            continue
        total += rss
        label = _label(pid)
        by_label[label] = max(by_label.get(label, 0.0), rss)
    return total


def measure(command: list[str], *, env: dict[str, str] | None = None, log: Path | None = None) -> dict:
    """Run `command` to completion (output to `log`, or discarded); return its figures."""
    sink = log.open("wb") if log else subprocess.DEVNULL
    started = time.perf_counter()
    try:
        process = subprocess.Popen(command, env=env, stdout=sink, stderr=subprocess.STDOUT)
        peak, by_label = 0.0, {}
        while True:
            pid, status, usage = os.wait4(process.pid, os.WNOHANG)
            if pid:
                break
            peak = max(peak, _tree_rss_mib(process.pid, by_label))
            time.sleep(SAMPLE_SECONDS)
        process.returncode = os.waitstatus_to_exitcode(status)
    finally:
        if log:
            sink.close()
    return {
        "seconds": round(time.perf_counter() - started, 2),
        "cpu_seconds": round(usage.ru_utime + usage.ru_stime, 2),
        "peak_rss_mib": round(max(peak, usage.ru_maxrss / 1024)),
        "max_process_rss_mib": round(usage.ru_maxrss / 1024),
        "peak_rss_mib_by_process": {k: round(v) for k, v in sorted(by_label.items()) if v >= 1},
        "exit_code": process.returncode,
    }
