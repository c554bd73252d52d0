"""The online payment port, and a simulated provider for tests and the demo.

An order's payment is authorised at checkout and captured only once the store has reserved the
items (architecture.md section 3); an order that ends without them voids the authorisation, and
a refund gives back a captured payment. Every call carries an idempotency key, as real
providers take one: a call retried after a crash or a timeout never charges twice.

Card numbers go to the provider and nowhere else: central never stores them.
"""

from __future__ import annotations

import secrets
import sqlite3
import threading
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Protocol

from stdnum import luhn
from stdnum.exceptions import ValidationError

from recommerce.errors import DomainError, ErrorCode


@dataclass(frozen=True, slots=True)
class CardDetails:
    number: str
    expiry_month: int
    expiry_year: int  # four digits
    cvc: str


class PaymentDeclined(DomainError):
    code = ErrorCode.PAYMENT_DECLINED


class PaymentProvider(Protocol):
    """A payment service provider (a real one: Stripe, Adyen, Payplug...)."""

    name: str

    def authorize(self, *, key: str, amount_cents: int, card: CardDetails, description: str) -> str:
        """Hold the amount on the card; the authorisation's id. Raises PaymentDeclined."""
        ...

    def capture(self, authorization: str, *, key: str) -> str:
        """Take the held amount; the payment's id."""
        ...

    def void(self, authorization: str, *, key: str) -> None:
        """Release the held amount: nothing is charged."""
        ...

    def refund(self, payment: str, amount_cents: int, *, key: str) -> str:
        """Give back (part of) a captured payment; the refund's id."""
        ...


# The simulated provider's test cards, as real providers publish theirs.
DECLINED_CARD = "4000000000000002"
INSUFFICIENT_FUNDS_CARD = "4000000000009995"

_SCHEMA = """
CREATE TABLE IF NOT EXISTS operations (
    key TEXT PRIMARY KEY,          -- the caller's idempotency key
    kind TEXT NOT NULL,            -- authorize, capture, void, refund
    target TEXT,                   -- the authorisation or payment it acts on
    amount_cents INTEGER NOT NULL,
    result TEXT NOT NULL           -- the id answered
);
CREATE TABLE IF NOT EXISTS authorizations (
    id TEXT PRIMARY KEY,
    amount_cents INTEGER NOT NULL,
    state TEXT NOT NULL,           -- held, captured, voided
    refunded_cents INTEGER NOT NULL DEFAULT 0
);
"""


