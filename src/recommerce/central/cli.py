"""`recommerce central ...`: head office's commands."""

from __future__ import annotations

from pathlib import Path
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
        bool,
        typer.Option(
            help=f"Create the demo's admin account {DEMO_USER!r} and load the demo catalogue"
        ),
    ] = False,
) -> None:
    """Create or upgrade central's database (Alembic)."""
    from recommerce.central.bootstrap import bootstrap
    from recommerce.central.db import tables as t
    from recommerce.central.services.catalog import seed_demo_catalogue
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
        with central.writing() as conn:
            added = seed_demo_catalogue(
                conn, now=central.clock.now(), retention=central.settings.feed_retention_events
            )
        console.print(f"catalogue: {added} demo articles added")
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


@central_app.command("reconcile")
def reconcile_command(
    store: Annotated[int | None, typer.Option("--store", help="Only this store")] = None,
    day: Annotated[
        str | None, typer.Option("--day", help="Only this business day (YYYY-MM-DD)")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the reports as JSON")] = False,
) -> None:
    """Compare central's figures with the day totals each store declared in its daily closing;
    exit code 1 when a difference is found."""
    import json
    from datetime import date

    from recommerce.central.bootstrap import bootstrap
    from recommerce.central.services.reconcile import reconcile

    try:
        only_day = date.fromisoformat(day) if day is not None else None
    except ValueError:
        _fail(DomainError(f"{day!r} is not a date (YYYY-MM-DD)", field="day"))
        return
    central = bootstrap()
    with central.reading() as conn:
        reports = reconcile(conn, store_number=store, day=only_day)
    differs = any(r.status == "differs" for r in reports)
    if as_json:
        typer.echo(json.dumps({"days": [r.as_dict() for r in reports], "differs": differs}))
    else:
        for r in reports:
            where = f"store {r.store_number:03d} {r.day.isoformat()}"
            if r.status == "no_closing":
                console.print(f"{where}: no closing received yet")
            elif r.status == "agrees":
                console.print(f"{where}: [green]agrees[/green]")
            for d in r.differences:
                console.print(
                    f"{where}: [red]{d.figure}[/red] central {d.central}, store {d.store}"
                )
        if not reports:
            console.print("nothing to reconcile")
    if differs:
        raise typer.Exit(code=1)


@central_app.command("catalog-import")
def catalog_import(
    file: Annotated[Path, typer.Argument(help="A CSV file; the first line names the columns")],
) -> None:
    """Create or update articles from a CSV file, all lines or none (columns: category_code,
    brand, model, reference_new_price_cents; optional: id, name, gtin, released_on, attr:NAME).
    Every change reaches every store's feed."""
    from recommerce.central.bootstrap import bootstrap
    from recommerce.central.services.catalog import import_articles_csv

    try:
        text = file.read_bytes().decode("utf-8-sig")
    except OSError as exc:
        _fail(DomainError(f"cannot read {file}: {exc.strerror}", field="file"))
        return
    except UnicodeDecodeError:
        _fail(DomainError(f"{file} is not UTF-8 text: save it as CSV UTF-8", field="file"))
        return
    central = bootstrap()
    try:
        with central.writing() as conn:
            result = import_articles_csv(
                conn,
                text,
                now=central.clock.now(),
                retention=central.settings.feed_retention_events,
            )
    except DomainError as exc:
        for error in exc.extra.get("errors", []):
            where = f" ({error['field']})" if error["field"] else ""
            console.print(f"[red]line {error['line']}[/red]{where}: {error['message']}")
        _fail(exc)
        return
    console.print(
        f"articles: {result.created} created, {result.updated} updated, "
        f"{result.unchanged} unchanged"
    )


@central_app.command("prune-feed")
def prune_feed(
    keep: Annotated[
        int | None,
        typer.Option(help="Rows kept per store (default: the feed_retention_events setting)"),
    ] = None,
) -> None:
    """Delete the oldest rows of every store's downstream feed, keeping the newest KEEP; a store
    further behind reloads the snapshot."""
    from recommerce.central.bootstrap import bootstrap
    from recommerce.central.services.feed import prune

    central = bootstrap()
    try:
        with central.writing() as conn:
            deleted = prune(conn, central.settings.feed_retention_events if keep is None else keep)
    except DomainError as exc:
        _fail(exc)
        return
    console.print(f"feed: {deleted} rows deleted")


@central_app.command("rollups-rebuild")
def rollups_rebuild() -> None:
    """Write reporting's rollups again from the read models (tickets, items, purchases): for a
    database whose rollups were never filled, or after a repair. Batches from the stores wait
    until it is done."""
    from recommerce.central.bootstrap import bootstrap
    from recommerce.central.services.rollups import rebuild

    central = bootstrap()
    with console.status("reading the tickets...") as status:

        def progress(tickets: int) -> None:
            status.update(f"{tickets:,} tickets read")

        with central.writing() as conn:
            rebuilt = rebuild(conn, progress=progress)
    console.print(
        f"rollups rebuilt from {rebuilt.tickets:,} tickets and {rebuilt.items_bought:,} items bought"
    )
