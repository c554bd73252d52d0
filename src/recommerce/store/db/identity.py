"""Identity documents at rest: numbers encrypted (business-rules F.24), sellers pseudonymised."""

from __future__ import annotations

import hashlib
import hmac
from pathlib import Path

from cryptography.fernet import Fernet, InvalidToken

from recommerce.buyback.seller import IdentityDocument
from recommerce.buyback.watchlist import normalise_serial


class IdentityVault:
    def __init__(self, key: str) -> None:
        self._fernet = Fernet(key.encode())
        self._hmac_key = hashlib.sha256(b"seller-key:" + key.encode()).digest()

    @classmethod
    def from_file(cls, path: Path) -> IdentityVault:
        """Development and tests only: a key generated once and kept beside the database."""
        if not path.exists():
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(Fernet.generate_key().decode())
            path.chmod(0o600)
        return cls(path.read_text().strip())

    def encrypt(self, value: str) -> str:
        return self._fernet.encrypt(value.encode()).decode()

    def decrypt(self, token: str) -> str:
        try:
            return self._fernet.decrypt(token.encode()).decode()
        except InvalidToken as exc:
            raise RuntimeError("identity data cannot be decrypted with this key") from exc

    def seller_key(self, document: IdentityDocument) -> str:
        material = f"{document.type.value}:{normalise_serial(document.number)}".encode()
        return hmac.new(self._hmac_key, material, hashlib.sha256).hexdigest()
