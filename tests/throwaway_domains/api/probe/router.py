"""One write route, written as every domain's: @idempotent, WriteSessionDep, no commit of its own."""

from fastapi import APIRouter
from pydantic import BaseModel

from api.audit.service import append_audit
from api.core.dependencies import WriteSessionDep
from api.idempotency.dependencies import idempotent
from api.tenants.dependencies import FinanceWriteDep

router = APIRouter(prefix="/ops/probe", tags=["probe"])


class Recorded(BaseModel):
    audit_id: int


@router.post("/records", status_code=201)
@idempotent(status_code=201)
def record(session: WriteSessionDep, principal: FinanceWriteDep) -> Recorded:
    entry = append_audit(session, context=principal.audit_context, action="PROBE_RECORD",
                         target_type="probe", target_id="record", details={})  # fmt: skip
    return Recorded(audit_id=entry.id)
