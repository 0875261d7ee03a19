"""Invoices: the drafts the pipeline publishes (marts.fct_invoice_drafts and its lines), finalised by the
period close, and the adjustments later usage makes to a finalised month."""
