"""Two closes of the same inputs give the same evidence bundle, byte for byte (issue 27).

Two homes, as two machines would have them after `make demo`: the first is the session's pipeline run (the
demo's landing zone, `--as-of manifest`); the second runs `settld run` again on a copy of the same landing
zone into a fresh warehouse and artifacts folder. The operator's triage decisions are an input of a close
like the files (their time and author are in the bundle): they are made once, in the first home, and the
second home starts from that operator API database. Then each home gates and closes October for tnt_acme,
and the bundles, the finalised invoices and every other artifact a close or a run writes compare equal
with `cmp`. The close instant is the verdict's asOf, the run's `--as-of`, never the clock.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.demo_home import REPO_ROOT, demo_environment, demo_home

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("pipeline")]

TENANT, PERIOD = "tnt_acme", "2026-10"


def _settld(home: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**demo_environment(home), "COLUMNS": "200"}
    env.pop("DAGSTER_HOME", None)
    return subprocess.run([sys.executable, "-m", "settld.cli.main", *args], cwd=REPO_ROOT, env=env,
                          capture_output=True, text=True, timeout=600, check=False)  # fmt: skip


def _ok(completed: subprocess.CompletedProcess[str]) -> str:
    assert completed.returncode == 0, completed.stdout + completed.stderr
    return completed.stdout


def _triage_serious(home: Path) -> None:
    listed = _ok(_settld(home, "mismatches", "--period", PERIOD, "--tenant", TENANT, "--severity", "critical",
                         "--severity", "high", "--unhandled", "--json"))  # fmt: skip
    keys = [row["triage_key"] for row in json.loads(listed)]
    assert keys, "the demo data injects serious mismatches"
    _ok(_settld(home, "triage", *keys, "--tenant", TENANT, "--status", "dismissed", "--owner", "finance-oncall",
                "--resolution", "Injected by settld generate (demo data)"))  # fmt: skip


def _gate_and_close(home: Path) -> Path:
    _ok(_settld(home, "gate", "--period", PERIOD, "--tenant", TENANT))
    return Path(_ok(_settld(home, "period", "close", PERIOD, "--tenant", TENANT)).strip().splitlines()[-1])


def _cmp(first: Path, second: Path) -> None:
    completed = subprocess.run(["cmp", str(first), str(second)], capture_output=True, text=True, check=False)
    assert completed.returncode == 0, completed.stdout + completed.stderr


def _files(root: Path) -> list[str]:
    # Great-expectations' Data Docs are HTML pages for people, outside every hash and bundle: not compared.
    return sorted(p.relative_to(root).as_posix() for p in root.rglob("*")
                  if p.is_file() and "data_docs" not in p.parts)  # fmt: skip


@pytest.mark.drill  # a second full run into a fresh home: CI runs it with the drills
def test_two_closes_of_the_same_inputs_give_byte_identical_bundles(
    pipeline_run: dict, tmp_path: Path
) -> None:
    first = demo_home(pipeline_run, tmp_path / "first")
    _triage_serious(first)

    second = tmp_path / "second"
    (second / "warehouse").mkdir(parents=True)
    shutil.copytree(first / "data" / "landing", second / "data" / "landing")
    shutil.copy(first / "warehouse" / "settld-api.sqlite3", second / "warehouse" / "settld-api.sqlite3")
    _ok(_settld(second, "run", "--as-of", "manifest"))

    bundles = [_gate_and_close(home) for home in (first, second)]
    assert bundles[0].relative_to(first) == bundles[1].relative_to(second)
    _cmp(*bundles)
    # The close instant is the run's as-of, in the manifest, the record and every finalised invoice.
    as_of = pipeline_run["manifest"]["as_of"].replace("Z", "")
    finalized = sorted((first / "artifacts" / "invoices" / TENANT / PERIOD).glob("*-finalized.json"))
    assert finalized
    for path in finalized:
        assert json.loads(path.read_text())["finalizedAt"].startswith(as_of)
    # Every artifact of the run, the gate and the close: the same names, the same bytes.
    names = _files(first / "artifacts")
    assert names == _files(second / "artifacts")
    for name in names:
        _cmp(first / "artifacts" / name, second / "artifacts" / name)

    # Closing a closed period again returns the same bundle, untouched, whatever instant is asked for.
    before = bundles[1].read_bytes()
    again = _ok(_settld(second, "period", "close", PERIOD, "--tenant", TENANT, "--closed-at",
                        "2026-11-20T00:00:00Z"))  # fmt: skip
    assert "unchanged" in again and Path(again.strip().splitlines()[-1]) == bundles[1]
    assert bundles[1].read_bytes() == before


def test_a_close_instant_before_the_period_ends_is_refused(pipeline_run: dict, tmp_path: Path) -> None:
    home = demo_home(pipeline_run, tmp_path / "home")
    _triage_serious(home)
    _ok(_settld(home, "gate", "--period", PERIOD, "--tenant", TENANT))
    refused = _settld(
        home, "period", "close", PERIOD, "--tenant", TENANT, "--closed-at", "2026-10-31T23:59:59Z"
    )
    assert refused.returncode == 1 and "CLOSED_AT_INVALID" in refused.stdout, refused.stdout + refused.stderr
    assert not list((home / "artifacts" / "invoices" / TENANT / PERIOD).glob("*-finalized.json"))
    closed = _ok(
        _settld(home, "period", "close", PERIOD, "--tenant", TENANT, "--closed-at", "2026-11-05T09:00:00Z")
    )
    assert "as of 2026-11-05T09:00:00" in closed
    for path in (home / "artifacts" / "invoices" / TENANT / PERIOD).glob("*-finalized.json"):
        assert json.loads(path.read_text())["finalizedAt"] == "2026-11-05T09:00:00.000000Z"
