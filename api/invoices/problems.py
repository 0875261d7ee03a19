"""The problem codes of the invoice routes (one class each: api/core/errors.py)."""

from __future__ import annotations

from api.core.errors import Problem


class InvoiceNotFound(Problem):
    status, code, title = 404, "INVOICE_NOT_FOUND", "No invoice of this period and currency for the tenant."
