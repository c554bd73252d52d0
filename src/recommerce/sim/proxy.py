"""A TCP proxy in front of one node, whose link breaks on demand: the fault tests of the sync
protocol, the benchmark and the chain simulator put one between a store and central and cut
it, slow it down or lose answers on the way back, while both ends stay real processes.

The proxy runs its own asyncio event loop in a background thread, so that synchronous code
(pytest, the simulator's driver) drives it with plain calls; each control returns once it has
taken effect. It knows nothing of HTTP except where it says so (`drop_responses`), and needs
nothing beyond the standard library.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
import struct
import threading
from collections.abc import Coroutine
from dataclasses import dataclass
from enum import StrEnum
from types import TracebackType
from typing import Any, TypeVar
from urllib.parse import urlsplit

T = TypeVar("T")

CHUNK = 65536
QUEUE_CHUNKS = 64  # per direction: a slow reader stops the proxy reading (TCP backpressure)
REQUEST_HEAD = 1024  # bytes of each request kept to match `drop_responses(request_prefix=...)`
CONTROL_TIMEOUT_S = 10.0


class Direction(StrEnum):
    TO_UPSTREAM = "to_upstream"  # the client's bytes: requests
    TO_CLIENT = "to_client"  # the upstream's bytes: answers


@dataclass(frozen=True)
class ProxyStats:
    """What went through the proxy since it started."""

    connections: int  # client connections accepted
    open_connections: int  # of which still open
    bytes_to_upstream: int  # delivered to the upstream
    bytes_to_client: int  # delivered to clients (swallowed answers are not counted)
    answers_dropped: int  # answers swallowed by `drop_responses`
    upstream_unreachable: int  # client connections reset because the upstream refused


def _reset(writer: asyncio.StreamWriter) -> None:
    """Close a connection with a TCP reset (SO_LINGER 0): the peer sees a broken link, not
    an orderly end."""
    sock = writer.get_extra_info("socket")
    if sock is not None:
        with contextlib.suppress(OSError):
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    writer.transport.abort()


class _Link:
    """One client connection and its own connection to the upstream."""

    def __init__(
        self,
        proxy: FaultProxy,
        client: tuple[asyncio.StreamReader, asyncio.StreamWriter],
        upstream: tuple[asyncio.StreamReader, asyncio.StreamWriter],
    ) -> None:
        self.proxy = proxy
        self.client_reader, self.client_writer = client
        self.upstream_reader, self.upstream_writer = upstream
        # HTTP/1.1 without pipelining: the client speaks, then the upstream answers. An answer
        # begins with the first upstream bytes after client bytes.
        self.awaiting_answer = False
        self.request_head = bytearray()
        self.broken = False
        task = asyncio.current_task()
        if task is None:
            raise RuntimeError("a link is made inside its connection's task")
        self.task: asyncio.Task[Any] = task  # ends once both connections are closed

    def reset(self) -> None:
        """Break both connections at once."""
        if not self.broken:
            self.broken = True
            _reset(self.client_writer)
            _reset(self.upstream_writer)

    async def run(self) -> None:
        to_upstream: asyncio.Queue[tuple[float, bytes | None]] = asyncio.Queue(QUEUE_CHUNKS)
        to_client: asyncio.Queue[tuple[float, bytes | None]] = asyncio.Queue(QUEUE_CHUNKS)
        tasks = [
            asyncio.create_task(self._read(self.client_reader, to_upstream, Direction.TO_UPSTREAM)),
            asyncio.create_task(self._read(self.upstream_reader, to_client, Direction.TO_CLIENT)),
            asyncio.create_task(
                self._write(to_upstream, self.upstream_writer, Direction.TO_UPSTREAM)
            ),
            asyncio.create_task(self._write(to_client, self.client_writer, Direction.TO_CLIENT)),
        ]
        pending = set(tasks)
        failed = False
        try:
            # Until both directions have ended, or one side broke (an error, or an answer
            # dropped): then nothing more is passed on.
            while pending and not failed and not self.broken:
                done, pending = await asyncio.wait(pending, return_when=asyncio.FIRST_COMPLETED)
                failed = any(task.exception() is not None for task in done)
        finally:
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
        if failed or self.broken:
            self.reset()  # one side broke: the other sees a broken link too
        else:
            for writer in (self.client_writer, self.upstream_writer):
                writer.close()

    async def _read(
        self,
        reader: asyncio.StreamReader,
        queue: asyncio.Queue[tuple[float, bytes | None]],
        direction: Direction,
    ) -> None:
        loop = asyncio.get_running_loop()
        while True:
            chunk = await reader.read(CHUNK)
            if chunk and direction is Direction.TO_UPSTREAM:
                if not self.awaiting_answer:
                    self.awaiting_answer = True
                    self.request_head.clear()
                missing = REQUEST_HEAD - len(self.request_head)
                if missing > 0:
                    self.request_head += chunk[:missing]
            elif chunk and direction is Direction.TO_CLIENT and self.awaiting_answer:
                self.awaiting_answer = False
                if self.proxy._take_drop(bytes(self.request_head)):
                    self.reset()
                    return
            # Each chunk leaves the proxy `delay` seconds after it arrived: latency without a
            # cap on throughput, like a long link.
            await queue.put((loop.time() + self.proxy._delays[direction], chunk or None))
            if not chunk:
                return

    async def _write(
        self,
        queue: asyncio.Queue[tuple[float, bytes | None]],
        writer: asyncio.StreamWriter,
        direction: Direction,
    ) -> None:
        loop = asyncio.get_running_loop()
        while True:
            due, chunk = await queue.get()
            wait = due - loop.time()
            if wait > 0:
                await asyncio.sleep(wait)
            if chunk is None:  # the sender finished: pass the half-close on
                if writer.can_write_eof():
                    with contextlib.suppress(OSError):
                        writer.write_eof()
                return
            writer.write(chunk)
            await writer.drain()
            self.proxy._count(direction, len(chunk))


class FaultProxy:
    """A TCP proxy on 127.0.0.1 in front of `upstream_host:upstream_port`.

    Controls, each effective when the call returns:

    - `cut()`: the link is down. The listening socket is closed, so a new connection is
      refused (ECONNREFUSED, as when nothing listens), and every open connection is reset on
      both sides. `restore()` listens again on the same port; it undoes `cut()` only.
    - `delay(seconds, direction)`: every chunk read from then on in that direction (both when
      `direction` is None) is passed on `seconds` after it arrived; `delay(0)` ends it.
    - `drop_responses(n, request_prefix=None)`: the next `n` answers are lost on the way back.
      An answer is what the upstream sends after the client spoke on a connection (HTTP/1.1
      without pipelining, as httpx and the store's sync worker speak: on each connection a
      request, then its response, then the next request). The request reaches the upstream
      whole; when the upstream's first bytes of the answer arrive, they are discarded and both
      connections are reset, so the client sees a broken connection and never a byte of the
      answer. A non-streaming HTTP server sends nothing before its handler has returned (and
      committed), so the upstream has done the work the answer would have confirmed. With
      `request_prefix`, only answers to requests whose first bytes start with it count and
      are lost (e.g. `b"POST /api/v1/sync/stores/7/events"`); other answers pass. A new call
      replaces what remains of the previous one; `drop_responses(0)` ends it. Connections
      already open are subject to it too (keep-alive).
    - `stats()`: counters of connections, bytes and dropped answers.

    A connection accepted while the upstream refuses is reset (the client sees the node down
    behind the proxy). Controls are called from other threads than the proxy's, never from
    inside its loop.
    """

    def __init__(
        self, upstream_host: str, upstream_port: int, *, host: str = "127.0.0.1", port: int = 0
    ) -> None:
        self.upstream = (upstream_host, upstream_port)
        self.host = host
        self.port = port  # 0: a free port, chosen when the proxy starts and kept until it stops
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._server: asyncio.Server | None = None
        self._links: set[_Link] = set()
        self._delays = {Direction.TO_UPSTREAM: 0.0, Direction.TO_CLIENT: 0.0}
        self._drops = 0
        self._drop_prefix: bytes | None = None
        self._connections = 0
        self._bytes = {Direction.TO_UPSTREAM: 0, Direction.TO_CLIENT: 0}
        self._answers_dropped = 0
        self._upstream_unreachable = 0

    @classmethod
    def in_front_of(cls, url: str) -> FaultProxy:
        """A proxy (not started) in front of the node at `url` (`http://host:port`)."""
        parts = urlsplit(url)
        if parts.hostname is None or parts.port is None:
            raise ValueError(f"{url!r} names no host and port")
        return cls(parts.hostname, parts.port)

    @property
    def url(self) -> str:
        """The URL clients use instead of the upstream's."""
        return f"http://{self.host}:{self.port}"

    # --- life cycle ----------------------------------------------------------------------------

    def start(self) -> FaultProxy:
        if self._loop is not None:
            raise RuntimeError("the proxy is already running")
        loop = asyncio.new_event_loop()
        self._loop = loop
        self._thread = threading.Thread(
            target=loop.run_forever, name=f"fault-proxy->{self.upstream[1]}", daemon=True
        )
        self._thread.start()
        try:
            self._call(self._listen())
        except BaseException:
            self.stop()
            raise
        return self

    def stop(self) -> None:
        """Close every connection and the listening socket, stop the loop; idempotent."""
        loop, thread = self._loop, self._thread
        if loop is None or thread is None:
            return
        try:
            if loop.is_running():
                self._call(self._shutdown())
        finally:
            loop.call_soon_threadsafe(loop.stop)
            thread.join(CONTROL_TIMEOUT_S)
            loop.close()
            self._loop = self._thread = None

    def __enter__(self) -> FaultProxy:
        return self if self._loop is not None else self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()

    # --- controls ------------------------------------------------------------------------------

    def cut(self) -> None:
        self._call(self._cut())

    def restore(self) -> None:
        self._call(self._restore())

    def delay(self, seconds: float, direction: Direction | None = None) -> None:
        if seconds < 0:
            raise ValueError("a delay is zero or more seconds")
        directions = list(Direction) if direction is None else [direction]

        async def set_delay() -> None:
            for which in directions:
                self._delays[which] = float(seconds)

        self._call(set_delay())

    def drop_responses(self, n: int, *, request_prefix: bytes | None = None) -> None:
        if n < 0:
            raise ValueError("the number of answers to drop is zero or more")

        async def set_drops() -> None:
            self._drops = n
            self._drop_prefix = request_prefix

        self._call(set_drops())

    def stats(self) -> ProxyStats:
        async def snapshot() -> ProxyStats:
            return ProxyStats(
                connections=self._connections,
                open_connections=len(self._links),
                bytes_to_upstream=self._bytes[Direction.TO_UPSTREAM],
                bytes_to_client=self._bytes[Direction.TO_CLIENT],
                answers_dropped=self._answers_dropped,
                upstream_unreachable=self._upstream_unreachable,
            )

        return self._call(snapshot())

    # --- inside the loop -------------------------------------------------------------------------

    def _call(self, coro: Coroutine[Any, Any, T]) -> T:
        if self._loop is None:
            coro.close()
            raise RuntimeError("the proxy is not running")
        return asyncio.run_coroutine_threadsafe(coro, self._loop).result(CONTROL_TIMEOUT_S)

    async def _listen(self) -> None:
        self._server = await asyncio.start_server(
            self._handle, self.host, self.port, reuse_address=True
        )
        self.port = self._server.sockets[0].getsockname()[1]

    async def _cut(self) -> None:
        server, self._server = self._server, None
        if server is not None:
            server.close()
        links = list(self._links)
        for link in links:
            link.reset()
        if links:  # each link's task ends once both its connections are closed
            await asyncio.wait([link.task for link in links], timeout=CONTROL_TIMEOUT_S / 2)
        if server is not None:
            await server.wait_closed()

    async def _restore(self) -> None:
        if self._server is None:
            await self._listen()

    async def _shutdown(self) -> None:
        await self._cut()
        current = asyncio.current_task()
        pending = [task for task in asyncio.all_tasks() if task is not current]
        for task in pending:
            task.cancel()
        await asyncio.gather(*pending, return_exceptions=True)

    def _take_drop(self, request_head: bytes) -> bool:
        """Whether the answer to this request is to be lost (and count it if so)."""
        if self._drops <= 0:
            return False
        if self._drop_prefix is not None and not request_head.startswith(self._drop_prefix):
            return False
        self._drops -= 1
        self._answers_dropped += 1
        return True

    def _count(self, direction: Direction, size: int) -> None:
        self._bytes[direction] += size

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        if self._server is None:  # accepted just before a cut
            _reset(writer)
            return
        self._connections += 1
        try:
            upstream = await asyncio.open_connection(*self.upstream)
        except OSError:
            self._upstream_unreachable += 1
            _reset(writer)
            return
        if self._server is None:  # cut while connecting to the upstream
            _reset(writer)
            _reset(upstream[1])
            return
        link = _Link(self, (reader, writer), upstream)
        self._links.add(link)
        try:
            await link.run()
        except asyncio.CancelledError:
            link.reset()
            raise
        finally:
            self._links.discard(link)
