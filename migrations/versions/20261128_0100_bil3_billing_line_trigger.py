"""billing: on SQLite, a draft invoice line cannot be moved into an issued invoice

The ``bil1`` update trigger on SQLite looked only at the invoice a line came from
(``OLD.invoice_id``); this one looks at the invoice it goes to (``NEW.invoice_id``), as
the PostgreSQL trigger function of ``bil1`` already does. Deleting issued invoices, their
lines or payments stays refused by the services only (none deletes them): the test
harness empties tables with ``DELETE``.

Revision ID: bil3
Revises: bil2
Create Date: 2026-11-28 01:00:00

"""
from alembic import op

# revision identifiers, used by Alembic.
revision = 'bil3'
down_revision = 'bil2'
branch_labels = None
depends_on = None


def upgrade():
    if op.get_bind().dialect.name != "sqlite":
        return
    op.execute("CREATE TRIGGER invoice_line_immutable_update_new BEFORE UPDATE ON invoice_line "
               "FOR EACH ROW WHEN (SELECT status FROM invoice WHERE id = NEW.invoice_id) = 'issued' "
               "BEGIN SELECT RAISE(ABORT, 'the lines of an issued invoice never change'); END")


def downgrade():
    if op.get_bind().dialect.name != "sqlite":
        return
    op.execute("DROP TRIGGER IF EXISTS invoice_line_immutable_update_new")
