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
from pathlib import Path

import pytest

from tests.demo_home import DEMO_PERIOD as PERIOD
from tests.demo_home import DEMO_TENANT as TENANT
from tests.demo_home import artifact_names, demo_home, gate_and_close, settld_in, succeeded, triage_serious

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("pipeline")]


def _cmp(first: Path, second: Path) -> None:
    completed = subprocess.run(["cmp", str(first), str(second)], capture_output=True, text=True, check=False)
    assert completed.returncode == 0, completed.stdout + completed.stderr


@pytest.mark.drill  # a second full run into a fresh home: CI runs it with the drills
def test_two_closes_of_the_same_inputs_give_byte_identical_bundles(
    pipeline_run: dict, tmp_path: Path
) -> None:
    first = demo_home(pipeline_run, tmp_path / "first")
    triage_serious(first)

    second = tmp_path / "second"
    (second / "warehouse").mkdir(parents=True)
    shutil.copytree(first / "data" / "landing", second / "data" / "landing")
    shutil.copy(first / "warehouse" / "settld-api.sqlite3", second / "warehouse" / "settld-api.sqlite3")
    succeeded(settld_in(second, "run", "--as-of", "manifest"))

    bundles = [gate_and_close(home) for home in (first, second)]
    assert bundles[0].relative_to(first) == bundles[1].relative_to(second)
    _cmp(*bundles)
    # The close instant is the run's as-of, in the manifest, the record and every finalised invoice.
    as_of = pipeline_run["manifest"]["as_of"].replace("Z", "")
    finalized = sorted((first / "artifacts" / "invoices" / TENANT / PERIOD).glob("*-finalized.json"))
    assert finalized
    for path in finalized:
        assert json.loads(path.read_text())["finalizedAt"].startswith(as_of)
    # Every artifact of the run, the gate and the close: the same names, the same bytes.
    names = artifact_names(first / "artifacts")
    assert names == artifact_names(second / "artifacts")
    for name in names:
        _cmp(first / "artifacts" / name, second / "artifacts" / name)

    # Closing a closed period again returns the same bundle, untouched, whatever instant is asked for.
    before = bundles[1].read_bytes()
    again = succeeded(settld_in(second, "period", "close", PERIOD, "--tenant", TENANT, "--closed-at",
                        "2026-11-20T00:00:00Z"))  # fmt: skip
    assert "unchanged" in again and Path(again.strip().splitlines()[-1]) == bundles[1]
    assert bundles[1].read_bytes() == before


def test_a_close_instant_before_the_period_ends_is_refused(pipeline_run: dict, tmp_path: Path) -> None:
    home = demo_home(pipeline_run, tmp_path / "home")
    triage_serious(home)
    succeeded(settld_in(home, "gate", "--period", PERIOD, "--tenant", TENANT))
    refused = settld_in(
        home, "period", "close", PERIOD, "--tenant", TENANT, "--closed-at", "2026-10-31T23:59:59Z"
    )
    assert refused.returncode == 1 and "CLOSED_AT_INVALID" in refused.stdout, refused.stdout + refused.stderr
    assert not list((home / "artifacts" / "invoices" / TENANT / PERIOD).glob("*-finalized.json"))
    closed = succeeded(
        settld_in(home, "period", "close", PERIOD, "--tenant", TENANT, "--closed-at", "2026-11-05T09:00:00Z")
    )
    assert "as of 2026-11-05T09:00:00" in closed
    for path in (home / "artifacts" / "invoices" / TENANT / PERIOD).glob("*-finalized.json"):
        assert json.loads(path.read_text())["finalizedAt"] == "2026-11-05T09:00:00.000000Z"
