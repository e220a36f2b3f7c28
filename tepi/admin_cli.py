"""`tepi admin`: the platform operator's commands on the configured state database.

Tenants are created here and only here: the API has no cross-tenant (super) user, so a
compromised API key can never create or reach another regency. A new regency is onboarded by

    tepi admin tenant create kab-sumedang "Kabupaten Sumedang"
    tepi admin user create --tenant kab-sumedang --name "Admin Sumedang" --role admin
    tepi admin key create --user 7            # prints the key once; hand it over securely
    tepi admin user password kab-sumedang "Admin Sumedang"   # for the console; asked, never an argument

after which that admin manages the tenant's users and keys through the API (`/api/v1/users`).

`tepi admin db upgrade` brings the database's schema to this version (ingest does the same at
start; the API in production only checks and refuses a schema that is behind).

The database is the configuration's (`-c config.yaml`, else $TEPI_CONFIG or the default file),
unless TEPI_DATABASE_URL says otherwise, exactly as for the API. Keys are hashed with
TEPI_AUTH_PEPPER, which must be the API's (production, the default mode, requires it). User and
tenant names are checked as the API checks them (`central.names`).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Optional

import typer

from core.config import ConfigError, TepiConfig, load_config
from tepi.badge_cli import badge_app, employee_app
from tepi.console_cli import user_email, user_password
from tepi.vessel_cli import vessel_app
from tepi.vessel_set_cli import vessel_set

if TYPE_CHECKING:  # SQLAlchemy loads when a command runs, not with every `tepi` (the gateway's memory)
    from sqlalchemy import Engine
    from sqlalchemy.orm import Session

    from api.settings import Settings

admin_app = typer.Typer(
    no_args_is_help=True, help="Tenants, users, API keys and data retention, on the configured database."
)
tenant_app = typer.Typer(no_args_is_help=True, help="Tenants (regencies, agencies).")
user_app = typer.Typer(no_args_is_help=True, help="Users of a tenant.")
key_app = typer.Typer(no_args_is_help=True, help="API keys of users.")
retention_app = typer.Typer(no_args_is_help=True, help="Data retention (UU 27/2022).")
db_app = typer.Typer(no_args_is_help=True, help="The state database's schema version.")
admin_app.add_typer(tenant_app, name="tenant")
admin_app.add_typer(user_app, name="user")
admin_app.add_typer(key_app, name="key")
admin_app.add_typer(retention_app, name="retention")
admin_app.add_typer(db_app, name="db")
admin_app.add_typer(vessel_app, name="vessel")
admin_app.add_typer(employee_app, name="employee")
admin_app.add_typer(badge_app, name="badge")
vessel_app.command("set")(vessel_set)
user_app.command("password")(user_password)
user_app.command("email")(user_email)

ConfigOpt = Annotated[
    Optional[Path], typer.Option("--config", "-c", help="YAML config (default: $TEPI_CONFIG or config/tepi.yaml).")
]
TenantOpt = Annotated[str, typer.Option("--tenant", "-t", help="Tenant id.")]
#: Where `tepi demo` keeps its state with its default workdir (`var/demo`).
DEMO_DATABASE_URL = "sqlite:///var/demo/tepi.db"


@admin_app.callback()
def _admin(ctx: typer.Context, config: ConfigOpt = None) -> None:
    """`-c` here (`tepi admin -c FILE key create ...`) applies to every command; a command's own `-c` wins."""
    ctx.obj = {"config": config}


def _config(ctx: typer.Context, config: Path | None) -> Path | None:
    if config is not None:
        return config
    obj = ctx.find_root().obj if ctx.obj is None else ctx.obj
    return obj.get("config") if isinstance(obj, dict) else None


def _fail(message: str, code: int = 1) -> typer.Exit:
    typer.echo(f"error: {message}", err=True)
    return typer.Exit(code)


@contextmanager
def _session(config: Path | None) -> Iterator[tuple[Session, TepiConfig]]:
    """A write transaction on the prepared database (schema and registry as ingest makes them)."""
    from sqlalchemy.orm import Session

    from api.settings import SettingsError, load_settings
    from central.db import create_engine, prepare_database, writer
    from central.errors import CentralError

    try:
        cfg = load_config(config)
        settings = load_settings()
    except (ConfigError, SettingsError) as exc:
        raise _fail(str(exc), 2) from exc
    engine = create_engine(settings.effective_database_url(cfg))
    try:
        prepare_database(engine, cfg)
        with Session(writer(engine)) as session, session.begin():
            yield session, cfg
    except CentralError as exc:  # the schema's or the accounts' (an unknown tenant, a taken name, ...)
        raise _fail(str(exc)) from exc
    finally:
        engine.dispose()


