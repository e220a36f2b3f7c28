"""`tepi admin user password` and `tepi admin user email`: what a person needs for the console.

    tepi admin user password dki-jakarta "Petugas Pusdalops"        # asked twice, not echoed
    printf '%s\n' "$PASSWORD" | tepi admin user password dki-jakarta "Petugas Pusdalops" --password-stdin
    tepi admin user email dki-jakarta "Petugas Pusdalops" pusdalops@jakarta.go.id

A password is never a command-line argument (arguments show in `ps` and in shell history).
Setting one ends the user's open console sessions. The policy (`central.passwords`) is checked
before the database is touched, so a refused password changes nothing.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated, Optional

import typer

ConfigOpt = Annotated[
    Optional[Path], typer.Option("--config", "-c", help="YAML config (default: $TEPI_CONFIG or config/tepi.yaml).")
]
TenantArg = Annotated[str, typer.Argument(metavar="TENANT", help="Tenant id, e.g. dki-jakarta.")]
NameArg = Annotated[str, typer.Argument(metavar="NAME", help="The user's name, as created.")]


def user_password(
    ctx: typer.Context,
    tenant: TenantArg,
    name: NameArg,
    password_stdin: Annotated[
        bool, typer.Option("--password-stdin", help="Read the password from the first line of stdin (scripts).")
    ] = False,
    config: ConfigOpt = None,
) -> None:
    """Set a user's console password (asked twice, not echoed); their open sessions end."""
    from central.accounts import find_user, set_password
    from central.passwords import password_problem
    from contract.clock import utcnow
    from tepi.admin_cli import _config, _fail, _session

    if password_stdin:
        password = sys.stdin.readline().removesuffix("\n").removesuffix("\r")
    else:
        password = typer.prompt("New password", hide_input=True, confirmation_prompt=True)
    problem = password_problem(password, name)
    if problem is not None:
        raise _fail(problem, 2)
    with _session(_config(ctx, config)) as (session, _cfg):
        set_password(session, find_user(session, tenant, name), password, utcnow())
    typer.echo(f"password set for {name} in {tenant}; their console sessions ended")


def user_email(
    ctx: typer.Context,
    tenant: TenantArg,
    name: NameArg,
    email: Annotated[Optional[str], typer.Argument(metavar="EMAIL", help="Omit to remove the address.")] = None,
    config: ConfigOpt = None,
) -> None:
    """Set (or, without EMAIL, remove) where escalations reach a user by email."""
    from central.accounts import find_user, set_email
    from tepi.admin_cli import _config, _session

    with _session(_config(ctx, config)) as (session, _cfg):
        set_email(session, find_user(session, tenant, name), email)
    typer.echo(f"email {'set' if email else 'removed'} for {name} in {tenant}")
