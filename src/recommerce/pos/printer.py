"""The receipt-printer port: where ESC/POS bytes go."""

from __future__ import annotations

import socket
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol


class ReceiptPrinter(Protocol):
    def print_bytes(self, data: bytes, *, name: str) -> str:
        """Send a receipt; returns where it went, for the cashier's screen."""
        ...


@dataclass(frozen=True, slots=True)
class NetworkReceiptPrinter:
    """A thermal printer on the store network speaking raw ESC/POS (port 9100)."""

    host: str
    port: int = 9100
    timeout_s: float = 5.0

    def print_bytes(self, data: bytes, *, name: str) -> str:
        with socket.create_connection((self.host, self.port), timeout=self.timeout_s) as conn:
            conn.sendall(data)
        return f"{self.host}:{self.port}"


@dataclass(frozen=True, slots=True)
class FileReceiptPrinter:
    """Writes each receipt's ESC/POS bytes to a file: for tests, the demo, and a till whose
    printer is out of order (the file can be printed later)."""

    directory: Path

    def print_bytes(self, data: bytes, *, name: str) -> str:
        self.directory.mkdir(parents=True, exist_ok=True)
        path = self.directory / f"{name}.escpos"
        path.write_bytes(data)
        return str(path)
