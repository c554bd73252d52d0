"""Central and store nodes as real processes: started as a shop or head office runs them
(`uvicorn` on the app factory, settings from environment variables), killed with SIGKILL at
any instant, restarted on the same port and data. The fault tests of the sync protocol, the
benchmark and the chain simulator build on these.

Each process has its own data directory, which is its working directory (no stray `.env` is
read) and holds its log; it inherits no RECOMMERCE_* variable from the caller, only those of
its own settings.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from enum import Enum
from pathlib import Path
from types import TracebackType

import httpx
from pydantic import SecretStr
from pydantic_settings import BaseSettings
from sqlalchemy import select

from recommerce.central.bootstrap import bootstrap as bootstrap_central
from recommerce.central.cli import DEMO_PASSWORD as CENTRAL_PASSWORD
from recommerce.central.cli import DEMO_USER as CENTRAL_ADMIN
from recommerce.central.db import tables as central_tables
from recommerce.central.services.users import UserRole, create_user
from recommerce.central.settings import CentralSettings
from recommerce.store.bootstrap import bootstrap as bootstrap_store
from recommerce.store.bootstrap import fiscal_key
from recommerce.store.seed import seed_catalog, seed_demo_staff
from recommerce.store.settings import StoreSettings
from recommerce.store.sync.cli import connect
from recommerce.store.sync.enrolment import enrol
from recommerce.store.sync.feed import PullResult

HOST = "127.0.0.1"
STARTUP_TIMEOUT_S = 60.0  # the first start migrates an empty database
STOP_TIMEOUT_S = 15.0  # after SIGTERM, before SIGKILL
GRACEFUL_SHUTDOWN_S = 5  # uvicorn's wait for open requests (a long poll holds one 30 s)
LOG_TAIL = 4000

CENTRAL_FACTORY = "recommerce.central.app:create_app"
STORE_FACTORY = "recommerce.store.app:create_app"


def free_port(host: str = HOST) -> int:
    """A TCP port free at the time of asking."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        port: int = sock.getsockname()[1]
        return port


def _env_value(value: object) -> str:
    if isinstance(value, SecretStr):
        return value.get_secret_value()
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, Path):
        return str(value.resolve())  # the process runs in its data directory
    if isinstance(value, Enum):
        return str(value.value)
    if isinstance(value, list | dict | tuple):
        return json.dumps(value)
    return str(value)


def settings_env(settings: BaseSettings) -> dict[str, str]:
    """The environment variables that give another process exactly these settings. A field
    that is None is left out (a variable cannot say None): the process takes its default."""
    prefix = str(settings.model_config.get("env_prefix", ""))
    return {
        f"{prefix}{name}".upper(): _env_value(value)
        for name in type(settings).model_fields
        if (value := getattr(settings, name)) is not None
    }


def store_env(settings: StoreSettings) -> dict[str, str]:
    env = settings_env(settings)
    env["RECOMMERCE_DATABASE_URL"] = settings.effective_database_url
    env["RECOMMERCE_FISCAL_KEY_PATH"] = str(settings.effective_fiscal_key_path.resolve())
    return env


def central_env(settings: CentralSettings) -> dict[str, str]:
    env = settings_env(settings)
    env["RECOMMERCE_CENTRAL_DATABASE_URL"] = settings.effective_database_url
    return env


