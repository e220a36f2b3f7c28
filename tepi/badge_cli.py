"""`tepi admin badge` and `tepi admin employee`: a tenant's staff and their attendance badges.

    tepi admin employee import staff.csv --tenant kab-indramayu      # nip,name,office[,schedule]
    tepi admin employee add --tenant kab-indramayu --nip 198503122010011004 --name "Dini" --office bkpsdm
    tepi admin employee link --tenant kab-indramayu --user "Dini" --nip 198503122010011004
    tepi admin badge issue --tenant kab-indramayu --employee 198503122010011004      # EID, k 10
    tepi admin badge list --tenant kab-indramayu
    tepi admin badge revoke --tenant kab-indramayu b0123456789ab

`badge issue` prints, this once, what programs the badge: an EID badge's identity key (hex),
rotation exponent and counter start; a static badge's iBeacon or Eddystone-UID ids. The key is
stored only sealed under TEPI_BADGE_KEY_SECRET (`kinds.badge.keys`), which ingest needs too (it
opens the keys to send the office gateways their roster). `badge list` never shows keys or ids.
Every issue and revocation makes a new roster version, which each office gateway receives at its
next health summary (`kinds.badge.ingest`).

Offices are the configuration's (`offices:`); schedules the tenant's `attendance:` entry's.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer

employee_app = typer.Typer(no_args_is_help=True, help="Employees (NIP, name, office, schedule) and their API users.")
badge_app = typer.Typer(no_args_is_help=True, help="Attendance badges: issue (key shown once), revoke, list.")

ConfigOpt = Annotated[
    Optional[Path], typer.Option("--config", "-c", help="YAML config (default: $TEPI_CONFIG or config/tepi.yaml).")
]
TenantOpt = Annotated[str, typer.Option("--tenant", "-t", help="Tenant id.")]
NipOpt = Annotated[str, typer.Option("--nip", help="The employee's NIP (18 digits).")]


def _fail(message: str, code: int = 1) -> typer.Exit:
    from tepi.admin_cli import _fail as fail

    return fail(message, code)


def _schedules(cfg: object, tenant: str) -> list[str]:
    attendance = getattr(cfg, "tenant_attendance", None)
    return [s.id for s in attendance(tenant).schedules] if attendance is not None else []


@employee_app.command("add")
def employee_add(
    ctx: typer.Context,
    tenant: TenantOpt,
    nip: NipOpt,
    name: Annotated[str, typer.Option("--name", "-n", help="Full name (personal data: never logged).")],
    office: Annotated[str, typer.Option("--office", help="Office id (offices: of the configuration).")],
    schedule: Annotated[Optional[str], typer.Option(help="Schedule id of the tenant's attendance rules (default: its default).")] = None,
    config: ConfigOpt = None,
) -> None:
    """Register an employee; running it again changes nothing, a NIP registered otherwise is refused."""
    from contract.clock import utcnow
    from kinds.badge.staff import ADDED, NewEmployee, add_employee
    from tepi.admin_cli import _config, _session

    try:
        person = NewEmployee(nip=nip, name=name, office=office, schedule=schedule)
    except ValueError as exc:
        raise _fail(str(exc), 2) from exc
    with _session(_config(ctx, config)) as (session, cfg):
        try:
            _, status = add_employee(session, tenant, person, utcnow(), _schedules(cfg, tenant))
        except ValueError as exc:
            raise _fail(str(exc)) from exc
    typer.echo(f"{'registered' if status == ADDED else 'already registered, nothing changed:'} employee {person.nip} in {tenant}")


@employee_app.command("import")
def employee_import(
    ctx: typer.Context,
    staff: Annotated[Path, typer.Argument(metavar="FILE.csv", help="A header row (nip,name,office[,schedule]), then a person a row.")],
    tenant: TenantOpt,
    config: ConfigOpt = None,
) -> None:
    """Register a staff list: every row is checked first, and a rejected row (named by its line)
    registers nothing; importing it again changes nothing."""
    from contract.clock import utcnow
    from kinds.badge.staff import ADDED, import_staff
    from tepi.admin_cli import _config, _session

    rejected: list[str] = []
    with _session(_config(ctx, config)) as (session, cfg):
        done, rejected = import_staff(session, tenant, staff, utcnow(), _schedules(cfg, tenant))
        if rejected:  # leaving the block by the exception rolls the transaction back
            for line in rejected:
                typer.echo(f"rejected {line}", err=True)
            raise _fail(f"{len(rejected)} rows rejected: nothing registered", 2 if not done else 1)
        added = sum(1 for _, status in done if status == ADDED)
    typer.echo(f"registered {added} employees in {tenant}; {len(done) - added} already registered as in the file")


@employee_app.command("link")
def employee_link(
    ctx: typer.Context,
    tenant: TenantOpt,
    user: Annotated[str, typer.Option("--user", "-u", help="The user's name (or id), of role employee or staff_admin.")],
    nip: NipOpt,
    config: ConfigOpt = None,
) -> None:
    """Make a user the login of an employee: an `employee` sees only their own records, a
    `staff_admin` manages their own office."""
    from central.accounts import find_user, get_user
    from kinds.badge.staff import link_user
    from tepi.admin_cli import _config, _session

    with _session(_config(ctx, config)) as (session, _cfg):
        account = get_user(session, int(user), tenant) if user.isdigit() else find_user(session, tenant, user)
        try:
            employee = link_user(session, tenant, account, nip)
        except ValueError as exc:
            raise _fail(str(exc)) from exc
        said = f"user {account.id} ({account.role}) is employee {employee.nip} of office {employee.office_id}"
    typer.echo(said)


@employee_app.command("leave")
def employee_leave(ctx: typer.Context, tenant: TenantOpt, nip: NipOpt, config: ConfigOpt = None) -> None:
    """Record that an employee left: their badge is revoked (gone from the gateways at their
    next summary); their records stay."""
    from contract.clock import utcnow
    from kinds.badge.issuing import active_badge, bump_roster, find_employee
    from tepi.admin_cli import _config, _session

    with _session(_config(ctx, config)) as (session, _cfg):
        try:
            employee = find_employee(session, tenant, nip)
        except ValueError as exc:
            raise _fail(str(exc)) from exc
        if employee.left_at is not None:
            raise _fail(f"employee {employee.nip} left on {employee.left_at:%Y-%m-%d} already")
        now = utcnow()
        employee.left_at = now
        badge = active_badge(session, employee.id)
        if badge is not None:
            badge.revoked_at = now
        bump_roster(session, tenant, now)
        said = f"employee {employee.nip} left; " + (f"badge {badge.id} revoked" if badge else "no badge was in use")
    typer.echo(said)


@badge_app.command("issue")
def badge_issue(
    ctx: typer.Context,
    tenant: TenantOpt,
    employee: Annotated[str, typer.Option("--employee", "-e", help="The holder's NIP.")],
    fmt: Annotated[str, typer.Option("--format", "-f", help="eid (rotating Eddystone-EID, the default), ibeacon or uid (static: cloneable).")] = "eid",
    k: Annotated[int, typer.Option("--k", help="EID rotation exponent: the EID changes every 2^k seconds (8..12; 10: about 17 min).")] = 10,
    config: ConfigOpt = None,
) -> None:
    """Issue a badge: its id and, this once, what programs it (the EID identity key) on stdout."""
    from contract.clock import utcnow
    from kinds.badge.issuing import check_k, issue_badge
    from kinds.badge.keys import BadgeKeyError, KeySeal
    from tepi.admin_cli import _config, _session

    try:
        check_k(k)
    except ValueError as exc:
        raise _fail(f"--k: {exc}", 2) from exc
    try:
        seal = KeySeal.from_environment()
    except BadgeKeyError as exc:
        raise _fail(str(exc), 2) from exc
    with _session(_config(ctx, config)) as (session, _cfg):
        try:
            issued = issue_badge(session, tenant, employee, utcnow(), seal, fmt=fmt, k=k)
        except ValueError as exc:
            raise _fail(str(exc)) from exc
        b = issued.badge
        badge_id, lines = b.id, [f"badge\t{b.id}", f"format\t{b.format}"]
        if issued.identity_key is not None:
            lines += [f"identity_key\t{issued.identity_key.hex()}", f"k\t{b.k}", f"epoch\t{b.epoch}"]
        elif b.format == "ibeacon":
            lines += [f"uuid\t{b.uuid}", f"major\t{b.major}", f"minor\t{b.minor}"]
        else:
            lines += [f"namespace\t{b.namespace}", f"instance\t{b.instance}"]
    typer.echo("\n".join(lines))  # only once the transaction committed: a badge programmed is a badge stored
    shown = "its identity key is shown this once: program the badge now" if issued.identity_key else "static ids: any phone can clone them"
    typer.echo(f"badge {badge_id} of employee {employee.strip()} in {tenant}; {shown}", err=True)


@badge_app.command("revoke")
def badge_revoke(
    ctx: typer.Context, badge_id: Annotated[str, typer.Argument(metavar="BADGE_ID")], tenant: TenantOpt, config: ConfigOpt = None
) -> None:
    """Revoke a badge: the gateways drop it at their next health summary (a new roster version)."""
    from contract.clock import utcnow
    from kinds.badge.issuing import revoke_badge
    from tepi.admin_cli import _config, _session

    with _session(_config(ctx, config)) as (session, _cfg):
        try:
            revoke_badge(session, tenant, badge_id, utcnow())
        except ValueError as exc:
            raise _fail(str(exc)) from exc
    typer.echo(f"revoked badge {badge_id}")


@badge_app.command("list")
def badge_list(
    ctx: typer.Context,
    tenant: TenantOpt,
    all_: Annotated[bool, typer.Option("--all", help="Revoked badges too.")] = False,
    config: ConfigOpt = None,
) -> None:
    """Badges of a tenant: id, format, holder's NIP, office, issued, revoked (never keys or ids)."""
    from kinds.badge.issuing import badges_of
    from tepi.admin_cli import _config, _session

    with _session(_config(ctx, config)) as (session, _cfg):
        rows = [
            f"{b.id}\t{b.format}\t{e.nip}\t{e.office_id}\t{b.issued_at:%Y-%m-%dT%H:%MZ}"
            + (f"\trevoked {b.revoked_at:%Y-%m-%dT%H:%MZ}" if b.revoked_at else "")
            for b, e in badges_of(session, tenant, include_revoked=all_)
        ]
    for row in rows:
        typer.echo(row)
