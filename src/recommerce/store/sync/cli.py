"""The store's sync commands: `recommerce store enroll` and `recommerce store sync ...`."""

from __future__ import annotations

import json
from datetime import date, datetime
from typing import TYPE_CHECKING, Annotated, NoReturn

import typer
from rich.console import Console
from rich.table import Table

if TYPE_CHECKING:
    import httpx

    from recommerce.store.bootstrap import StoreNode
    from recommerce.store.settings import StoreSettings
    from recommerce.store.sync.client import CentralClient

sync_app = typer.Typer(
    help="Sync with central: status, the worker, reconciliation.", no_args_is_help=True
)
console = Console()


def connect(central_url: str, settings: StoreSettings) -> httpx.Client:
    """The HTTP client to central (one place, so that tests can point it at central's app)."""
    from recommerce.store.sync.client import http_client

    return http_client(
        central_url, timeout_s=settings.sync_timeout_s, feed_wait_s=settings.sync_feed_wait_s
    )


def _fail(message: str, code: int = 2) -> NoReturn:
    console.print(f"[red]error:[/red] {message}")
    raise typer.Exit(code=code)


def _enrolled_client(node: StoreNode, http: httpx.Client | None = None) -> CentralClient:
    """The client of an enrolled store, on its own HTTP client unless one is given."""
    from recommerce.store.sync.client import CentralClient
    from recommerce.store.sync.state import load_state

    with node.reading() as conn:
        current = load_state(conn, node.vault)
    if current is None:
        _fail("this store is not enrolled: run `recommerce store enroll` first")
    url = node.settings.central_url or current.central_url
    return CentralClient(
        http or connect(url, node.settings),
        store_number=node.settings.store_number,
        credential=current.credential,
        protocol=node.settings.sync_protocol_version,
    )


def enroll(
    central: Annotated[str, typer.Option("--central", help="Central's URL, https://...")],
    code: Annotated[str, typer.Option("--code", help="The one-time code from head office")],
) -> None:
    """Enrol this store with central (its one-time code) and load central's catalogue."""
    from recommerce.errors import DomainError
    from recommerce.store.bootstrap import bootstrap
    from recommerce.store.sync.client import CentralUnavailable
    from recommerce.store.sync.enrolment import enrol
    from recommerce.store.sync.feed import PullStatus

    node = bootstrap()
    try:
        with connect(central, node.settings) as http:
            loaded = enrol(node, http, central_url=central, code=code)
    except DomainError as exc:
        _fail(exc.message)
    except CentralUnavailable as exc:
        _fail(str(exc))
    console.print(f"store {node.settings.store_number} enrolled with {central}")
    if loaded.status is PullStatus.SNAPSHOT:
        console.print(f"catalogue loaded from central: {loaded.applied} articles")
    else:
        console.print("the catalogue loads when the store's sync starts (see `sync status`)")


@sync_app.command("status")
def status(
    as_json: Annotated[bool, typer.Option("--json", help="One JSON object")] = False,
) -> None:
    """The queue of events central has not acknowledged, the lag, the feed, the last error."""
    from recommerce.store.bootstrap import bootstrap
    from recommerce.store.sync.status import sync_status

    figures = sync_status(bootstrap())
    if as_json:
        typer.echo(json.dumps(figures.as_json()))
        return
    table = Table(title=f"sync of store {figures.store_number}", show_header=False)
    rows = {
        "central": figures.central_url or "not enrolled",
        "queue (events not acknowledged)": f"{figures.queue_events}",
        "newest event / acknowledged": f"{figures.head_seq} / {figures.acked_seq}",
        "lag (oldest event waiting)": f"{figures.lag_seconds:.0f} s",
        "last acknowledgement": _when(figures.last_ack_at),
        "last push": _when(figures.last_push_at),
        "feed cursor": "snapshot not loaded" if figures.feed_seq is None else f"{figures.feed_seq}",
        "last error": f"{figures.last_error} ({_when(figures.last_error_at)})"
        if figures.last_error
        else "none",
        "blocked": figures.blocked_reason or "no",
    }
    for name, value in rows.items():
        table.add_row(name, value)
    console.print(table)


def _when(moment: datetime | None) -> str:
    return moment.isoformat(timespec="seconds") if moment is not None else "never"


@sync_app.command("run")
def run() -> None:
    """Run the sync worker in the foreground (for a store whose API runs elsewhere)."""
    from recommerce.logs import configure_logging
    from recommerce.store.bootstrap import bootstrap
    from recommerce.store.sync.worker import SyncWorker

    node = bootstrap()
    configure_logging(json_lines=node.settings.log_json)
    worker = SyncWorker(node)
    if not worker.start():
        _fail("this store is not enrolled: run `recommerce store enroll` first")
    console.print("sync running; Ctrl-C stops it")
    try:
        worker.join()
    except KeyboardInterrupt:
        console.print("stopping")
    finally:
        worker.stop()


@sync_app.command("reconcile")
def reconcile(
    day: Annotated[str, typer.Option("--day", help="The store's business day, 2026-11-20")],
    as_json: Annotated[bool, typer.Option("--json", help="One JSON object")] = False,
) -> None:
    """Compare the day's purchases, sales, returns and grand total with central's figures;
    exit 1 when they differ."""
    from recommerce.errors import DomainError
    from recommerce.store.bootstrap import bootstrap
    from recommerce.store.sync.client import CentralUnavailable
    from recommerce.store.sync.reconcile import reconcile_day

    try:
        the_day = date.fromisoformat(day)
    except ValueError:
        _fail(f"{day!r} is not a day (2026-11-20)")
    node = bootstrap()
    client = _enrolled_client(node)
    try:
        report = reconcile_day(node, client, the_day)
    except DomainError as exc:
        _fail(exc.message)
    except CentralUnavailable as exc:
        _fail(str(exc))
    finally:
        client.close()
    if as_json:
        typer.echo(json.dumps(report.as_json()))
    elif report.agrees:
        console.print(f"{the_day}: the store and central agree")
    else:
        table = Table(title=f"{the_day}: differences")
        for column in ("figure", "store", "central"):
            table.add_column(column)
        for diff in report.differences:
            table.add_row(diff.figure, _shown(diff.store), _shown(diff.central))
        console.print(table)
        console.print(
            f"central holds the store's events up to {report.central_applied_seq}; "
            f"the store's newest is {report.store_head_seq}"
        )
    if not report.agrees:
        raise typer.Exit(code=1)


def _shown(value: int | None) -> str:
    return "missing" if value is None else str(value)