@contextmanager
def _database(config: Path | None) -> Iterator[Engine]:
    """An engine on the configured database, for commands that must not prepare it first; schema
    and connection errors become a message and exit status 1. Only the database's settings are
    read: schema commands need no secret (TEPI_AUTH_PEPPER) and do not ask for one."""
    from sqlalchemy.exc import SQLAlchemyError

    from api.settings import DatabaseSettings, SettingsError, load_settings
    from central.db import create_engine
    from central.errors import SchemaError

    try:
        cfg = load_config(config)
        url = load_settings(DatabaseSettings).effective_database_url(cfg)
    except (ConfigError, SettingsError) as exc:
        raise _fail(str(exc), 2) from exc
    engine = create_engine(url, hide_parameters=True)
    try:
        yield engine
    except SchemaError as exc:
        raise _fail(str(exc)) from exc
    except SQLAlchemyError as exc:  # nothing changed: an upgrade is one transaction
        raise _fail(f"the state database failed: {exc}") from exc
    finally:
        engine.dispose()


@db_app.command("upgrade")
def db_upgrade(ctx: typer.Context, config: ConfigOpt = None) -> None:
    """Upgrade the schema to this version of Tepi (a SQLite file is backed up first); safe to repeat."""
    from central.db import upgrade_database

    with _database(_config(ctx, config)) as engine:
        upgrade = upgrade_database(engine)
    if not upgrade.changed:
        typer.echo(f"schema already at {upgrade.after}")
        return
    if upgrade.backup is not None:
        typer.echo(f"backup of the previous database: {upgrade.backup}", err=True)
    typer.echo(f"schema upgraded from {upgrade.before or 'none (unversioned or new)'} to {upgrade.after}")


@db_app.command("current")
def db_current(ctx: typer.Context, config: ConfigOpt = None) -> None:
    """The schema revision of the database and this version's; exit 1 when an upgrade is needed."""
    from central.schema import schema_version

    with _database(_config(ctx, config)) as engine, engine.connect() as conn:
        version = schema_version(conn)
    current = version.current or ("none (new database)" if version.empty else "none (unversioned, f93509f)")
    typer.echo(f"database: {current}\nthis Tepi: {version.head}")
    if not version.up_to_date:
        raise _fail("the schema is behind: run `tepi admin db upgrade`")


def _settings() -> Settings:
    """The API's settings (the admin CLI hashes keys as the API does), or exit 2 saying what to set."""
    from api.settings import SettingsError, load_settings

    try:
        return load_settings()
    except SettingsError as exc:
        raise _fail(str(exc), 2) from exc


def _pepper() -> bytes:
    settings = _settings()
    if settings.auth_pepper is None:
        typer.echo(
            "warning: no TEPI_AUTH_PEPPER: hashing with the public demo pepper, so this key works only with an "
            "API in demo mode",
            err=True,
        )
    return settings.pepper()


@tenant_app.command("create")
def tenant_create(
    ctx: typer.Context,
    tenant_id: Annotated[str, typer.Argument(metavar="ID", help="e.g. kab-sumedang")],
    name: Annotated[str, typer.Argument(metavar="NAME", help='e.g. "Kabupaten Sumedang"')],
    config: ConfigOpt = None,
) -> None:
    """Create a tenant (a regency or agency). Add its stations to the configuration file."""
    from central.accounts import create_tenant

    with _session(_config(ctx, config)) as (session, _cfg):
        create_tenant(session, tenant_id, name)
    typer.echo(f"created tenant {tenant_id}")


@tenant_app.command("list")
def tenant_list(ctx: typer.Context, config: ConfigOpt = None) -> None:
    """Tenants in the database."""
    import sqlalchemy as sa

    from central.models import Tenant

    with _session(_config(ctx, config)) as (session, _cfg):
        for t in session.scalars(sa.select(Tenant).order_by(Tenant.id)):
            typer.echo(f"{t.id}\t{t.name}")


@user_app.command("create")
def user_create(
    ctx: typer.Context,
    tenant: TenantOpt,
    name: Annotated[str, typer.Option("--name", "-n", help="Unique within the tenant; recorded on alert actions.")],
    role: Annotated[str, typer.Option("--role", "-r", help="admin, disaster_office, employee, fisher, fisheries_office, staff_admin or viewer.")],
    email: Annotated[Optional[str], typer.Option("--email", help="Where escalations reach this person.")] = None,
    config: ConfigOpt = None,
) -> None:
    """Create a user of a tenant; prints the user's id (for `key create --user`). Give them a
    console password with `user password`."""
    from central.accounts import create_user, set_email

    with _session(_config(ctx, config)) as (session, _cfg):
        user = create_user(session, tenant, name, role)
        if email is not None:
            set_email(session, user, email)
        user_id = user.id
    typer.echo(user_id)
    typer.echo(f"created user {user_id} ({role}) in {tenant}", err=True)


@user_app.command("list")
def user_list(ctx: typer.Context, tenant: TenantOpt, config: ConfigOpt = None) -> None:
    """Users of a tenant: id, role, name, disabled."""
    from central.accounts import list_users

    with _session(_config(ctx, config)) as (session, _cfg):
        users, _total = list_users(session, tenant, 1_000_000, 0)
        for u in users:
            disabled = f"\tdisabled {u.disabled_at.isoformat()}" if u.disabled_at else ""
            typer.echo(f"{u.id}\t{u.role}\t{u.name}{disabled}")


