"""The store's client of central's sync API (docs/sync-protocol.md).

Every answer the protocol defines comes back as a typed result, so the workers decide with a
`match` and never guess from status codes. What the protocol cannot act on (no connection, a
timeout, a 5xx, a body that is not what the contract says) raises `CentralUnavailable`: the
caller retries later with backoff.

The HTTP client is injected: production builds an `httpx.Client` on central's URL, tests pass
a TestClient of central's real app (an `httpx.Client` too).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any

import httpx

from recommerce.errors import DomainError, ErrorCode
from recommerce.sync.events import SCHEMA_VERSION
from recommerce.sync.protocol import (
    PROTOCOL_HEADER,
    PROTOCOL_VERSION,
    SCHEMA_HEADER,
    batch_body,
)

SYNC = "/api/v1/sync"


class CentralUnavailable(Exception):
    """Central could not be reached or failed on its side: try again later."""


@dataclass(frozen=True, slots=True)
class Problem:
    """An RFC 9457 answer of central: its status, stable code, message and extra fields."""

    status: int
    code: str
    detail: str
    body: Mapping[str, Any] = field(default_factory=dict)

    @classmethod
    def of(cls, response: httpx.Response) -> Problem:
        try:
            body = response.json()
        except ValueError:
            body = None
        if not isinstance(body, dict):
            return cls(response.status_code, "http_error", response.text[:300] or "no detail")
        return cls(
            status=response.status_code,
            code=str(body.get("code", "http_error")),
            detail=str(body.get("detail", "")),
            body=body,
        )

    def __str__(self) -> str:
        return f"{self.status} {self.code}: {self.detail}"


@dataclass(frozen=True, slots=True)
class Enrolled:
    credential: str


@dataclass(frozen=True, slots=True)
class Acked:
    """Central holds every event up to `acked_seq` (applied, duplicate or quarantined)."""

    acked_seq: int
    applied: int
    duplicates: int
    quarantined: int


@dataclass(frozen=True, slots=True)
class SeqGap:
    """Central's cursor is elsewhere: it wants the events from `expected_seq` on."""

    expected_seq: int
    problem: Problem


@dataclass(frozen=True, slots=True)
class UpgradeRequired:
    """The store's protocol is too old for central (426): upgrade the store."""

    supported: tuple[int, ...]
    problem: Problem


@dataclass(frozen=True, slots=True)
class Refused:
    """Any other refusal (credential, malformed request, unknown store...)."""

    problem: Problem


@dataclass(frozen=True, slots=True)
class FeedPage:
    events: list[dict[str, Any]]
    head: int


@dataclass(frozen=True, slots=True)
class CursorTooOld:
    """Central no longer keeps the feed after the store's cursor: load the snapshot."""

    problem: Problem


@dataclass(frozen=True, slots=True)
class Snapshot:
    feed_seq: int
    categories: list[dict[str, Any]]
    articles: list[dict[str, Any]]
    configuration: dict[str, Any]
    events: list[dict[str, Any]]  # feed events still to apply: pending orders, the price guide


