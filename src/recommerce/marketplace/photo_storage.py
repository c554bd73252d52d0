"""Where the listing photos are kept: files addressed by the sha256 of their bytes.

A photo's address is the hash of its content, so the same photo is stored once, a stored photo
never changes, and the store and central can tell which photos the other already holds. The
port is what the marketplace needs; DirectoryPhotoStorage, files under a directory, is the
default on a store node and at central.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import re
import tempfile
from pathlib import Path
from typing import Final, Protocol

JPEG: Final = "image/jpeg"
_SHA256: Final = re.compile(r"[0-9a-f]{64}")


class PhotoStorage(Protocol):
    """The photo files of the listings, by content address (sha256 in lower-case hex)."""

    def put(self, sha256: str, data: bytes, content_type: str) -> None:
        """Keep a photo. Storing one that is already there changes nothing.

        Raises ValueError when `sha256` is not the hash of `data`, or not a sha256 at all.
        """
        ...

    def get(self, sha256: str) -> bytes | None:
        """The photo's bytes, or None when it is not stored here."""
        ...

    def exists(self, sha256: str) -> bool:
        """Whether the photo is stored here."""
        ...

    def path_hint(self, sha256: str) -> str:
        """Where the photo is (or would be), for the logs."""
        ...


def check_sha256(sha256: str) -> str:
    """Refuse anything but 64 lower-case hex digits: an address must never name another file."""
    if not isinstance(sha256, str) or _SHA256.fullmatch(sha256) is None:
        raise ValueError(f"{sha256!r} is not a sha256 in lower-case hex")
    return sha256


class DirectoryPhotoStorage:
    """Photos as JPEG files under a directory: root/ab/cd/<sha256>.jpg.

    The two levels of sub-directories (the first four hex digits) keep every directory small.
    A photo is written to a temporary file next to its final name, flushed to disk, then renamed:
    a crash mid-write leaves at worst a hidden `.tmp` file, never a half photo under its name.
    """

    def __init__(self, root: Path) -> None:
        self.root = Path(root)

    def put(self, sha256: str, data: bytes, content_type: str) -> None:
        check_sha256(sha256)
        if content_type != JPEG:
            raise ValueError(f"photos are stored as {JPEG}, not {content_type!r}")
        actual = hashlib.sha256(data).hexdigest()
        if actual != sha256:
            raise ValueError(f"the photo's bytes hash to {actual}, not to {sha256}")
        path = self._path(sha256)
        if path.is_file():
            return
        new_directories = not path.parent.is_dir()
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{sha256}.", suffix=".tmp")
        try:
            with os.fdopen(fd, "wb") as file:
                file.write(data)
                file.flush()
                os.fsync(file.fileno())
            os.chmod(temporary, 0o644)  # mkstemp makes it private; the photos are public
            os.replace(temporary, path)
        except BaseException:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(temporary)
            raise
        _fsync_directory(path.parent)
        if new_directories:  # their names must reach the disk too, or the photo is lost
            _fsync_directory(path.parent.parent)
            _fsync_directory(self.root)

    def get(self, sha256: str) -> bytes | None:
        try:
            return self._path(sha256).read_bytes()
        except FileNotFoundError:
            return None

    def exists(self, sha256: str) -> bool:
        return self._path(sha256).is_file()

    def path_hint(self, sha256: str) -> str:
        return str(self._path(sha256))

    def _path(self, sha256: str) -> Path:
        check_sha256(sha256)
        return self.root / sha256[:2] / sha256[2:4] / f"{sha256}.jpg"


def _fsync_directory(directory: Path) -> None:
    """Make the rename itself durable (POSIX); elsewhere the file system does what it can."""
    if os.name != "posix":
        return
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def open_photo_storage(
    url: str | None, directory: Path, *, endpoint_url: str | None = None
) -> PhotoStorage:
    """The photo storage a node is configured with: files under `directory` by default, or an
    S3-compatible bucket for `s3://bucket/prefix` (at `endpoint_url` for a MinIO or another
    provider's S3)."""
    if not url:
        return DirectoryPhotoStorage(directory)
    from recommerce.marketplace.s3_photo_storage import S3PhotoStorage

    options = {"endpoint_url": endpoint_url} if endpoint_url else {}
    return S3PhotoStorage.from_url(url, **options)
