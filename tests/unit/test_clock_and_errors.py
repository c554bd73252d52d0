"""The one clock and the one error shape."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from recommerce.clock import FixedClock, SystemClock
from recommerce.errors import Conflict, DomainError, ErrorCode, Forbidden, NotFound


def test_fixed_clock_only_moves_when_told() -> None:
    at = datetime(2025, 1, 1, 9, 0, tzinfo=UTC)
    clock = FixedClock(at)
    assert clock.now() == at
    assert clock.now() == at
    clock.advance(timedelta(hours=49))
    assert clock.now() == at + timedelta(hours=49)


def test_fixed_clock_refuses_a_naive_datetime() -> None:
    with pytest.raises(ValueError):
        FixedClock(datetime(2025, 1, 1, 9, 0))


def test_system_clock_gives_aware_utc_time() -> None:
    now = SystemClock().now()
    assert now.tzinfo is not None
    assert now.utcoffset() == timedelta(0)


def test_a_business_error_carries_code_message_and_field() -> None:
    error = DomainError("too much cash", code=ErrorCode.CASH_LIMIT_EXCEEDED, field="payment", x=1)
    assert error.code is ErrorCode.CASH_LIMIT_EXCEEDED
    assert error.message == str(error) == "too much cash"
    assert error.field == "payment"
    assert error.extra == {"x": 1}


def test_a_business_error_defaults_to_invalid_input() -> None:
    error = DomainError("bad")
    assert error.code is ErrorCode.INVALID_INPUT
    assert error.field is None


@pytest.mark.parametrize(
    ("error_type", "code"),
    [
        (NotFound, ErrorCode.NOT_FOUND),
        (Forbidden, ErrorCode.FORBIDDEN),
        (Conflict, ErrorCode.CONFLICT),
    ],
)
def test_error_kinds_have_their_own_code(error_type: type[DomainError], code: ErrorCode) -> None:
    error = error_type("no")
    assert isinstance(error, DomainError)
    assert error.code is code
    assert error_type("no", code=ErrorCode.ITEM_NOT_FOUND).code is ErrorCode.ITEM_NOT_FOUND


def test_error_codes_are_stable_strings() -> None:
    assert str(ErrorCode.SELLER_UNDER_18) == "seller_under_18"
    assert len({c.value for c in ErrorCode}) == len(ErrorCode)
