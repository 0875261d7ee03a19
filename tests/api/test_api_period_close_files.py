"""A period close writes its files (finalised invoices, the evidence zip) only once its transaction has
committed: a close that fails, even at the commit, leaves no finalised invoice for a period not closed."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from sqlalchemy import event
from sqlalchemy.orm import Session

from api.audit.service import AuditContext
from api.core.database import Database, utc_now
from api.core.staging import STAGING_DIR
from api.periods.models import PeriodClose
from api.periods.problems import EvidenceIncomplete
from api.periods.service import close_period, record_verdict
from reports.invoices import finalized_path

TENANT, PERIOD = "acme", "2026-09"
DRAFT = {
    "tenantId": TENANT,
    "period": PERIOD,
    "currency": "USD",
    "artifactId": "draft_usd",
    "subtotalCents": 900,
}


@contextmanager
def database(url: str) -> Iterator[Database]:
    db = Database(url)
    try:
        yield db
    finally:
        db.dispose()


@pytest.fixture
def artifacts(tmp_path: Path, database_url: str) -> Path:
    """A green verdict naming one invoice draft, recorded; the draft on disk."""
    root = tmp_path / "artifacts"
    drafts = root / "invoices" / TENANT / PERIOD
    drafts.mkdir(parents=True)
    (drafts / "USD-0123456789abcdef.json").write_text(json.dumps(DRAFT))
    verdict = {
        "tenantId": TENANT, "period": PERIOD, "verdictHash": "vh_green", "asOf": "2026-10-03T00:00:00.000000Z",
        "verdict": {"ok": True, "failingCheckIds": [], "warningCheckIds": []},
        "inputs": {"landingFiles": [], "reconciliationReports": [],
                   "invoiceDrafts": [{"file": "USD-0123456789abcdef.json"}]},
    }  # fmt: skip
    with database(database_url) as db, db.transaction() as session:
        record_verdict(session, verdict, now=utc_now())
    return root


def close(session: Session, artifacts: Path):
    context = AuditContext(TENANT, None, "test")
    return close_period(session, context=context, period=PERIOD, artifacts_dir=artifacts, now=utc_now())


def nothing_written(artifacts: Path, database_url: str) -> None:
    assert not finalized_path(artifacts, TENANT, PERIOD, "USD").exists()
    assert not (artifacts / "evidence").exists()
    assert not (artifacts / STAGING_DIR).exists(), "the staging directory was not removed"
    with database(database_url) as db, db.session() as session:
        assert session.get(PeriodClose, (TENANT, PERIOD)) is None


def test_a_committed_close_puts_its_files_in_place(artifacts: Path, database_url: str) -> None:
    with database(database_url) as db:
        with db.transaction() as session:
            outcome = close(session, artifacts)
            assert not finalized_path(artifacts, TENANT, PERIOD, "USD").exists()  # not before the commit
        assert (artifacts / outcome.record.bundle_file).is_file()
    invoice = json.loads(finalized_path(artifacts, TENANT, PERIOD, "USD").read_text())
    assert invoice["status"] == "finalized" and invoice["gateVerdictHash"] == "vh_green"
    assert not (artifacts / STAGING_DIR).exists()


def test_a_close_that_fails_after_its_write_leaves_no_file(artifacts: Path, database_url: str) -> None:
    with database(database_url) as db, pytest.raises(RuntimeError), db.transaction() as session:
        close(session, artifacts)
        raise RuntimeError("something after the close failed")
    nothing_written(artifacts, database_url)


def test_a_close_whose_commit_fails_leaves_no_finalised_invoice(artifacts: Path, database_url: str) -> None:
    def refuse(_session: Session) -> None:
        raise RuntimeError("the database refused the commit")

    with (
        database(database_url) as db,
        pytest.raises(RuntimeError, match="refused the commit"),
        db.transaction() as session,
    ):
        event.listen(session, "before_commit", refuse)
        close(session, artifacts)
    nothing_written(artifacts, database_url)


def test_a_close_killed_before_its_files_were_in_place_restores_them_when_closed_again(
    artifacts: Path, database_url: str
) -> None:
    """The process died between the commit and moving the files: closing again rebuilds the same bytes."""
    with database(database_url) as db:
        with db.transaction() as session:
            record = close(session, artifacts).record
        bundle, invoice = artifacts / record.bundle_file, finalized_path(artifacts, TENANT, PERIOD, "USD")
        originals = {bundle: bundle.read_bytes(), invoice: invoice.read_bytes()}
        for path in originals:
            path.unlink()  # as if the files never left the staging directory
        with db.transaction() as session:
            again = close(session, artifacts)
        assert again.changed is False and again.record.bundle_sha256 == record.bundle_sha256
    assert {path: path.read_bytes() for path in originals} == originals
    assert not (artifacts / STAGING_DIR).exists()


def test_a_missing_bundle_whose_inputs_changed_is_not_rebuilt_differently(
    artifacts: Path, database_url: str
) -> None:
    with database(database_url) as db:
        with db.transaction() as session:
            record = close(session, artifacts).record
        (artifacts / record.bundle_file).unlink()
        draft = artifacts / "invoices" / TENANT / PERIOD / "USD-0123456789abcdef.json"
        draft.write_text(json.dumps({**DRAFT, "subtotalCents": 901}))  # an input changed since the close
        with pytest.raises(EvidenceIncomplete, match="reopen the period"), db.transaction() as session:
            close(session, artifacts)
    assert not (artifacts / record.bundle_file).exists()
