"""The `recommerce` command line."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console
from rich.table import Table

from recommerce.argus.cli import app as argus_app
from recommerce.central.cli import central_app
from recommerce.errors import DomainError
from recommerce.sim import cli as sim_cli
from recommerce.sim.history_cli import history_app
from recommerce.store.sync import cli as sync_cli

if TYPE_CHECKING:
    from recommerce.staff.model import StaffMember
    from recommerce.store.bootstrap import StoreNode

app = typer.Typer(
    help="recommerce: the store node and central of a second-hand chain.", no_args_is_help=True
)
store_app = typer.Typer(help="The store node: the server in each store.", no_args_is_help=True)
app.add_typer(store_app, name="store")
store_app.add_typer(sync_cli.sync_app, name="sync")
store_app.command("enroll")(sync_cli.enroll)
fiscal_app = typer.Typer(help="The store's fiscal journal.", no_args_is_help=True)
app.add_typer(fiscal_app, name="fiscal")
app.add_typer(central_app, name="central")
app.add_typer(argus_app, name="argus")
app.command("sim")(sim_cli.sim)
app.command("demo")(sim_cli.demo)
app.add_typer(history_app, name="history")
console = Console()


def _fail(exc: DomainError) -> None:
    field = f" ({exc.field})" if exc.field else ""
    console.print(f"[red]error:[/red] {exc.message}{field}")
    raise typer.Exit(code=2)


def _logging() -> None:
    from recommerce.logs import configure_logging
    from recommerce.store.settings import StoreSettings

    configure_logging(json_lines=StoreSettings().log_json)


@store_app.command("init")
def store_init(
    demo_staff: Annotated[bool, typer.Option(help="Create the demo's staff accounts")] = False,
    admin: Annotated[str | None, typer.Option(help="Create this admin username")] = None,
    admin_password: Annotated[
        str | None, typer.Option(envvar="RECOMMERCE_ADMIN_PASSWORD", help="Its password")
    ] = None,
) -> None:
    """Create or upgrade the database (Alembic), load the starting catalogue."""
    from recommerce.staff.model import Role
    from recommerce.store.bootstrap import bootstrap, fiscal_key
    from recommerce.store.seed import DEMO_PASSWORD, seed_catalog, seed_demo_staff
    from recommerce.store.services.staff import create_staff
    from recommerce.store.settings import StoreSettings

    settings = StoreSettings()
    fiscal_key(settings, create=True)  # the journal's signing key, made once, outside the database
    node = bootstrap(settings)
    console.print(f"fiscal key: {node.settings.effective_fiscal_key_path}")
    try:
        with node.uow() as uow:
            added = seed_catalog(uow.conn)
            created = seed_demo_staff(uow.conn, at=node.clock.now()) if demo_staff else []
            if admin:
                if not admin_password:
                    raise DomainError("give --admin-password", field="admin_password")
                create_staff(
                    uow.conn,
                    username=admin,
                    full_name=admin,
                    role=Role.ADMIN,
                    password=admin_password,
                    at=node.clock.now(),
                    created_by=None,
                )
                created.append(admin)
            uow.commit()
    except DomainError as exc:
        _fail(exc)
    console.print(f"database ready: {node.settings.effective_database_url}")
    console.print(f"catalogue: {added} articles added")
    for username in created:
        hint = f" (password {DEMO_PASSWORD})" if demo_staff and username != admin else ""
        console.print(f"staff account: {username}{hint}")


@store_app.command("serve")
def store_serve(
    host: Annotated[str, typer.Option(help="Interface to listen on")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="TCP port")] = 8001,
) -> None:
    """Run the store node (migrations are applied at start)."""
    import uvicorn

    from recommerce.store.app import create_app

    _logging()
    uvicorn.run(create_app(), host=host, port=port, log_config=None)


@store_app.command("demo")
def store_demo(
    host: Annotated[str, typer.Option()] = "127.0.0.1",
    port: Annotated[int, typer.Option()] = 8001,
) -> None:
    """Initialise a demo store on SQLite (catalogue, staff accounts) and run it."""
    import uvicorn

    from recommerce.store.app import create_app
    from recommerce.store.seed import DEMO_PASSWORD, DEMO_STAFF

    store_init(demo_staff=True)
    base = f"http://{host}:{port}"
    table = Table(title="recommerce demo store")
    table.add_column("what")
    table.add_column("where")
    table.add_row("staff login", f"{base}/login")
    table.add_row("API (OpenAPI)", f"{base}/docs")
    table.add_row("health", f"{base}/healthz")
    table.add_row("metrics", f"{base}/metrics")
    for username, _, role in DEMO_STAFF:
        table.add_row(f"login ({role.value})", f"{username} / {DEMO_PASSWORD}")
    console.print(table)
    console.print("Ctrl-C stops the store.")
    _logging()
    uvicorn.run(create_app(), host=host, port=port, log_config=None, access_log=False)


@store_app.command("staff-add")
def staff_add(
    username: str,
    full_name: str,
    role: str,
    password: Annotated[str, typer.Option(prompt=True, hide_input=True, confirmation_prompt=True)],
) -> None:
    """Create a staff account (roles: buyer, cashier, manager, admin)."""
    from recommerce.staff.model import Role
    from recommerce.store.bootstrap import bootstrap
    from recommerce.store.services.staff import create_staff

    try:
        the_role = Role(role)
    except ValueError:
        console.print(f"[red]error:[/red] unknown role {role!r}: buyer, cashier, manager or admin")
        raise typer.Exit(code=2) from None
    node = bootstrap()
    try:
        with node.uow() as uow:
            create_staff(
                uow.conn,
                username=username,
                full_name=full_name,
                role=the_role,
                password=password,
                at=node.clock.now(),
                created_by=None,
            )
            uow.commit()
    except DomainError as exc:
        _fail(exc)
    console.print(f"staff account {username} ({the_role.value}) created")


@store_app.command("watchlist-import")
def watchlist_import(
    csv_file: Annotated[Path, typer.Argument(exists=True, dir_okay=False, readable=True)],
    as_user: Annotated[str, typer.Option("--as", help="Manager or admin username")],
    source: Annotated[str, typer.Option(help="Who reported these serials")] = "import",
) -> None:
    """Import serials/IMEIs reported stolen from a CSV file."""
    from recommerce.store.bootstrap import bootstrap
    from recommerce.store.services.watchlist import import_watchlist

    node = bootstrap()
    manager = _staff_named(node, as_user)
    try:
        count = import_watchlist(node, manager, csv_file.read_text(encoding="utf-8"), source=source)
    except DomainError as exc:
        _fail(exc)
    console.print(f"{count} serials on the watchlist")


@fiscal_app.command("verify")
def fiscal_verify() -> None:
    """Walk the chained, signed journal; name the first record that does not verify."""
    from recommerce.store.bootstrap import bootstrap
    from recommerce.store.services.fiscal import verify_store_journal

    result = verify_store_journal(bootstrap())
    if result.ok:
        console.print(f"[green]{result.message}[/green]")
        return
    console.print(f"[red]{result.message}[/red]")
    raise typer.Exit(code=1)


def _staff_named(node: StoreNode, username: str) -> StaffMember:
    from sqlalchemy import select

    from recommerce.store.db import tables as t
    from recommerce.store.services.staff import member_from_row

    with node.uow() as uow:
        row = uow.conn.execute(select(t.staff).where(t.staff.c.username == username)).first()
    if row is None:
        console.print(f"[red]error:[/red] no staff account {username!r}")
        raise typer.Exit(code=2)
    return member_from_row(row)


@fiscal_app.command("close")
def fiscal_close(
    period: Annotated[str, typer.Argument(help="day, month or year")],
    label: Annotated[str, typer.Argument(help="2026-11-20, 2026-11 or 2026")],
    as_user: Annotated[str, typer.Option("--as", help="Manager username")],
) -> None:
    """Close a day, a month or a year: a chained, signed record with the grand total."""
    from recommerce.fiscal.closings import Period
    from recommerce.store.bootstrap import bootstrap
    from recommerce.store.services.closings import close_period

    try:
        the_period = Period(period)
    except ValueError:
        console.print(f"[red]error:[/red] {period!r} is not day, month or year")
        raise typer.Exit(code=2) from None
    node = bootstrap()
    try:
        record = close_period(node, _staff_named(node, as_user), the_period, label)
    except DomainError as exc:
        _fail(exc)
    console.print(
        f"{record.label}: record {record.seq}, total {record.fields['total_cents'] / 100:.2f} EUR, "
        f"grand total {record.fields['grand_total_cents'] / 100:.2f} EUR"
    )


@fiscal_app.command("archive")
def fiscal_archive(
    year: Annotated[int, typer.Option(help="The closed year to archive")],
    out: Annotated[Path, typer.Option(help="Folder to write the archive into")],
) -> None:
    """Write the signed yearly archive (JSON, CSV, manifest, signature, public key)."""
    from recommerce.store.bootstrap import bootstrap
    from recommerce.store.services.closings import archive_year

    try:
        paths = archive_year(bootstrap(), year, out)
    except DomainError as exc:
        _fail(exc)
    for path in paths:
        console.print(f"written {path}")


@app.command("bench")
def bench(
    json_path: Annotated[Path, typer.Option("--json", help="Where to write the figures")],
    quick: Annotated[bool, typer.Option(help="Fewer repetitions, for a smoke run")] = False,
) -> None:
    """Measure the performance figures (with same-run references): a table, and JSON."""
    import json

    from recommerce.sim.bench import run

    report = run(quick=quick)
    json_path.parent.mkdir(parents=True, exist_ok=True)
    json_path.write_text(json.dumps(report, indent=2) + "\n")
    machine = report["machine"]
    table = Table(title=f"recommerce bench ({machine['cpus']} cpus, {machine['platform']})")
    table.add_column("figure")
    table.add_column("value", justify="right")
    table.add_column("goal (informational)", justify="right")
    goals = report.get("goals", {})
    for name, value in report["figures"].items():
        goal = goals.get(name)
        shown = ""
        if goal is not None:
            # A duration or a size is a ceiling (..._ms, ..._s, ..._mb), a rate a floor
            # (..._per_s).
            ceiling = name.endswith(("_ms", "_s", "_mb")) and not name.endswith("_per_s")
            met = value <= goal if ceiling else value >= goal
            shown = f"{'<=' if ceiling else '>='} {goal} ({'met' if met else 'missed'})"
        table.add_row(name, f"{value}", shown)
    console.print(table)
    console.print(f"written to {json_path}")


if __name__ == "__main__":
    app()