class CentralClient:
    def __init__(
        self,
        http: httpx.Client,
        *,
        store_number: int,
        credential: str | None = None,
        protocol: int = PROTOCOL_VERSION,
    ) -> None:
        self._http = http
        self.store_number = store_number
        self.protocol = protocol
        self.credential = credential  # the store's own; None only to enrol

    def enrol(self, code: str) -> Enrolled | UpgradeRequired | Refused:
        response = self._send(
            "POST", f"{SYNC}/enrol", json={"store_number": self.store_number, "code": code}
        )
        if response.status_code in (200, 201):
            body = _json_object(response)
            credential = body.get("credential")
            if not isinstance(credential, str) or not credential:
                raise CentralUnavailable("central's enrolment answer carries no credential")
            return Enrolled(credential)
        return self._refusal(response)

    def push(
        self, first_seq: int, head_seq: int, events: Sequence[Mapping[str, Any]]
    ) -> Acked | SeqGap | UpgradeRequired | Refused:
        """Send one contiguous batch; protocol 2 adds the checksum of its events."""
        body = batch_body(first_seq, head_seq, events, protocol=self.protocol)
        response = self._send(
            "POST",
            f"{self._store_path}/events",
            content=body,
            headers={"Content-Type": "application/json"},
        )
        if response.status_code == 200:
            answer = _json_object(response)
            try:
                return Acked(
                    acked_seq=int(answer["acked_seq"]),
                    applied=int(answer.get("applied", 0)),
                    duplicates=int(answer.get("duplicates", 0)),
                    quarantined=int(answer.get("quarantined", 0)),
                )
            except (KeyError, TypeError, ValueError) as exc:
                raise CentralUnavailable(f"central's acknowledgement is malformed: {exc}") from exc
        if response.status_code == 409:
            problem = Problem.of(response)
            expected = problem.body.get("expected_seq")
            if problem.code == ErrorCode.SEQ_GAP and isinstance(expected, int) and expected >= 1:
                return SeqGap(expected, problem)
        return self._refusal(response)

    def feed(
        self, after: int, *, wait: int, limit: int = 500
    ) -> FeedPage | CursorTooOld | UpgradeRequired | Refused:
        response = self._send(
            "GET",
            f"{self._store_path}/feed",
            params={"after": after, "limit": limit, "wait": wait},
        )
        if response.status_code == 200:
            body = _json_object(response)
            events, head = body.get("events"), body.get("head")
            if not isinstance(events, list) or not isinstance(head, int):
                raise CentralUnavailable("central's feed answer is malformed")
            return FeedPage([e for e in events if isinstance(e, dict)], head)
        if response.status_code == 410:
            return CursorTooOld(Problem.of(response))
        return self._refusal(response)

    def snapshot(self) -> Snapshot | UpgradeRequired | Refused:
        response = self._send("GET", f"{self._store_path}/snapshot")
        if response.status_code == 200:
            body = _json_object(response)
            try:
                return Snapshot(
                    feed_seq=int(body["feed_seq"]),
                    categories=list(body.get("categories") or []),
                    articles=list(body.get("articles") or []),
                    configuration=dict(body.get("configuration") or {}),
                    events=[e for e in body.get("events") or [] if isinstance(e, dict)],
                )
            except (KeyError, TypeError, ValueError) as exc:
                raise CentralUnavailable(f"central's snapshot is malformed: {exc}") from exc
        return self._refusal(response)

    def has_photo(self, sha256: str) -> bool:
        """Whether central already holds this photo file (photos are addressed by content)."""
        response = self._send("HEAD", f"{self._store_path}/photos/{sha256}")
        if response.status_code in (200, 404):
            return response.status_code == 200
        raise CentralUnavailable(f"central answered {response.status_code} for photo {sha256}")

    def put_photo(self, sha256: str, data: bytes) -> Refused | UpgradeRequired | None:
        """Upload one photo file before the listing event that shows it; None when done."""
        response = self._send(
            "PUT",
            f"{self._store_path}/photos/{sha256}",
            content=data,
            headers={"Content-Type": "image/jpeg"},
        )
        if response.status_code in (200, 201, 204):
            return None
        return self._refusal(response)

    def day(self, day: date) -> dict[str, Any] | UpgradeRequired | Refused:
        """Central's figures of one business day of this store, computed from its events."""
        response = self._send("GET", f"{self._store_path}/days/{day.isoformat()}")
        if response.status_code == 200:
            return _json_object(response)
        return self._refusal(response)

    def close(self) -> None:
        self._http.close()

    @property
    def _store_path(self) -> str:
        return f"{SYNC}/stores/{self.store_number}"

    def _send(self, method: str, url: str, **kwargs: Any) -> httpx.Response:
        headers = {PROTOCOL_HEADER: str(self.protocol), SCHEMA_HEADER: str(SCHEMA_VERSION)}
        headers.update(kwargs.pop("headers", {}))
        if self.credential is not None:
            headers["Authorization"] = f"Bearer {self.credential}"
        try:
            response = self._http.request(method, url, headers=headers, **kwargs)
        except httpx.HTTPError as exc:
            raise CentralUnavailable(f"central cannot be reached: {exc}") from exc
        if response.status_code >= 500:
            raise CentralUnavailable(f"central failed: {Problem.of(response)}")
        return response

    @staticmethod
    def _refusal(response: httpx.Response) -> UpgradeRequired | Refused:
        problem = Problem.of(response)
        if response.status_code == 426:
            supported = problem.body.get("supported")
            listed = supported if isinstance(supported, list) else []
            versions = tuple(v for v in listed if isinstance(v, int))
            return UpgradeRequired(versions, problem)
        return Refused(problem)


def refusal_error(answer: Refused | UpgradeRequired, doing: str) -> DomainError:
    """Central's refusal as the store's own error, with central's code when the store knows it."""
    problem = answer.problem
    try:
        code = ErrorCode(problem.code)
    except ValueError:
        code = ErrorCode.INVALID_INPUT
    return DomainError(f"central refused to {doing}: {problem.detail or problem.code}", code=code)


def _json_object(response: httpx.Response) -> dict[str, Any]:
    try:
        body = response.json()
    except ValueError as exc:
        raise CentralUnavailable("central answered something that is not JSON") from exc
    if not isinstance(body, dict):
        raise CentralUnavailable("central answered JSON that is not an object")
    return body


def http_client(central_url: str, *, timeout_s: float, feed_wait_s: int) -> httpx.Client:
    """The production HTTP client: a read may last the feed's long poll plus the timeout."""
    return httpx.Client(
        base_url=central_url,
        timeout=httpx.Timeout(timeout_s, read=timeout_s + feed_wait_s),
        headers={"User-Agent": "recommerce-store"},
    )
