"""Staff accounts and roles; passwords are kept as argon2 hashes only."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from recommerce.errors import DomainError, ErrorCode


class Role(StrEnum):
    BUYER = "buyer"  # buys from the public at the counter
    CASHIER = "cashier"  # sells at the till
    MANAGER = "manager"  # everything in the store, registers and alerts included
    ADMIN = "admin"  # staff accounts and store configuration


class Permission(StrEnum):
    BUY = "buy"
    SELL = "sell"
    APPROVE_DISCOUNT = "approve_discount"
    CLOSE_PERIOD = "close_period"
    VIEW_STOCK = "view_stock"
    MANAGE_STOCK = "manage_stock"
    CONSULT_REGISTER = "consult_register"
    CORRECT_REGISTER = "correct_register"
    MANAGE_WATCHLIST = "manage_watchlist"
    MANAGE_CATALOG = "manage_catalog"
    MANAGE_STAFF = "manage_staff"


_STAFF_FLOOR = {Permission.VIEW_STOCK}
ROLE_PERMISSIONS: dict[Role, frozenset[Permission]] = {
    Role.BUYER: frozenset(_STAFF_FLOOR | {Permission.BUY}),
    Role.CASHIER: frozenset(_STAFF_FLOOR | {Permission.SELL}),
    Role.MANAGER: frozenset(
        _STAFF_FLOOR
        | {
            Permission.BUY,
            Permission.SELL,
            Permission.APPROVE_DISCOUNT,
            Permission.CLOSE_PERIOD,
            Permission.MANAGE_STOCK,
            Permission.CONSULT_REGISTER,
            Permission.CORRECT_REGISTER,
            Permission.MANAGE_WATCHLIST,
            Permission.MANAGE_CATALOG,
        }
    ),
    Role.ADMIN: frozenset(Permission),
}


@dataclass(frozen=True, slots=True)
class StaffMember:
    id: str
    username: str
    full_name: str
    role: Role
    active: bool = True

    def may(self, permission: Permission) -> bool:
        return self.active and permission in ROLE_PERMISSIONS[self.role]

    def require(self, permission: Permission) -> None:
        if not self.may(permission):
            raise DomainError(
                f"{self.username} ({self.role.value}) may not {permission.value.replace('_', ' ')}",
                code=ErrorCode.FORBIDDEN,
                permission=permission.value,
            )


MIN_PASSWORD_LENGTH = 10
_hasher = PasswordHasher()


def hash_password(password: str) -> str:
    if len(password) < MIN_PASSWORD_LENGTH:
        raise DomainError(
            f"a password has at least {MIN_PASSWORD_LENGTH} characters",
            code=ErrorCode.INVALID_INPUT,
            field="password",
        )
    return _hasher.hash(password)


def verify_password(password_hash: str, password: str) -> bool:
    try:
        return _hasher.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False
