"""One check of a period gate verdict (quality/gate.py): its id, whether it passed, whether it blocks a
close, and the details that say why."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Check:
    id: str
    ok: bool
    blocking: bool
    details: dict[str, Any]

    def as_dict(self) -> dict[str, Any]:
        return {"id": self.id, "ok": self.ok, "blocking": self.blocking, "details": self.details}
