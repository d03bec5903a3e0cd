"""Billing (DESIGN §7): price list, charge ledger, period close, invoices, credit notes,
payments, statements of account and their PDFs."""
