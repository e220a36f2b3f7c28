"""Users may have the role `employee`: a member of staff who sees only their own attendance.

Revision ID: 0005
Revises: 0004
Create Date: 2027-01-05

Attendance (the badge kind) links an API user to one employee row; a user of role `employee`
reads only that employee's records (daily, monthly, activities, leave). Only the check
constraint on `users.role` changes: it admits one more value, so nothing stored changes. The
roles other branches admitted stay (`central.role_constraint`). Downgrading is refused while a
user has the role.
"""

from __future__ import annotations

from alembic import op

from central.role_constraint import admit_role, retire_role

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

ROLE = "employee"


def upgrade() -> None:
    admit_role(op.get_bind(), ROLE)


def downgrade() -> None:
    retire_role(op.get_bind(), ROLE)