class ManagedProcess:
    """One node under uvicorn in its own process, on a fixed port.

    `start()` returns once /healthz answers 200; `kill()` is SIGKILL (nothing flushed, nothing
    closed: a power cut for the process); `stop()` is SIGTERM, then SIGKILL if it lingers;
    `restart()` starts it again on the same port and data. As a context manager it is started
    on entry (if not yet) and stopped on exit.
    """

    def __init__(
        self,
        name: str,
        factory: str,
        env: dict[str, str],
        data_dir: Path,
        *,
        port: int | None = None,
        log_level: str = "warning",
        startup_timeout: float = STARTUP_TIMEOUT_S,
    ) -> None:
        self.name = name
        self.factory = factory
        self.env = env
        self.data_dir = data_dir.resolve()
        self.port = port or free_port()
        self.log_level = log_level
        self.startup_timeout = startup_timeout
        self.log_path = self.data_dir / f"{name}.log"
        self.starts = 0
        self._process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://{HOST}:{self.port}"

    @property
    def pid(self) -> int:
        """The current (or last) process's id."""
        if self._process is None:
            raise RuntimeError(f"{self.name} was never started")
        return self._process.pid

    @property
    def running(self) -> bool:
        return self._process is not None and self._process.poll() is None

    @property
    def returncode(self) -> int | None:
        """How the last process ended (-9: SIGKILL); None while it runs or before a start."""
        return None if self._process is None else self._process.poll()

    def start(self) -> ManagedProcess:
        if self.running:
            raise RuntimeError(f"{self.name} is already running (pid {self.pid})")
        self.data_dir.mkdir(parents=True, exist_ok=True)
        env = {k: v for k, v in os.environ.items() if not k.startswith("RECOMMERCE_")}
        env.update(self.env, PYTHONUNBUFFERED="1")
        command = [
            sys.executable,
            "-m",
            "uvicorn",
            "--factory",
            self.factory,
            "--host",
            HOST,
            "--port",
            str(self.port),
            "--log-level",
            self.log_level,
            "--no-access-log",
            "--timeout-graceful-shutdown",
            str(GRACEFUL_SHUTDOWN_S),
        ]
        with self.log_path.open("a") as log:
            log.write(f"--- {self.name}: start {self.starts + 1} on port {self.port}\n")
            log.flush()
            self._process = subprocess.Popen(
                command, cwd=self.data_dir, env=env, stdout=log, stderr=subprocess.STDOUT
            )
        self.starts += 1
        try:
            self.wait_healthy()
        except BaseException:
            self.kill()
            raise
        return self

    def wait_healthy(self, timeout: float | None = None) -> None:
        """Return once /healthz answers 200; raise with the log's end if the process stops or
        the time runs out."""
        deadline = time.monotonic() + (self.startup_timeout if timeout is None else timeout)
        with httpx.Client(base_url=self.url, trust_env=False, timeout=2) as client:
            while True:
                if not self.running:
                    raise RuntimeError(
                        f"{self.name} stopped (code {self.returncode}):\n{self.log_tail()}"
                    )
                try:
                    if client.get("/healthz").status_code == 200:
                        return
                except httpx.TransportError:
                    pass
                if time.monotonic() > deadline:
                    raise RuntimeError(
                        f"{self.name} is not healthy at {self.url}:\n{self.log_tail()}"
                    )
                time.sleep(0.05)

    def kill(self) -> None:
        """SIGKILL, and wait until the process is gone (its port is then free)."""
        if self._process is not None and self.running:
            self._process.send_signal(signal.SIGKILL)
        if self._process is not None:
            self._process.wait()

    def stop(self) -> None:
        """SIGTERM (uvicorn finishes open requests, the app shuts down), SIGKILL if it has not
        ended within STOP_TIMEOUT_S."""
        if self._process is None or not self.running:
            return
        self._process.terminate()
        try:
            self._process.wait(timeout=STOP_TIMEOUT_S)
        except subprocess.TimeoutExpired:
            self.kill()

    def restart(self) -> ManagedProcess:
        """Start again on the same port and data (stopped first if it still runs)."""
        self.stop()
        return self.start()

    def cpu_seconds(self) -> float | None:
        """CPU time (user + system) the running process has used, where /proc tells it."""
        try:
            stat = Path(f"/proc/{self.pid}/stat").read_text()
        except OSError:
            return None
        fields = stat.rsplit(")", 1)[1].split()  # after "pid (name)": state is fields[0]
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    def log_tail(self, chars: int = LOG_TAIL) -> str:
        try:
            return self.log_path.read_text(errors="replace")[-chars:]
        except OSError:
            return ""

    def __enter__(self) -> ManagedProcess:
        return self if self.running else self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()

    def __repr__(self) -> str:
        state = f"pid {self._process.pid}" if self.running and self._process else "stopped"
        return f"<ManagedProcess {self.name} {self.url} {state}>"


def store_process(
    settings: StoreSettings,
    *,
    central_url: str | None = None,
    port: int | None = None,
    env: dict[str, str] | None = None,
) -> ManagedProcess:
    """A store node (not started) on these settings; `central_url` is where its sync worker
    reaches central (RECOMMERCE_CENTRAL_URL), e.g. a FaultProxy's URL."""
    variables = store_env(settings)
    if central_url is not None:
        variables["RECOMMERCE_CENTRAL_URL"] = central_url
    variables.update(env or {})
    return ManagedProcess(
        f"store-{settings.store_number:03d}",
        STORE_FACTORY,
        variables,
        settings.data_dir,
        port=port,
    )


