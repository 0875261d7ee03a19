"""The invoice state machine, as data (the kit: api/core/states.py).

    draft      -> finalized   (the period close, in its transaction; never by a publish)

A finalised invoice is terminal: a later publish never rewrites it (a different draft becomes an
adjustment billed in the next open month), and reopening the period leaves it finalised.
"""

from __future__ import annotations

from enum import StrEnum

from api.core.states import StateMachine


class InvoiceStatus(StrEnum):
    draft = "draft"
    finalized = "finalized"


INVOICE = StateMachine(
    "invoice", {InvoiceStatus.draft: {InvoiceStatus.finalized}, InvoiceStatus.finalized: set()}
)