@user_app.command("disable")
def user_disable(
    ctx: typer.Context, user_id: Annotated[int, typer.Argument(metavar="USER_ID")], config: ConfigOpt = None
) -> None:
    """Disable a user: every key and console session of theirs stops working at once; their name
    stays in alert history."""
    from central.accounts import disable_user
    from contract.clock import utcnow

    with _session(_config(ctx, config)) as (session, _cfg):
        disable_user(session, user_id, utcnow())
    typer.echo(f"disabled user {user_id}")



@key_app.command("create")
def key_create(
    ctx: typer.Context,
    user: Annotated[str, typer.Option("--user", "-u", help="User id, or name together with --tenant.")],
    tenant: Annotated[Optional[str], typer.Option("--tenant", "-t", help="Tenant of a user given by name.")] = None,
    config: ConfigOpt = None,
) -> None:
    """Make an API key; the key goes to stdout this once and is stored only as a keyed hash."""
    from central.accounts import create_key, find_user

    pepper = _pepper()
    with _session(_config(ctx, config)) as (session, _cfg):
        if user.isdigit():
            user_id = int(user)
        elif tenant is not None:
            user_id = find_user(session, tenant, user).id
        else:
            raise _fail("--user is a user id, or a name together with --tenant", 2)
        row, key = create_key(session, pepper, user_id)
        key_id, owner, owner_tenant = row.id, row.user_id, row.tenant_id
    typer.echo(key)
    typer.echo(f"key {key_id} of user {owner} in {owner_tenant}: shown once, store it now", err=True)


@key_app.command("revoke")
def key_revoke(
    ctx: typer.Context, key_id: Annotated[str, typer.Argument(metavar="KEY_ID")], config: ConfigOpt = None
) -> None:
    """Revoke a key (its id is the part after `tepi_`); it stops working at the next request."""
    from central.accounts import revoke_key

    with _session(_config(ctx, config)) as (session, _cfg):
        revoke_key(session, key_id)
    typer.echo(f"revoked key {key_id}")


@key_app.command("list")
def key_list(
    ctx: typer.Context,
    tenant: TenantOpt,
    user: Annotated[Optional[int], typer.Option("--user", "-u", help="Only this user's keys.")] = None,
    config: ConfigOpt = None,
) -> None:
    """Keys of a tenant: id, user, created, revoked (never the keys themselves)."""
    from central.accounts import list_keys

    with _session(_config(ctx, config)) as (session, _cfg):
        keys, _total = list_keys(session, tenant, user, 1_000_000, 0)
        for k in keys:
            revoked = f"\trevoked {k.revoked_at.isoformat()}" if k.revoked_at else ""
            typer.echo(f"{k.id}\tuser {k.user_id}\tcreated {k.created_at.isoformat()}{revoked}")


@retention_app.command("run")
def retention_run(
    ctx: typer.Context,
    config: ConfigOpt = None,
    now: Annotated[
        Optional[str], typer.Option(help="Pretend it is this time (ISO 8601 with offset); default: now.")
    ] = None,
) -> None:
    """Enforce the configuration's retention policy now (the ingest worker also does so periodically)."""
    from central.retention import enforce_retention
    from contract.clock import utcnow

    at = utcnow()
    if now is not None:
        try:
            at = datetime.fromisoformat(now)
        except ValueError as exc:
            raise _fail(f"--now: not an ISO 8601 time: {now!r}", 2) from exc
        if at.tzinfo is None:
            raise _fail("--now needs a time-zone offset, e.g. 2026-01-01T00:00:00+07:00", 2)
    with _session(_config(ctx, config)) as (session, cfg):
        counts = enforce_retention(session, at, cfg.retention)
    typer.echo(json.dumps(counts, sort_keys=True))


@admin_app.command("demo-key")
def demo_key(
    ctx: typer.Context,
    tenant: TenantOpt,
    role: Annotated[str, typer.Option("--role", "-r", help="admin, disaster_office, employee, fisher, fisheries_office, staff_admin or viewer.")],
    config: ConfigOpt = None,
) -> None:
    """Demo mode only: a fresh key of the tenant's `demo-<role>` user (earlier ones revoked), on stdout.

    The key is stored in the configured database (TEPI_DATABASE_URL, else the config's), not
    necessarily the one a running `tepi demo` serves from: that one is `<workdir>/tepi.db`
    (`sqlite:///var/demo/tepi.db` by default), and the demo's workdir is its own option, wiped at
    each start, so there is no default to guess here; the command says where the key went."""
    from sqlalchemy.engine import make_url

    from central.accounts import demo_key as fresh_demo_key

    settings = _settings()
    if settings.mode != "demo":
        raise _fail("demo keys exist only in demo mode (TEPI_MODE=demo); use `user create` and `key create`", 2)
    with _session(_config(ctx, config)) as (session, cfg):
        key = fresh_demo_key(session, tenant, role, settings.pepper())
    database = make_url(settings.effective_database_url(cfg)).render_as_string(hide_password=True)
    typer.echo(
        f"key stored in {database}; an API on another database answers 401 (a running `tepi demo` serves "
        f"from its workdir's: TEPI_DATABASE_URL={DEMO_DATABASE_URL})",
        err=True,
    )
    typer.echo(key)
