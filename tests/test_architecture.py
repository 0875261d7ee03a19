"""The layout's rules (docs/architecture.md) hold, and the check that enforces them can fail."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
PACKAGES = ("settld", "ingestion", "quality", "orchestration", "api", "reports", "devtools")
LINT_IMPORTS = Path(sys.executable).with_name("lint-imports")
MAX_LINES = 400


def _lint_imports(root: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [str(LINT_IMPORTS), "--no-cache", "--config", str(root / "pyproject.toml")],
        cwd=root,
        env={"PYTHONPATH": str(root), "PATH": str(LINT_IMPORTS.parent)},
        capture_output=True,
        text=True,
    )


def _copy_sources(to: Path) -> None:
    shutil.copy(REPO / "pyproject.toml", to / "pyproject.toml")
    for package in PACKAGES:
        for source in (REPO / package).rglob("*.py"):
            target = to / source.relative_to(REPO)
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy(source, target)


def test_import_rules_hold() -> None:
    result = _lint_imports(REPO)
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.parametrize(
    ("module", "statement", "broken_rule"),
    [
        ("quality/probe.py", "import api.reconciliation.states\n", "transactional service"),
        ("ingestion/probe.py", "import orchestration.definitions\n", "import only downwards"),
        ("api/probe.py", "import quality.gate\n", "stands beside the pipeline"),
        ("settld/probe.py", "import reports.artifacts\n", "shared kernel"),
    ],
)
def test_breaking_an_import_rule_fails_the_check(tmp_path, module, statement, broken_rule) -> None:
    _copy_sources(tmp_path)
    (tmp_path / module).write_text(statement)
    result = _lint_imports(tmp_path)
    assert result.returncode != 0
    assert broken_rule in result.stdout.replace("\n", " ")


def test_no_python_file_is_over_400_lines() -> None:
    sources = [*(path for package in PACKAGES for path in (REPO / package).rglob("*.py")),
               *(REPO / "tests").rglob("*.py")]  # fmt: skip
    long = {
        str(path.relative_to(REPO)): lines
        for path in sources
        if (lines := len(path.read_text().splitlines())) > MAX_LINES
    }
    assert not long, f"split these files (one purpose each): {long}"


def test_handled_triage_statuses_are_the_state_machines_terminal_ones() -> None:
    """The gate reads `settld.vocabulary.HANDLED_STATUSES`; the API's state machine decides what is terminal."""
    from api.reconciliation.states import TERMINAL_STATUSES
    from settld.vocabulary import HANDLED_STATUSES

    assert {status.value for status in TERMINAL_STATUSES} == HANDLED_STATUSES
