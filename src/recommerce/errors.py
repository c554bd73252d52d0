"""The one error shape: a business error carries a stable code, a message and the field at fault.

The apps map these to RFC 9457 problem+json; the CLI prints the message.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Any


class ErrorCode(StrEnum):
    # input
    INVALID_INPUT = "invalid_input"
    INVALID_GTIN = "invalid_gtin"
    INVALID_IMEI = "invalid_imei"
    INVALID_IBAN = "invalid_iban"
    INVALID_AMOUNT = "invalid_amount"
    # lookups
    NOT_FOUND = "not_found"
    ARTICLE_NOT_FOUND = "article_not_found"
    ITEM_NOT_FOUND = "item_not_found"
    REGISTER_ENTRY_NOT_FOUND = "register_entry_not_found"
    # buying from the public (business-rules.md A, B)
    SELLER_UNDER_18 = "seller_under_18"
    IDENTITY_DOCUMENT_EXPIRED = "identity_document_expired"
    IDENTITY_FIELD_MISSING = "identity_field_missing"
    SERIAL_ON_WATCHLIST = "serial_on_watchlist"
    CASH_LIMIT_EXCEEDED = "cash_limit_exceeded"
    CASH_SPLIT_SUSPECTED = "cash_split_suspected"
    PRECIOUS_METAL_CASH_FORBIDDEN = "precious_metal_cash_forbidden"
    PRECIOUS_METAL_FACTS_MISSING = "precious_metal_facts_missing"
    ACCOUNT_NOT_IN_SELLER_NAME = "account_not_in_seller_name"
    PAYMENT_DETAILS_MISSING = "payment_details_missing"
    # paying above the argus' buy offer: a reason, within the staff member's role's bound
    OFFER_OVERRIDE_REASON_MISSING = "offer_override_reason_missing"
    OFFER_OVERRIDE_ABOVE_BOUND = "offer_override_above_bound"
    # stock
    ITEM_STATUS_TRANSITION_FORBIDDEN = "item_status_transition_forbidden"
    # the marketplace
    PHOTO_REJECTED = "photo_rejected"  # not an image, too small, too large...
    NOT_READY_FOR_ONLINE = "not_ready_for_online"  # no photo, no description, not in stock...
    LISTING_NOT_FOUND = "listing_not_found"  # sold, taken offline, or unknown
    LISTING_UNAVAILABLE = "listing_unavailable"  # ordered by someone else, store unconfirmed
    ORDER_NOT_FOUND = "order_not_found"
    ORDER_STATUS_TRANSITION_FORBIDDEN = "order_status_transition_forbidden"
    PAYMENT_DECLINED = "payment_declined"
    WITHDRAWAL_NOT_ALLOWED = "withdrawal_not_allowed"
    # the till (business-rules B.11, D)
    ITEM_NOT_SELLABLE = "item_not_sellable"
    DISCOUNT_NEEDS_APPROVAL = "discount_needs_approval"
    CARD_DECLINED = "card_declined"
    STORE_CREDIT_INVALID = "store_credit_invalid"
    RETURN_NOT_ALLOWED = "return_not_allowed"
    TILL_SESSION = "till_session"
    DAY_CLOSED = "day_closed"
    PRINTER_UNAVAILABLE = "printer_unavailable"
    # staff
    NOT_AUTHENTICATED = "not_authenticated"
    FORBIDDEN = "forbidden"
    USERNAME_TAKEN = "username_taken"
    CONFLICT = "conflict"
    # sync protocol (architecture.md section 4)
    STORE_NOT_FOUND = "store_not_found"
    ENROLMENT_CODE_INVALID = "enrolment_code_invalid"
    SEQ_GAP = "seq_gap"  # a batch starts after central's cursor + 1: `expected_seq` says where
    PROTOCOL_TOO_OLD = "protocol_too_old"  # central serves N and N-1: upgrade the store
    PROTOCOL_UNKNOWN = "protocol_unknown"  # a version central does not know (newer, or missing)
    BATCH_INVALID = "batch_invalid"  # the batch itself is malformed (not one of its events)
    FEED_CURSOR_TOO_OLD = "feed_cursor_too_old"  # must refetch: load the snapshot


class DomainError(Exception):
    """A refused business operation. Nothing has been changed when it is raised."""

    code: ErrorCode = ErrorCode.INVALID_INPUT

    def __init__(
        self,
        message: str,
        *,
        code: ErrorCode | None = None,
        field: str | None = None,
        **extra: Any,
    ) -> None:
        super().__init__(message)
        self.message = message
        if code is not None:
            self.code = code
        self.field = field
        self.extra = extra


class NotFound(DomainError):
    code = ErrorCode.NOT_FOUND


class Forbidden(DomainError):
    code = ErrorCode.FORBIDDEN


class Conflict(DomainError):
    code = ErrorCode.CONFLICT
