"""monitoring: one Resident Coordinator in the database, and clocks for LTA call-offs

- ``uq_user_role_single_holder``: a partial unique index on ``user_role.role`` for the
  single-holder role (``resident_coordinator``), so two admins naming two Resident
  Coordinators at the same moment cannot both succeed, on SQLite and PostgreSQL. Before
  it is built, the role is taken from deactivated accounts when another account holds it
  too (the service allowed that until now); two active holders stop the upgrade with
  their e-mails, for the operator to choose.
- ``monitoring_clock.purchase_order_id``: a call-off under a long-term agreement is
  placed as its purchase order, with no request; its clock names the order. A clock
  names a request or an order, never both.

Revision ID: mon2
Revises: hrb1
Create Date: 2026-12-07 14:00:00

"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = 'mon2'
down_revision = 'hrb1'
branch_labels = None
depends_on = None

RC = "resident_coordinator"
WHERE = sa.text("role = 'resident_coordinator'")

user_role = sa.table("user_role", sa.column("id", sa.Integer), sa.column("user_id", sa.Integer),
                     sa.column("role", sa.String))
user = sa.table("user", sa.column("id", sa.Integer), sa.column("email", sa.String),
                sa.column("active", sa.Boolean))


def _one_resident_coordinator(bind) -> None:
    holders = bind.execute(
        sa.select(user_role.c.id, user.c.email, user.c.active)
        .join(user, user.c.id == user_role.c.user_id).where(user_role.c.role == RC)).all()
    if len(holders) < 2:
        return
    inactive = [h.id for h in holders if not h.active]
    active = [h.email for h in holders if h.active]
    if len(active) > 1:
        raise RuntimeError(f"{len(active)} active accounts hold the Resident Coordinator role "
                           f"({', '.join(sorted(active))}); remove it from all but one, then upgrade again.")
    # Keep one holder: the active one, else the most recently named deactivated one.
    drop = inactive if active else sorted(inactive)[:-1]
    if drop:
        bind.execute(sa.delete(user_role).where(user_role.c.id.in_(drop)))


def upgrade():
    _one_resident_coordinator(op.get_bind())
    op.create_index('uq_user_role_single_holder', 'user_role', ['role'], unique=True,
                    sqlite_where=WHERE, postgresql_where=WHERE)
    with op.batch_alter_table('monitoring_clock', schema=None) as batch_op:
        batch_op.alter_column('request_id', existing_type=sa.Integer(), nullable=True)
        batch_op.add_column(sa.Column('purchase_order_id', sa.Integer(), nullable=True))
        batch_op.create_foreign_key(op.f('fk_monitoring_clock_purchase_order_id_purchase_order'), 'purchase_order',
                                    ['purchase_order_id'], ['id'], ondelete='CASCADE')
        batch_op.create_unique_constraint(op.f('uq_monitoring_clock_purchase_order_id'), ['purchase_order_id'])
        batch_op.create_check_constraint(op.f('ck_monitoring_clock_one_subject'),
                                         sa.text("(request_id IS NULL) <> (purchase_order_id IS NULL)"))


def downgrade():
    op.execute("DELETE FROM monitoring_clock WHERE purchase_order_id IS NOT NULL")
    with op.batch_alter_table('monitoring_clock', schema=None) as batch_op:
        batch_op.drop_constraint(op.f('ck_monitoring_clock_one_subject'), type_='check')
        batch_op.drop_constraint(op.f('uq_monitoring_clock_purchase_order_id'), type_='unique')
        batch_op.drop_constraint(op.f('fk_monitoring_clock_purchase_order_id_purchase_order'), type_='foreignkey')
        batch_op.drop_column('purchase_order_id')
        batch_op.alter_column('request_id', existing_type=sa.Integer(), nullable=False)
    op.drop_index('uq_user_role_single_holder', table_name='user_role')
