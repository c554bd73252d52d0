"""The storefront's cart: the ids of the items a customer put aside, in a signed cookie (no
account needed); every page re-reads its lines from the database."""

from __future__ import annotations

import base64
import contextlib
import hashlib
import hmac
import os
import re
import secrets
import threading
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from fastapi import Request
from fastapi.responses import Response

from recommerce.central.bootstrap import CentralNode
from recommerce.central.services import checkout as checkout_service

# --- the cart ---------------------------------------------------------------------------------

CART_COOKIE = "panier"
CART_MAX_ITEMS = checkout_service.MAX_ITEMS  # what one checkout takes
CART_COOKIE_MAX_AGE = 30 * 24 * 3600  # a cart is kept a month
CART_COOKIE_MAX_LENGTH = 2000  # twenty ids and the signature take about 800 characters
SECRET_FILE = "storefront-secret"
CART_SIGNATURE_CONTEXT = b"recommerce storefront cart 1\x00"  # what the signature is for
ITEM_ID = re.compile(r"[0-9A-Za-z-]{1,36}")
# Pages with a customer's own data: never kept by a shared cache or the browser's history.
PRIVATE = {"Cache-Control": "no-store"}


class CartFull(Exception):
    """The cart already holds as many items as one checkout takes."""


@dataclass(frozen=True, slots=True)
class Cart:
    """The items a customer set aside, by id, in the order they were added. Ids only: a price
    or an availability always comes from the database, never from the customer's browser."""

    item_ids: tuple[str, ...] = ()

    def __len__(self) -> int:
        return len(self.item_ids)

    def __contains__(self, item_id: object) -> bool:
        return item_id in self.item_ids

    def with_item(self, item_id: str) -> Cart:
        """The cart with this item (once); raises CartFull past `CART_MAX_ITEMS` items."""
        if item_id in self.item_ids:
            return self
        if len(self.item_ids) >= CART_MAX_ITEMS:
            raise CartFull(f"a cart holds at most {CART_MAX_ITEMS} items")
        return Cart((*self.item_ids, item_id))

    def without(self, item_ids: Iterable[str]) -> Cart:
        gone = set(item_ids)
        return Cart(tuple(i for i in self.item_ids if i not in gone))


class CartSigner:
    """Writes a cart into a cookie value signed with the storefront's secret (HMAC-SHA256), and
    reads one back. A value this secret did not sign, changed since, or holding more items
    than a cart may, reads as an empty cart: the customer starts a new one."""

    def __init__(self, secret: bytes) -> None:
        self._secret = secret

    def _signature(self, payload: str) -> bytes:
        message = CART_SIGNATURE_CONTEXT + payload.encode("ascii")
        digest = hmac.new(self._secret, message, hashlib.sha256).digest()
        return base64.urlsafe_b64encode(digest).rstrip(b"=")

    def dumps(self, cart: Cart) -> str:
        """The cookie value of a cart: the signature, then the item ids, dot-separated."""
        if len(cart) > CART_MAX_ITEMS or not all(ITEM_ID.fullmatch(i) for i in cart.item_ids):
            raise ValueError("a cart holds up to 20 item ids")
        payload = ".".join(cart.item_ids)
        return f"{self._signature(payload).decode('ascii')}.{payload}"

    def loads(self, value: str | None) -> Cart:
        if not value or len(value) > CART_COOKIE_MAX_LENGTH or not value.isascii():
            return Cart()
        signature, _, payload = value.partition(".")
        if not hmac.compare_digest(signature.encode("ascii"), self._signature(payload)):
            return Cart()
        ids = tuple(payload.split(".")) if payload else ()
        if (
            len(ids) > CART_MAX_ITEMS
            or len(set(ids)) != len(ids)
            or not all(ITEM_ID.fullmatch(i) for i in ids)
        ):
            return Cart()
        return Cart(ids)


_secrets: dict[Path, bytes] = {}
_secrets_lock = threading.Lock()


def storefront_secret(data_dir: Path) -> bytes:
    """The key that signs the customers' carts, kept in central's data directory (the file
    `storefront-secret`, readable by its owner only) and made on first use. Replicas of central
    sharing the directory sign alike; a new secret only empties the carts."""
    path = (data_dir / SECRET_FILE).absolute()
    with _secrets_lock:
        secret = _secrets.get(path)
        if secret is None:
            if not path.exists():
                _write_secret(path)
            secret = path.read_text(encoding="ascii").strip().encode("ascii")
            if len(secret) < 32:
                raise RuntimeError(f"{path} holds no usable secret: remove it to make a new one")
            _secrets[path] = secret
        return secret


def _write_secret(path: Path) -> None:
    """A new secret, written whole under a temporary name, then linked in place: a process that
    loses the race to make it reads the winner's, never a half-written file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f".{path.name}.{secrets.token_hex(8)}")
    descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(descriptor, "w", encoding="ascii") as out:
            out.write(secrets.token_urlsafe(32) + "\n")
        with contextlib.suppress(FileExistsError):
            os.link(temporary, path)
    finally:
        temporary.unlink(missing_ok=True)


def cart_signer(request: Request) -> CartSigner:
    central: CentralNode = request.app.state.central
    return CartSigner(storefront_secret(central.settings.data_dir))


def cart_of(request: Request) -> Cart:
    """The customer's cart, as their cookie holds it (empty when it holds none, or a forged one)."""
    value = request.cookies.get(CART_COOKIE)
    return cart_signer(request).loads(value) if value else Cart()


def keep_cart(response: Response, request: Request, cart: Cart) -> None:
    """Have the browser keep this cart (an empty one: no cookie at all)."""
    secure = request.url.scheme == "https"
    if cart.item_ids:
        response.set_cookie(
            CART_COOKIE,
            cart_signer(request).dumps(cart),
            max_age=CART_COOKIE_MAX_AGE,
            path="/",
            secure=secure,
            httponly=True,
            samesite="lax",
        )
    else:
        response.delete_cookie(CART_COOKIE, path="/", secure=secure, httponly=True, samesite="lax")


def cart_size(request: Request) -> int:
    """How many items the customer's cart holds (the header's cart link)."""
    return len(cart_of(request))
