"""`recommerce central ...`: head office's commands."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.console import Console

from recommerce.errors import DomainError

central_app = typer.Typer(help="Central: head office's services.", no_args_is_help=True)
console = Console()

DEMO_USER = "siege"
DEMO_PASSWORD = "demo-recommerce"


def _fail(exc: DomainError) -> None:
    field = f" ({exc.field})" if exc.field else ""
    console.print(f"[red]error:[/red] {exc.message}{field}")
    raise typer.Exit(code=2)


def _logging() -> None:
    from recommerce.central.settings import CentralSettings
    from recommerce.logs import configure_logging

    configure_logging(json_lines=CentralSettings().log_json)


@central_app.command("init")
def central_init(
    demo_user: Annotated[
        bool, typer.Option(help=f"Create the demo's admin account {DEMO_USER!r}")
    ] = False,
) -> None:
    """Create or upgrade central's database (Alembic)."""
    from recommerce.central.bootstrap import bootstrap
    from recommerce.central.db import tables as t
    from recommerce.central.services.users import UserRole, create_user

    central = bootstrap()
    if demo_user:
        with central.writing() as conn:
            exists = conn.execute(t.users.select().where(t.users.c.username == DEMO_USER)).first()
            if exists is None:
                create_user(
                    conn,
                    username=DEMO_USER,
                    full_name="Siège (démo)",
                    role=UserRole.ADMIN,
                    password=DEMO_PASSWORD,
                    at=central.clock.now(),
                )
                console.print(f"admin account: {DEMO_USER} (password {DEMO_PASSWORD})")
    console.print(f"database ready: {central.settings.effective_database_url}")


@central_app.command("serve")
def central_serve(
    host: Annotated[str, typer.Option(help="Interface to listen on")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="TCP port")] = 8000,
) -> None:
    """Run central (migrations are applied at start)."""
    import uvicorn

    from recommerce.central.app import create_app

    _logging()
    uvicorn.run(create_app(), host=host, port=port, log_config=None, access_log=False)


@central_app.command("user-add")
def user_add(
    username: str,
    full_name: Annotated[str, typer.Option("--name", help="Full name")],
    role: Annotated[str, typer.Option(help="admin or backoffice")] = "backoffice",
    password: Annotated[
        str, typer.Option(prompt=True, hide_input=True, envvar="RECOMMERCE_CENTRAL_PASSWORD")
    ] = "",
) -> None:
    """Create a head-office account."""
    from recommerce.central.bootstrap import bootstrap
    from recommerce.central.services.users import UserRole, create_user

    try:
        user_role = UserRole(role)
    except ValueError:
        _fail(DomainError("the role is admin or backoffice", field="role"))
        return
    central = bootstrap()
    try:
        with central.writing() as conn:
            create_user(
                conn,
                username=username,
                full_name=full_name,
                role=user_role,
                password=password,
                at=central.clock.now(),
            )
    except DomainError as exc:
        _fail(exc)
    console.print(f"account {username} ({user_role.value}) created")


@central_app.command("store-add")
def store_add(
    number: Annotated[int, typer.Option(help="The store's number (0-999)")],
    name: Annotated[str, typer.Option(help="The store's name")],
    city: Annotated[str, typer.Option(help="Its city")],
    timezone: Annotated[str, typer.Option(help="Its business day's time zone")] = "Europe/Paris",
) -> None:
    """Register a store and print its one-time enrolment code."""
    from recommerce.central.bootstrap import bootstrap
    from recommerce.central.services.stores import new_enrolment_code, register_store

    central = bootstrap()
    now = central.clock.now()
    try:
        with central.writing() as conn:
            register_store(conn, number=number, name=name, city=city, timezone=timezone, at=now)
            code = new_enrolment_code(conn, number, at=now, ttl=central.settings.enrolment_code_ttl)
    except DomainError as exc:
        _fail(exc)
        return
    console.print(f"store {number:03d} {name} ({city}) registered")
    console.print(
        f"enrolment code (valid until {now + central.settings.enrolment_code_ttl:%Y-%m-%d %H:%M} UTC): {code}"
    )
    console.print("on the store: recommerce store enroll --central URL --code CODE")


@central_app.command("enrolment-code")
def enrolment_code(
    number: Annotated[int, typer.Option(help="The store's number")],
) -> None:
    """A new one-time enrolment code for a registered store (re-enrolment revokes the old
    credential)."""
    from recommerce.central.bootstrap import bootstrap
    from recommerce.central.services.stores import new_enrolment_code

    central = bootstrap()
    try:
        with central.writing() as conn:
            code = new_enrolment_code(
                conn, number, at=central.clock.now(), ttl=central.settings.enrolment_code_ttl
            )
    except DomainError as exc:
        _fail(exc)
        return
    console.print(f"enrolment code for store {number:03d}: {code}")
