"""The one id generator: time-ordered UUIDs (version 7 layout) as strings."""

from __future__ import annotations

import os
import time


def new_id() -> str:
    """A UUIDv7: 48-bit millisecond timestamp then random bits, so ids sort by creation."""
    return uuid7(time.time_ns() // 1_000_000, int.from_bytes(os.urandom(10), "big") >> 6)


def uuid7(millis: int, rand: int) -> str:
    """The UUIDv7 of a millisecond timestamp and 74 random bits (RFC 9562): given its own
    random bits, a record of the past gets the same id each time it is made again."""
    value = (millis & ((1 << 48) - 1)) << 80
    value |= 0x7 << 76  # version
    value |= ((rand >> 62) & 0xFFF) << 64
    value |= 0b10 << 62  # variant
    value |= rand & ((1 << 62) - 1)
    h = f"{value:032x}"
    return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"
