"""The payment-terminal port, and a simulated terminal for tests and the demo."""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field
from typing import Protocol

from recommerce.money import Money


@dataclass(frozen=True, slots=True)
class CardResult:
    approved: bool
    authorization: str | None  # the bank's authorisation code when approved
    message: str  # what the terminal displays


class PaymentTerminal(Protocol):
    """A card terminal next to the till (a real one speaks e.g. Nepting or C-TAP)."""

    def charge(self, amount: Money, *, reference: str) -> CardResult: ...
    def cancel(self, authorization: str, *, reference: str) -> None: ...
    def refund(self, amount: Money, *, reference: str) -> CardResult: ...


@dataclass
class SimulatedPaymentTerminal:
    """Behaves like a terminal: approves with an authorisation code, except amounts whose
    cents are 13 (declined, "carte refusée") so that tests and the demo can show a refusal.
    Keeps a journal of what it did, as a terminal's own receipt roll does."""

    declined_cents: int = 13
    operations: list[tuple[str, int, str]] = field(default_factory=list)

    def charge(self, amount: Money, *, reference: str) -> CardResult:
        if amount.cents % 100 == self.declined_cents:
            self.operations.append(("declined", amount.cents, reference))
            return CardResult(False, None, "carte refusée")
        authorization = secrets.token_hex(3).upper()
        self.operations.append(("charge", amount.cents, authorization))
        return CardResult(True, authorization, "paiement accepté")

    def cancel(self, authorization: str, *, reference: str) -> None:
        self.operations.append(("cancel", 0, authorization))

    def refund(self, amount: Money, *, reference: str) -> CardResult:
        authorization = secrets.token_hex(3).upper()
        self.operations.append(("refund", amount.cents, authorization))
        return CardResult(True, authorization, "remboursement accepté")