def central_process(
    settings: CentralSettings, *, port: int | None = None, env: dict[str, str] | None = None
) -> ManagedProcess:
    """Central (not started) on these settings."""
    return ManagedProcess(
        "central",
        CENTRAL_FACTORY,
        {**central_env(settings), **(env or {})},
        settings.data_dir,
        port=port,
    )


# --- initialising nodes and enrolling a store -------------------------------------------------


def init_central(
    settings: CentralSettings, *, admin: str = CENTRAL_ADMIN, password: str = CENTRAL_PASSWORD
) -> None:
    """What `recommerce central init --demo-user` does: migrate central's database and create
    the admin account (skipped if it exists)."""
    central = bootstrap_central(settings)
    try:
        with central.writing() as conn:
            exists = conn.execute(
                select(central_tables.users.c.id).where(central_tables.users.c.username == admin)
            ).first()
            if exists is None:
                create_user(
                    conn,
                    username=admin,
                    full_name="Siège (démo)",
                    role=UserRole.ADMIN,
                    password=password,
                    at=central.clock.now(),
                )
    finally:
        central.engine.dispose()


def init_store(settings: StoreSettings) -> None:
    """What `recommerce store init --demo-staff` does: the fiscal key, the migrated database,
    the starting catalogue and the demo's staff accounts (password DEMO_PASSWORD)."""
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    fiscal_key(settings, create=True)
    node = bootstrap_store(settings)
    try:
        with node.uow() as uow:
            seed_catalog(uow.conn)
            seed_demo_staff(uow.conn, at=node.clock.now())
            uow.commit()
    finally:
        node.engine.dispose()


def _expect(response: httpx.Response, status: int) -> dict[str, object]:
    if response.status_code != status:
        raise RuntimeError(
            f"{response.request.method} {response.request.url} answered "
            f"{response.status_code}, not {status}: {response.text[:500]}"
        )
    body = response.json()
    if not isinstance(body, dict):
        raise RuntimeError(f"{response.request.url} answered JSON that is not an object")
    return body


def central_admin_headers(
    central_url: str, *, username: str = CENTRAL_ADMIN, password: str = CENTRAL_PASSWORD
) -> dict[str, str]:
    """Bearer headers of a head-office account, logged in over HTTP."""
    with httpx.Client(base_url=central_url, trust_env=False, timeout=10) as client:
        body = _expect(
            client.post("/api/v1/auth/token", json={"username": username, "password": password}),
            200,
        )
    return {"Authorization": f"Bearer {body['access_token']}"}


def register_store(
    central_url: str,
    admin_headers: dict[str, str],
    *,
    number: int,
    name: str,
    city: str,
    timezone: str = "Europe/Paris",
) -> str:
    """Register a store at a running central, as head office does (unless it is registered
    already), and return its one-time enrolment code."""
    with httpx.Client(
        base_url=central_url, trust_env=False, timeout=10, headers=admin_headers
    ) as client:
        registered = client.post(
            "/api/v1/stores",
            json={"number": number, "name": name, "city": city, "timezone": timezone},
        )
        if registered.status_code != 409:  # 409: head office registered it already
            _expect(registered, 201)
        body = _expect(client.post(f"/api/v1/stores/{number}/enrolment-codes"), 201)
    return str(body["code"])


def enrol_store(
    settings: StoreSettings, central_url: str, code: str, *, migrate: bool = True
) -> PullResult:
    """What `recommerce store enroll --central URL --code CODE` does: exchange the code for
    the store's credential, keep it (encrypted) in the store's database with `central_url` as
    the address its sync worker calls, and load central's snapshot (if it cannot load now, the
    worker loads it first). The worker reads the enrolment when the store's process starts:
    enrol a stopped store, or restart it afterwards. Raises DomainError when central refuses,
    CentralUnavailable when it cannot be reached."""
    node = bootstrap_store(settings, migrate=migrate)
    try:
        with connect(central_url, settings) as http:
            return enrol(node, http, central_url=central_url, code=code)
    finally:
        node.engine.dispose()


def register_and_enrol(
    central_url: str,
    settings: StoreSettings,
    *,
    name: str | None = None,
    city: str | None = None,
    store_central_url: str | None = None,
    migrate: bool = True,
) -> PullResult:
    """Register the store of `settings` at central as its admin and enrol it; the store then
    calls central at `store_central_url` (a FaultProxy's URL, say), by default `central_url`."""
    code = register_store(
        central_url,
        central_admin_headers(central_url),
        number=settings.store_number,
        name=name or settings.store_name,
        city=city or settings.store_city,
        timezone=settings.timezone,
    )
    return enrol_store(settings, store_central_url or central_url, code, migrate=migrate)
