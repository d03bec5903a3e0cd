"""hardening: the database refuses to change or delete sealed audit events; failed
logins are looked up by client address

The triggers make the audit trail append-only for everyone who does not own the schema:
an event may be inserted, and sealed once (its ``seq``, ``prev_hash`` and ``hash`` set
while they are still empty, which is how the chain is sealed at commit); nothing else.
Whoever owns the schema can drop the triggers, which is why the chain head is also
anchored outside the database (``jof audit anchor``).

Revision ID: hard1
Revises: prc3
Create Date: 2026-12-07 02:00:00

"""
from alembic import op

# revision identifiers, used by Alembic.
revision = 'hard1'
down_revision = 'prc3'
branch_labels = None
depends_on = None

#: The columns an event is born with and keeps for ever.
CONTENT = ("id", "at", "actor_id", "actor_email", "action", "object_type", "object_id",
           "before", "after", "request_id")


def upgrade():
    op.create_index("ix_login_attempt_remote_addr", "login_attempt", ["remote_addr"])
    if op.get_bind().dialect.name == "postgresql":
        # json has no equality operator: compare its text.
        changed = " OR ".join(
            f"NEW.{c}::text IS DISTINCT FROM OLD.{c}::text" if c in ("before", "after")
            else f"NEW.{c} IS DISTINCT FROM OLD.{c}" for c in CONTENT)
        op.execute(f"""
CREATE FUNCTION audit_event_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP IN ('DELETE', 'TRUNCATE') THEN
        RAISE EXCEPTION 'audit events are never deleted' USING ERRCODE = 'restrict_violation';
    END IF;
    IF OLD.seq IS NOT NULL OR OLD.hash IS NOT NULL OR {changed} THEN
        RAISE EXCEPTION 'audit events never change once written (only their seal is set, once)'
            USING ERRCODE = 'restrict_violation';
    END IF;
    RETURN NEW;
END
$$""")
        op.execute("CREATE TRIGGER audit_event_append_only BEFORE UPDATE OR DELETE ON audit_event "
                   "FOR EACH ROW EXECUTE FUNCTION audit_event_append_only()")
        op.execute("CREATE TRIGGER audit_event_no_truncate BEFORE TRUNCATE ON audit_event "
                   "FOR EACH STATEMENT EXECUTE FUNCTION audit_event_append_only()")
        return
    changed = " OR ".join(f"NEW.{c} IS NOT OLD.{c}" for c in CONTENT)
    op.execute("CREATE TRIGGER audit_event_no_delete BEFORE DELETE ON audit_event "
               "BEGIN SELECT RAISE(ABORT, 'audit events are never deleted'); END")
    op.execute("CREATE TRIGGER audit_event_no_update BEFORE UPDATE ON audit_event FOR EACH ROW "
               f"WHEN OLD.seq IS NOT NULL OR OLD.hash IS NOT NULL OR {changed} "
               "BEGIN SELECT RAISE(ABORT, 'audit events never change once written (only their seal "
               "is set, once)'); END")


def downgrade():
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER IF EXISTS audit_event_no_truncate ON audit_event")
        op.execute("DROP TRIGGER IF EXISTS audit_event_append_only ON audit_event")
        op.execute("DROP FUNCTION IF EXISTS audit_event_append_only()")
    else:
        op.execute("DROP TRIGGER IF EXISTS audit_event_no_update")
        op.execute("DROP TRIGGER IF EXISTS audit_event_no_delete")
    op.drop_index("ix_login_attempt_remote_addr", table_name="login_attempt")