class SimulatedPaymentProvider:
    """Behaves like a provider: validates the card (Luhn, expiry), declines the test cards,
    keeps its own durable ledger (a SQLite file, as a provider's ledger outlives the shop's
    processes) and answers a retried call with its first answer (idempotency keys).

    `path=None` keeps the ledger in memory (unit tests)."""

    name = "simulated payment provider"

    def __init__(self, path: Path | None = None, *, today: date | None = None) -> None:
        if path is not None:
            path.parent.mkdir(parents=True, exist_ok=True)
        self._db = sqlite3.connect(
            ":memory:" if path is None else str(path), check_same_thread=False, isolation_level=None
        )
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.executescript(_SCHEMA)
        self._lock = threading.Lock()
        self._today = today

    def authorize(self, *, key: str, amount_cents: int, card: CardDetails, description: str) -> str:
        with self._lock:
            done = self._done(key)
            if done is not None:
                return done
            _check_card(card, self._today or date.today())
            if amount_cents <= 0:
                raise PaymentDeclined("an authorisation is for a positive amount")
            authorization = f"auth_{secrets.token_hex(8)}"
            self._db.execute("BEGIN IMMEDIATE")
            self._db.execute(
                "INSERT INTO authorizations (id, amount_cents, state) VALUES (?, ?, 'held')",
                (authorization, amount_cents),
            )
            self._record(key, "authorize", None, amount_cents, authorization)
            return authorization

    def capture(self, authorization: str, *, key: str) -> str:
        with self._lock:
            done = self._done(key)
            if done is not None:
                return done
            amount, state = self._authorization(authorization)
            if state != "held":
                raise DomainError(f"authorisation {authorization} is {state}: nothing to capture")
            payment = f"pay_{authorization.removeprefix('auth_')}"
            self._db.execute("BEGIN IMMEDIATE")
            self._db.execute(
                "UPDATE authorizations SET state = 'captured' WHERE id = ?", (authorization,)
            )
            self._record(key, "capture", authorization, amount, payment)
            return payment

    def void(self, authorization: str, *, key: str) -> None:
        with self._lock:
            if self._done(key) is not None:
                return
            amount, state = self._authorization(authorization)
            if state == "captured":
                raise DomainError(f"authorisation {authorization} is captured: refund it")
            self._db.execute("BEGIN IMMEDIATE")
            self._db.execute(
                "UPDATE authorizations SET state = 'voided' WHERE id = ?", (authorization,)
            )
            self._record(key, "void", authorization, amount, authorization)

    def refund(self, payment: str, amount_cents: int, *, key: str) -> str:
        with self._lock:
            done = self._done(key)
            if done is not None:
                return done
            authorization = f"auth_{payment.removeprefix('pay_')}"
            amount, state = self._authorization(authorization)
            refunded = self._db.execute(
                "SELECT refunded_cents FROM authorizations WHERE id = ?", (authorization,)
            ).fetchone()[0]
            if state != "captured":
                raise DomainError(f"payment {payment} was not captured: nothing to refund")
            if amount_cents <= 0 or refunded + amount_cents > amount:
                raise DomainError(
                    f"payment {payment} has {amount - refunded} cents left to refund, "
                    f"not {amount_cents}"
                )
            refund = f"re_{secrets.token_hex(8)}"
            self._db.execute("BEGIN IMMEDIATE")
            self._db.execute(
                "UPDATE authorizations SET refunded_cents = refunded_cents + ? WHERE id = ?",
                (amount_cents, authorization),
            )
            self._record(key, "refund", payment, amount_cents, refund)
            return refund

    def state(self, authorization: str) -> tuple[str, int, int]:
        """(state, amount, refunded) of an authorisation: what the provider's dashboard shows."""
        row = self._db.execute(
            "SELECT state, amount_cents, refunded_cents FROM authorizations WHERE id = ?",
            (authorization,),
        ).fetchone()
        if row is None:
            raise DomainError(f"unknown authorisation {authorization}")
        return str(row[0]), int(row[1]), int(row[2])

    def close(self) -> None:
        self._db.close()

    def _done(self, key: str) -> str | None:
        row = self._db.execute("SELECT result FROM operations WHERE key = ?", (key,)).fetchone()
        return None if row is None else str(row[0])

    def _authorization(self, authorization: str) -> tuple[int, str]:
        row = self._db.execute(
            "SELECT amount_cents, state FROM authorizations WHERE id = ?", (authorization,)
        ).fetchone()
        if row is None:
            raise DomainError(f"unknown authorisation {authorization}")
        return int(row[0]), str(row[1])

    def _record(self, key: str, kind: str, target: str | None, amount: int, result: str) -> None:
        """Write the operation and commit the transaction the caller began."""
        try:
            self._db.execute(
                "INSERT INTO operations (key, kind, target, amount_cents, result)"
                " VALUES (?, ?, ?, ?, ?)",
                (key, kind, target, amount, result),
            )
            self._db.execute("COMMIT")
        except BaseException:
            self._db.execute("ROLLBACK")
            raise


def _check_card(card: CardDetails, today: date) -> None:
    number = "".join(card.number.split())
    try:
        luhn.validate(number)
    except ValidationError as exc:
        raise PaymentDeclined("the card number is not valid", field="card.number") from exc
    if not 12 <= len(number) <= 19:
        raise PaymentDeclined("the card number is not valid", field="card.number")
    if (card.expiry_year, card.expiry_month) < (today.year, today.month):
        raise PaymentDeclined("the card has expired", field="card.expiry")
    if not (card.cvc.isdigit() and len(card.cvc) in (3, 4)):
        raise PaymentDeclined("the card's security code has 3 or 4 digits", field="card.cvc")
    if number == DECLINED_CARD:
        raise PaymentDeclined("the bank declined the card", field="card")
    if number == INSUFFICIENT_FUNDS_CARD:
        raise PaymentDeclined("the bank declined the card: insufficient funds", field="card")
