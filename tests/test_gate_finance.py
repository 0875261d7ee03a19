"""The gate's finance checks on hand-made marts: an untriaged critical GL finding keeps the period red, a
triaged one does not; an open kernel month is not closable; a tenant without kernel books passes."""

from __future__ import annotations

from pathlib import Path

import duckdb

from quality.gate_finance import ESCROW_CHECK, GL_CHECK, finance_checks
from settld.settings import warehouse_target
from settld.warehouse import connect as connect_warehouse


def _warehouse(path: Path) -> Path:
    with duckdb.connect(str(path)) as con:
        con.execute("create schema marts")
        con.execute("create table marts.fct_escrow_net_close (tenant_id varchar, period varchar, "
                    "currency varchar, status varchar)")  # fmt: skip
        con.execute("create table marts.fct_finance_reconciliation_mismatches (triage_key varchar, "
                    "tenant_id varchar, period varchar, source_type varchar, severity varchar)")  # fmt: skip
        con.execute("insert into marts.fct_escrow_net_close values ('t1', '2026-09', 'USD', 'pass'), "
                    "('t2', '2026-09', 'USD', 'not_closable')")  # fmt: skip
        con.execute("insert into marts.fct_finance_reconciliation_mismatches values "
                    "('frt_gl', 't1', '2026-09', 'finance_reconcile', 'critical'), "
                    "('frt_minor', 't1', '2026-09', 'escrow_net_close', 'medium')")  # fmt: skip
    return path


def _checks(path: Path, tenant: str, triage=None) -> dict[str, dict]:
    with connect_warehouse(warehouse_target(str(path)), read_only=True) as db:
        return {
            c.id: c.as_dict() for c in finance_checks(db, tenant_id=tenant, period="2026-09", triage=triage)
        }


def test_an_untriaged_critical_gl_finding_keeps_the_gate_red_until_it_is_handled(tmp_path: Path) -> None:
    path = _warehouse(tmp_path / "w.duckdb")
    red = _checks(path, "t1")
    assert red[GL_CHECK]["ok"] is False and red[GL_CHECK]["details"]["examples"] == ["frt_gl"]
    assert red[ESCROW_CHECK]["ok"] is True  # a medium finding does not block
    acknowledged = _checks(path, "t1", lambda t, p: {"frt_gl": {"status": "acknowledged", "severity": None}})
    assert acknowledged[GL_CHECK]["ok"] is False
    handled = _checks(path, "t1", lambda t, p: {"frt_gl": {"status": "resolved", "severity": None}})
    assert handled[GL_CHECK]["ok"] is True and handled[GL_CHECK]["blocking"] is True


def test_an_open_kernel_month_is_not_closable_and_a_tenant_without_books_passes(tmp_path: Path) -> None:
    path = _warehouse(tmp_path / "w.duckdb")
    open_month = _checks(path, "t2")
    assert open_month[ESCROW_CHECK]["ok"] is False
    assert open_month[ESCROW_CHECK]["details"]["notClosableCurrencies"] == ["USD"]
    assert (
        open_month[GL_CHECK]["ok"] is False
        and open_month[GL_CHECK]["details"]["monthClosedInKernel"] is False
    )
    without_books = _checks(path, "t3")
    assert all(check["ok"] and not check["details"]["kernelBooks"] for check in without_books.values())
