"""The README's fenced commands run as written (issue 31): on a demo of its own, with no variable set beyond
`SETTLD_HOME` (the temporary folder standing for a fresh clone after `make demo`) and the make targets'
`PATH`, the three questions, the API's block against a served API, and "Closing a month" end with a closed
period and a verified evidence bundle.

The demo is the session's pipeline run (`settld generate`, `settld api migrate`, `settld run` in a
temporary folder), copied into the layout `make demo` leaves: `warehouse/settld.duckdb`,
`warehouse/settld-api.sqlite3`, `artifacts/`, `data/landing/`, and `.venv` (a link to the repository's).
The README's markers (documented in its last section) say which blocks are not run, which need the API, and
which end with a command that exits 1 by design.
"""

from __future__ import annotations

import re
import socket
import subprocess
import time
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from tests.demo_home import REPO_ROOT, demo_environment, demo_home

README = REPO_ROOT / "README.md"
MARKER = re.compile(r"^<!-- readme-test: (?P<mode>skip|with the API|exits 1)\b.*-->$")
API_ADDRESS = "127.0.0.1:8000"
TENANT, PERIOD = "tnt_acme", "2026-10"


@dataclass(frozen=True)
class Block:
    line: int  # 1-based line of the opening fence
    language: str
    code: str
    mode: str  # "run", "skip", "with the API" or "exits 1"


def readme_blocks(text: str) -> list[Block]:
    lines, blocks, index = text.splitlines(), [], 0
    while index < len(lines):
        opening = re.match(r"^```(\S*)\s*$", lines[index])
        if not opening:
            index += 1
            continue
        end = next(i for i in range(index + 1, len(lines)) if lines[i].startswith("```"))
        marker = MARKER.match(lines[index - 1]) if index else None
        blocks.append(Block(index + 1, opening.group(1), "\n".join(lines[index + 1 : end]),
                            marker.group("mode") if marker else "run"))  # fmt: skip
        index = end + 1
    return blocks


def commands(code: str) -> list[str]:
    """The block's commands: continuation lines joined, blank and comment-only lines left out."""
    found, current = [], ""
    for line in code.splitlines():
        if not current and (not line.strip() or line.lstrip().startswith("#")):
            continue
        current += line + "\n"
        if not line.endswith("\\"):
            found.append(current.rstrip("\n"))
            current = ""
    return found


def test_every_fenced_block_is_bash_and_runs_or_says_why_not() -> None:
    blocks = readme_blocks(README.read_text())
    assert blocks, "no fenced blocks found"
    for block in blocks:
        assert block.language == "bash", f"README.md:{block.line}: fenced blocks are bash (or say skip)"
    runnable = [block for block in blocks if block.mode != "skip"]
    closing = README.read_text().split("## Closing a month", 1)[1].split("\n## ", 1)[0]
    assert any(block.code in closing for block in runnable), "the close section must run"
    for block in runnable:
        assert "<" not in block.code.replace("<<", ""), (
            f"README.md:{block.line}: a placeholder in a runnable block"
        )
        assert "export " not in block.code, f"README.md:{block.line}: nothing needs exporting"


@contextmanager
def _serving_api(home: Path, env: dict[str, str]):
    """`settld api serve` on a free port (as `make api` serves the demo's database); yields its address."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        address = f"127.0.0.1:{probe.getsockname()[1]}"
    server = subprocess.Popen([str(home / ".venv" / "bin" / "settld"), "api", "serve", "--port", address.split(":")[1]],
                              cwd=home, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)  # fmt: skip
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                httpx.get(f"http://{address}/readyz").raise_for_status()
                break
            except httpx.HTTPError:
                assert server.poll() is None and time.monotonic() < deadline, (
                    server.stderr and server.stderr.read()
                )
                time.sleep(0.2)
        yield address
    finally:
        server.terminate()
        server.wait(timeout=20)


def _bash(script: str, home: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["bash", "-c", "set -euo pipefail\n" + script], cwd=home, env=env,
                          capture_output=True, text=True, timeout=600, check=False)  # fmt: skip


def _run_block(block: Block, home: Path, env: dict[str, str]) -> str:
    where = f"README.md:{block.line}"
    if block.mode == "with the API":
        with _serving_api(home, env) as address:
            done = _bash(block.code.replace(API_ADDRESS, address), home, env)
    elif block.mode == "exits 1":
        *before, last = commands(block.code)
        done = _bash("\n".join(before) + f'\nset +e\n{last}\necho "readme-test: last exit $?"', home, env)
        assert done.stdout.rstrip().endswith("readme-test: last exit 1"), (
            f"{where}\n{done.stdout}\n{done.stderr}"
        )
    else:
        done = _bash(block.code, home, env)
    assert done.returncode == 0, (
        f"{where} failed ({done.returncode}):\n{done.stdout[-4000:]}\n{done.stderr[-4000:]}"
    )
    return done.stdout


@pytest.mark.slow
@pytest.mark.drill  # serves the API and closes a month on a copy of the demo: CI runs it with the drills
@pytest.mark.xdist_group("pipeline")
def test_the_readme_runs_as_written_and_closes_a_month(pipeline_run: dict, tmp_path: Path) -> None:
    from api.periods.verdicts import period_closes

    home = demo_home(pipeline_run, tmp_path / "clone")
    env = demo_environment(home)
    outputs = {block.line: _run_block(block, home, env)
               for block in readme_blocks(README.read_text()) if block.mode != "skip"}  # fmt: skip
    text = "\n".join(outputs.values())
    assert "frt_" in text and "Period gate 2026-10" in text and "Invoices 2026-10" in text
    bundle = next(line for line in text.splitlines() if line.startswith("OK ") and line.endswith("manifest"))
    assert bundle.split()[1].startswith(str(home / "artifacts" / "evidence" / TENANT / f"{PERIOD}-"))
    closes = period_closes(f"sqlite:///{home / 'warehouse' / 'settld-api.sqlite3'}", periods=[PERIOD])
    assert [(c["tenant_id"], c["status"]) for c in closes] == [(TENANT, "closed")]
