"""hardening: an audit event is sealed only at the chain's next place; addresses that
have signed in to an account are remembered

``hard1`` let an unsealed event be sealed once, but with any ``seq`` and links: whoever
could write the database could seal a waiting event far beyond the chain, or set its
hash alone. The sealing UPDATE must now set ``seq`` to the chain counter's value (which
the sealer has just incremented, holding its row lock), set ``prev_hash`` to the hash of
event ``seq - 1`` (the genesis hash for the first event; the broken-link marker when that
event is gone, so a damaged chain keeps working and stays visible) and set ``hash``.

``known_login_address``: the login throttle exempts these addresses from the
account-wide delay (jof/core/throttle.py).

Revision ID: hard2
Revises: hard1
Create Date: 2026-12-07 03:00:00

"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = 'hard2'
down_revision = 'ui2'
branch_labels = None
depends_on = None

GENESIS = "0" * 64
BROKEN_LINK = "missing-" + "-" * 56
MESSAGE = ("an audit event is sealed once, at the next place of the chain (seq = the "
           "audit_chain counter, prev_hash = the hash of the event before it)")


def _out_of_order(new: str, old: str) -> str:
    """The condition (SQL) under which an UPDATE of an unsealed event is refused."""
    prev = f"(SELECT p.hash FROM audit_event p WHERE p.seq = {new}.seq - 1)"
    link = f"CASE WHEN {new}.seq = 1 THEN '{GENESIS}' ELSE COALESCE({prev}, '{BROKEN_LINK}') END"
    return (
        f"{old}.seq IS NULL AND {old}.hash IS NULL AND ("
        f"{new}.seq IS NULL OR {new}.prev_hash IS NULL OR {new}.hash IS NULL "
        f"OR {new}.seq IS DISTINCT FROM (SELECT c.value FROM counter c WHERE c.key = 'audit_chain') "
        f"OR {new}.prev_hash IS DISTINCT FROM ({link}))"
    )


def upgrade():
    op.create_table(
        'known_login_address',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('email', sa.String(length=254), nullable=False),
        sa.Column('remote_addr', sa.String(length=64), nullable=False),
        sa.Column('last_login_at', sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_known_login_address')),
        sa.UniqueConstraint('email', 'remote_addr', name=op.f('uq_known_login_address_email_remote_addr')),
    )
    if op.get_bind().dialect.name == "postgresql":
        op.execute(f"""
CREATE FUNCTION audit_event_seal_in_order() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF {_out_of_order("NEW", "OLD")} THEN
        RAISE EXCEPTION '{MESSAGE}' USING ERRCODE = 'restrict_violation';
    END IF;
    RETURN NEW;
END
$$""")
        op.execute("CREATE TRIGGER audit_event_seal_in_order BEFORE UPDATE ON audit_event "
                   "FOR EACH ROW EXECUTE FUNCTION audit_event_seal_in_order()")
        return
    # SQLite spells IS DISTINCT FROM as IS NOT.
    condition = _out_of_order("NEW", "OLD").replace("IS DISTINCT FROM", "IS NOT")
    op.execute("CREATE TRIGGER audit_event_seal_in_order BEFORE UPDATE ON audit_event FOR EACH ROW "
               f"WHEN {condition} BEGIN SELECT RAISE(ABORT, '{MESSAGE}'); END")


def downgrade():
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER IF EXISTS audit_event_seal_in_order ON audit_event")
        op.execute("DROP FUNCTION IF EXISTS audit_event_seal_in_order()")
    else:
        op.execute("DROP TRIGGER IF EXISTS audit_event_seal_in_order")
    op.drop_table('known_login_address')
