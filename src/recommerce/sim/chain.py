"""A chain on one machine: central and its store nodes as real processes, each store reaching
central through its own fault proxy (its link to head office, which the simulator cuts, slows
and restores), every process on the same simulated clock.

The simulator (`recommerce sim`), the demo and the benchmark of a trading day build on it.
"""

from __future__ import annotations

import contextlib
import shutil
import threading
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
from cryptography.fernet import Fernet
from pydantic import SecretStr

from recommerce.central.settings import CentralSettings
from recommerce.sim.processes import (
    ManagedProcess,
    central_process,
    init_central,
    init_store,
    register_and_enrol,
    store_process,
)
from recommerce.sim.proxy import FaultProxy
from recommerce.store.bootstrap import fiscal_key
from recommerce.store.seed import DEMO_PASSWORD
from recommerce.store.settings import StoreSettings

HTTP_TIMEOUT_S = 30.0
STARTERS = 4  # store processes started at once: each start imports the app (CPU-bound)


@dataclass(frozen=True, slots=True)
class StorePlace:
    """Where a store of the chain is: its number, name and city."""

    number: int
    name: str
    city: str


@dataclass
class ChainStore:
    """One store of the chain: its settings, its process, its link to central, and its staff's
    sessions (bearer tokens, logged in again when they expire)."""

    place: StorePlace
    settings: StoreSettings
    process: ManagedProcess
    link: FaultProxy
    _tokens: dict[str, str] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def number(self) -> int:
        return self.place.number

    @property
    def url(self) -> str:
        return self.process.url

    @property
    def database_url(self) -> str:
        return self.settings.effective_database_url

    def http(self) -> httpx.Client:
        return httpx.Client(base_url=self.url, trust_env=False, timeout=HTTP_TIMEOUT_S)

    def headers(self, username: str, *, fresh: bool = False) -> dict[str, str]:
        """Bearer headers of a member of the store's staff (demo accounts), logging in once."""
        with self._lock:
            if fresh or username not in self._tokens:
                with self.http() as client:
                    answer = client.post(
                        "/api/v1/auth/token",
                        json={"username": username, "password": DEMO_PASSWORD},
                    )
                answer.raise_for_status()
                self._tokens[username] = answer.json()["access_token"]
            return {"Authorization": f"Bearer {self._tokens[username]}"}

    def forget_sessions(self) -> None:
        """A new day (or a restarted node): staff log in again."""
        with self._lock:
            self._tokens.clear()


class Chain:
    """Central and `places` stores in `workdir`, on SQLite unless `central_database_url` says
    otherwise; `clock_file` is the simulated clock every process reads."""

    def __init__(
        self,
        workdir: Path,
        places: list[StorePlace],
        *,
        clock_file: Path,
        central_database_url: str | None = None,
        central_options: dict[str, Any] | None = None,
        store_options: dict[str, Any] | None = None,
        base_port: int | None = None,
    ) -> None:
        self.workdir = workdir
        self.places = places
        self.clock_file = clock_file
        self.central_settings = CentralSettings(
            environment="test",
            data_dir=workdir / "central",
            database_url=central_database_url
            or f"sqlite:///{(workdir / 'central' / 'central.db').resolve()}",
            clock_file=clock_file,
            **(central_options or {}),
        )
        self._store_options = store_options or {}
        self._base_port = base_port  # central on it, store n on base_port + n; else any free
        self.central: ManagedProcess | None = None
        self.stores: list[ChainStore] = []
        self._migrating = threading.Lock()
        self._joining = threading.Lock()

    # --- starting and stopping ------------------------------------------------------------

    def start(self, prepare_central: Callable[[CentralSettings], None] | None = None) -> Chain:
        """Initialise central (and `prepare_central` it, e.g. with its catalogue, before it
        starts), start it, then each store behind its link, enrolled: the snapshot each store
        loads at enrolment already holds what central was prepared with."""
        init_central(self.central_settings)
        if prepare_central is not None:
            prepare_central(self.central_settings)
        self.central = central_process(self.central_settings, port=self._base_port)
        try:
            self.central.start()
            # Several stores at once, each enrolled then started; their databases are
            # migrated one at a time (Alembic's commands are not made to run in parallel in
            # one process).
            with ThreadPoolExecutor(max_workers=STARTERS) as pool:
                list(pool.map(self._enrolled_store, self.places))
        except BaseException:
            self.stop()  # no process is left behind by a chain that did not start
            raise
        self.stores.sort(key=lambda store: store.number)
        return self

    def _store_settings(self, place: StorePlace) -> StoreSettings:
        data_dir = self.workdir / f"store-{place.number:03d}"
        return StoreSettings(
            environment="test",
            data_dir=data_dir,
            database_url=f"sqlite:///{(data_dir / 'store.db').resolve()}",
            store_number=place.number,
            store_name=place.name,
            store_city=place.city,
            identity_key=SecretStr(Fernet.generate_key().decode()),
            clock_file=self.clock_file,
            **self._store_options,
        )

    def _init_store(self, settings: StoreSettings) -> None:
        """`recommerce store init --demo-staff` for the first store; the others start from a
        copy of its fresh database (the same schema, catalogue and staff accounts: migrating
        and hashing passwords once instead of once per store), with their own fiscal key."""
        template = self.workdir / "store-template.db"
        with self._migrating:
            if not template.exists():
                init_store(settings)
                shutil.copyfile(settings.data_dir / "store.db", template)
                return
        settings.data_dir.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(template, settings.data_dir / "store.db")
        fiscal_key(settings, create=True)

    def _enrolled_store(self, place: StorePlace) -> ChainStore:
        """The store initialised and enrolled, its link up, its process started."""
        assert self.central is not None
        settings = self._store_settings(place)
        self._init_store(settings)
        link = FaultProxy.in_front_of(self.central.url).start()
        port = None if self._base_port is None else self._base_port + place.number
        store = ChainStore(place, settings, store_process(settings, port=port), link)
        with self._joining:  # `stop` stops every store in the list, started or not
            self.stores.append(store)
        register_and_enrol(self.central.url, settings, store_central_url=link.url, migrate=False)
        store.process.start()
        return store

    def stop(self) -> None:
        """Stop every process (SIGTERM, then SIGKILL if it lingers) and every link."""
        with contextlib.ExitStack() as stack:
            if self.central is not None:
                stack.callback(self.central.stop)
            for store in self.stores:
                stack.callback(store.link.stop)
                stack.callback(store.process.stop)

    def __enter__(self) -> Chain:
        return self

    def __exit__(self, *_: object) -> None:
        self.stop()

    # --- head office ----------------------------------------------------------------------

    @property
    def central_url(self) -> str:
        assert self.central is not None, "the chain is not started"
        return self.central.url

    @contextlib.contextmanager
    def central_http(self) -> Iterator[httpx.Client]:
        with httpx.Client(
            base_url=self.central_url, trust_env=False, timeout=HTTP_TIMEOUT_S
        ) as client:
            yield client

    def store(self, number: int) -> ChainStore:
        return next(s for s in self.stores if s.number == number)
