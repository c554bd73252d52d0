"""The fault proxy that the sync fault tests put between a store and central: it passes bytes
both ways, and cuts, slows down or loses answers when told to, against a small local HTTP
server that records what it received."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import httpx
import pytest

from recommerce.sim.processes import free_port
from recommerce.sim.proxy import Direction, FaultProxy


class Recorder(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), EchoHandler)
        self.received: list[tuple[str, str, bytes]] = []

    @property
    def port(self) -> int:
        return int(self.server_address[1])


class EchoHandler(BaseHTTPRequestHandler):
    """Records each request, then answers its body back (HTTP/1.1, keep-alive)."""

    protocol_version = "HTTP/1.1"
    server: Recorder

    def _answer(self) -> None:
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        self.server.received.append((self.command, self.path, body))
        answer = body or f"{self.command} {self.path}".encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/octet-stream")
        self.send_header("Content-Length", str(len(answer)))
        self.end_headers()
        self.wfile.write(answer)

    do_GET = do_POST = _answer

    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture
def upstream() -> Iterator[Recorder]:
    server = Recorder()
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()
    thread.join(5)


@pytest.fixture
def proxy(upstream: Recorder) -> Iterator[FaultProxy]:
    with FaultProxy("127.0.0.1", upstream.port) as running:
        yield running


def _client(proxy: FaultProxy) -> httpx.Client:
    return httpx.Client(base_url=proxy.url, trust_env=False, timeout=5)


def test_bytes_pass_both_ways_and_are_counted(proxy: FaultProxy, upstream: Recorder) -> None:
    payload = bytes(range(256)) * 1024  # 256 KiB: many chunks each way
    with _client(proxy) as client:
        response = client.post("/batches", content=payload)
        assert client.get("/feed").content == b"GET /feed"
    assert response.status_code == 200
    assert response.content == payload
    assert [(method, path) for method, path, _ in upstream.received] == [
        ("POST", "/batches"),
        ("GET", "/feed"),
    ]
    assert upstream.received[0][2] == payload
    stats = proxy.stats()
    assert stats.connections == 1  # keep-alive: both requests on one connection
    assert stats.bytes_to_upstream > len(payload)
    assert stats.bytes_to_client > len(payload)
    assert stats.answers_dropped == 0


def test_a_cut_link_refuses_connections_until_it_is_restored(
    proxy: FaultProxy, upstream: Recorder
) -> None:
    with _client(proxy) as client:
        assert client.get("/before").status_code == 200
        proxy.cut()
        with pytest.raises(httpx.ConnectError):
            client.get("/during")
        proxy.restore()
        assert client.get("/after").status_code == 200
    assert [path for _, path, _ in upstream.received] == ["/before", "/after"]


def test_a_cut_breaks_the_connections_already_open(proxy: FaultProxy, upstream: Recorder) -> None:
    with socket.create_connection(("127.0.0.1", proxy.port), timeout=5) as sock:
        sock.sendall(b"GET /open HTTP/1.1\r\nHost: x\r\n\r\n")
        assert sock.recv(4096).startswith(b"HTTP/1.1 200")
        assert proxy.stats().open_connections == 1
        proxy.cut()
        with pytest.raises(ConnectionResetError):
            sock.sendall(b"GET /again HTTP/1.1\r\nHost: x\r\n\r\n")
            if not sock.recv(4096):  # an orderly end would be a link that closed, not broke
                pytest.fail("the open connection was closed, not broken")
    assert proxy.stats().open_connections == 0
    assert [path for _, path, _ in upstream.received] == ["/open"]


def test_a_lost_answer_leaves_the_request_done_and_the_client_in_error(
    proxy: FaultProxy, upstream: Recorder
) -> None:
    with _client(proxy) as client:
        assert client.get("/first").status_code == 200
        proxy.drop_responses(1)
        # On the connection already open (keep-alive): the upstream receives the request,
        # the client never sees the answer.
        with pytest.raises(httpx.TransportError):
            client.post("/events", content=b"batch 1")
        assert upstream.received[-1] == ("POST", "/events", b"batch 1")
        # One answer only: the retry gets through.
        retried = client.post("/events", content=b"batch 1")
    assert retried.content == b"batch 1"
    assert [path for _, path, _ in upstream.received] == ["/first", "/events", "/events"]
    assert proxy.stats().answers_dropped == 1


def test_only_answers_to_matching_requests_are_lost(proxy: FaultProxy, upstream: Recorder) -> None:
    proxy.drop_responses(2, request_prefix=b"POST /events")
    with _client(proxy) as client:
        assert client.get("/feed").status_code == 200
        for _ in range(2):
            with pytest.raises(httpx.TransportError):
                client.post("/events", content=b"batch")
        assert client.post("/events", content=b"batch").status_code == 200
        assert client.get("/feed").status_code == 200
    assert len(upstream.received) == 5
    assert proxy.stats().answers_dropped == 2


def test_a_slow_link_delays_each_way(proxy: FaultProxy) -> None:
    def timed(client: httpx.Client) -> float:
        started = time.perf_counter()
        assert client.get("/ping").status_code == 200
        return time.perf_counter() - started

    with _client(proxy) as client:
        timed(client)  # the connection is open before timing
        proxy.delay(0.25, Direction.TO_UPSTREAM)
        assert timed(client) >= 0.25
        proxy.delay(0.25)
        assert timed(client) >= 0.5
        proxy.delay(0)
        assert timed(client) < 5  # back to a fast link (a generous bound on a busy machine)


def test_a_node_down_behind_the_proxy_is_a_broken_connection() -> None:
    with FaultProxy("127.0.0.1", free_port()) as proxy, _client(proxy) as client:
        with pytest.raises(httpx.TransportError):
            client.get("/healthz")
        assert proxy.stats().upstream_unreachable == 1


def test_a_stopped_proxy_listens_no_more(upstream: Recorder) -> None:
    proxy = FaultProxy.in_front_of(f"http://127.0.0.1:{upstream.port}").start()
    with _client(proxy) as client:
        assert client.get("/ping").status_code == 200
        proxy.stop()
        proxy.stop()  # stopping twice is harmless
        with pytest.raises(httpx.ConnectError):
            client.get("/ping")
