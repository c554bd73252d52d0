"""The one id generator: time-ordered UUIDs (version 7 layout) as strings."""

from __future__ import annotations

import os
import time
import uuid


def new_id() -> str:
    """A UUIDv7: 48-bit millisecond timestamp then random bits, so ids sort by creation."""
    millis = time.time_ns() // 1_000_000
    rand = int.from_bytes(os.urandom(10), "big")
    value = (millis & ((1 << 48) - 1)) << 80
    value |= 0x7 << 76  # version
    value |= ((rand >> 68) & 0xFFF) << 64
    value |= 0b10 << 62  # variant
    value |= rand & ((1 << 62) - 1)
    return str(uuid.UUID(int=value))
