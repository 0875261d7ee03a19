"""Answers that carry a secret: shown in the first answer only, never stored.

The idempotency kit stores a write's answer and replays it byte for byte. For a route that issues a key
that would keep the token in the database and show it again, so these routes store the answer *without*
the token, as a 200, and answer the first request with the token (201). A replay of the same
Idempotency-Key then reads like a repeat of the same body: same tenant and key id, no secret.
"""

from __future__ import annotations

import shlex

from fastapi import Response
from fastapi.encoders import jsonable_encoder
from pydantic import BaseModel

from api.idempotency.service import IdempotencyClaim
from api.tenants.bootstrap import BootstrapOutcome
from api.tenants.schemas import BootstrapBilling, BootstrapNext, BootstrapResponse, IssuedKey, TenantOut
from settld.core import canonical_json


def answer_once(claim: IdempotencyClaim, *, status: int, shown: BaseModel, stored: BaseModel) -> Response:
    """Store `stored` (no secret) as the replay, a 200; answer `shown` now with `status`."""
    claim.respond(200, jsonable_encoder(stored))
    return Response(
        canonical_json(jsonable_encoder(shown)), status_code=status, media_type="application/json"
    )


def bootstrap_response(outcome: BootstrapOutcome, *, base_url: str, with_secret: bool) -> BootstrapResponse:
    tenant_id, request = outcome.tenant.tenant_id, outcome.request
    key, created = request["api_key"], outcome.created_key
    token = created.token if (created is not None and with_secret) else None
    api_key = None
    if outcome.key_id is not None:
        api_key = IssuedKey(key_id=outcome.key_id, token=token, scopes=key["scopes"],
                            description=key["description"], expires_at=key["expires_at"])  # fmt: skip
    env = {"SETTLD_TENANT_ID": tenant_id, "SETTLD_BASE_URL": base_url}
    if token is not None:
        env["SETTLD_API_KEY"] = token
    auth = '-H "Authorization: Bearer $SETTLD_API_KEY"'
    rotate = None
    if outcome.key_id is not None:
        rotate = f'curl -X POST {auth.replace("SETTLD_API_KEY", "SETTLD_PLATFORM_KEY")} ' \
                 f"{base_url}/ops/tenants/{tenant_id}/keys/{outcome.key_id}/rotate"  # fmt: skip
    return BootstrapResponse(
        tenant_id=tenant_id,
        bootstrapped=outcome.bootstrapped,
        tenant=TenantOut.model_validate(outcome.tenant),
        api_key=api_key,
        billing=BootstrapBilling(**request["billing"]),
        policy_ref=request["policy_ref"],
        api_base_url=base_url,
        env=env,
        export_commands=[f"export {name}={shlex.quote(value)}" for name, value in env.items()],
        next=BootstrapNext(
            healthcheck_curl=f"curl -s {base_url}/healthz",
            checklist_curl=f"curl -s {auth} {base_url}/v1/tenants/{tenant_id}/onboarding/checklist",
            first_run="settld generate && settld run",
            rotate_key=rotate,
        ),
    )
