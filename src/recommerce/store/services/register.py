"""Consulting and correcting the police register; every consultation is logged (rule A.5)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from recommerce.buyback.seller import SellerIdentity
from recommerce.errors import DomainError, ErrorCode, NotFound
from recommerce.registers.police import RegisterBook, RegisteredObject, RegisterEntry, correction_of
from recommerce.staff.model import Permission, StaffMember
from recommerce.store.bootstrap import StoreNode
from recommerce.sync.events import REGISTER_ENTRY_CORRECTED, Event


@dataclass(frozen=True, slots=True)
class RegisterQuery:
    reason: str
    book: RegisterBook | None = None
    date_from: date | None = None  # the store's local days, both included
    date_to: date | None = None
    serial: str | None = None
    seller: str | None = None
    limit: int | None = None  # None: every matching entry (exports for the police)
    offset: int = 0

    def bounds(self, zone: ZoneInfo) -> tuple[datetime | None, datetime | None]:
        """UTC instants of local midnight starting date_from and ending date_to."""

        def midnight(day: date) -> datetime:
            return datetime.combine(day, time(0), tzinfo=zone).astimezone(UTC)

        start = midnight(self.date_from) if self.date_from else None
        end = midnight(self.date_to + timedelta(days=1)) if self.date_to else None
        return start, end

    def as_json(self) -> dict[str, str | None]:
        return {
            "book": self.book.value if self.book else None,
            "date_from": self.date_from.isoformat() if self.date_from else None,
            "date_to": self.date_to.isoformat() if self.date_to else None,
            "serial": self.serial,
            "seller": self.seller,
        }


# Days a register search may name; outside them a date is a typing error, not a period.
FIRST_DAY = date(1900, 1, 1)
LAST_DAY = date(2999, 12, 31)


def _require_reason(reason: str) -> str:
    # Arrêté of 15 May 2020: each consultation says why it was made.
    if not reason or not reason.strip():
        raise DomainError(
            "say why the register is consulted", code=ErrorCode.INVALID_INPUT, field="reason"
        )
    return reason.strip()


def check_day_range(date_from: date | None, date_to: date | None) -> None:
    """A search's days: each within the calendar the database can hold, in order."""
    for name, day in (("date_from", date_from), ("date_to", date_to)):
        if day is not None and not FIRST_DAY <= day <= LAST_DAY:
            raise DomainError(f"{name} {day.isoformat()} is out of range", field=name)
    if date_from and date_to and date_from > date_to:
        raise DomainError("date_from is after date_to", field="date_from")


def _existing(entry: RegisterEntry | None, book: RegisterBook, number: int) -> RegisterEntry:
    if entry is None:
        raise NotFound(
            f"no entry {number} in the {book.value} register",
            code=ErrorCode.REGISTER_ENTRY_NOT_FOUND,
            field="number",
        )
    return entry


def consult(
    node: StoreNode, staff: StaffMember, query: RegisterQuery, *, action: str = "search"
) -> list[RegisterEntry]:
    """Search the register and log who looked, when, for what and why, in one transaction."""
    staff.require(Permission.CONSULT_REGISTER)
    reason = _require_reason(query.reason)
    check_day_range(query.date_from, query.date_to)
    with node.uow() as uow:
        recorded_from, recorded_before = query.bounds(node.settings.zone)
        entries = uow.register.search(
            book=query.book,
            recorded_from=recorded_from,
            recorded_before=recorded_before,
            serial=query.serial,
            seller=query.seller,
            limit=query.limit,
            offset=query.offset,
        )
        uow.register.log_consultation(
            at=node.clock.now(),
            staff_id=staff.id,
            action=action,
            query=query.as_json(),
            reason=reason,
            results=len(entries),
        )
        uow.commit()
    return entries


def view_entry(
    node: StoreNode, staff: StaffMember, book: RegisterBook, number: int, reason: str
) -> RegisterEntry:
    staff.require(Permission.CONSULT_REGISTER)
    reason = _require_reason(reason)
    with node.uow() as uow:
        entry = _existing(uow.register.get(book, number), book, number)
        uow.register.log_consultation(
            at=node.clock.now(),
            staff_id=staff.id,
            action="view",
            query={"book": book.value, "number": number},
            reason=reason,
            results=1,
        )
        uow.commit()
    return entry


def correct_entry(
    node: StoreNode,
    staff: StaffMember,
    book: RegisterBook,
    number: int,
    *,
    reason: str,
    seller: SellerIdentity | None = None,
    objects: tuple[RegisteredObject, ...] | None = None,
) -> RegisterEntry:
    """Write a correction as a new entry linked to the original (business-rules A.5)."""
    staff.require(Permission.CORRECT_REGISTER)
    with node.uow() as uow:
        original = _existing(uow.register.get(book, number), book, number)
        correction = correction_of(
            original,
            number=uow.register.next_number(book),
            recorded_at=node.clock.now(),
            recorded_by=staff.id,
            reason=reason,
            seller=seller,
            objects=objects,
        )
        uow.register.append(correction)
        uow.outbox.add(
            Event(
                type=REGISTER_ENTRY_CORRECTED,
                occurred_at=correction.recorded_at,
                payload={
                    "book": book.value,
                    "number": correction.number,
                    "corrects": number,
                    "reason": correction.reason,
                    "staff_id": staff.id,
                },
            )
        )
        uow.commit()
    return correction
