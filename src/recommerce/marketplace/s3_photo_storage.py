"""Photos in an S3-compatible object store (AWS S3, MinIO, Scaleway, OVH...): the option for a
central that runs on several machines, behind the same `PhotoStorage` port as the directory.

Objects are named by content (`<prefix>/ab/cd/<sha256>.jpg`), written once, never changed,
checked against their sha256 before upload. Needs the `s3` extra (boto3).
"""

from __future__ import annotations

import hashlib
from typing import Any

from recommerce.marketplace.photo_storage import JPEG, check_sha256


class S3PhotoStorage:
    """The photo storage port on a bucket; `client` is a boto3 S3 client (its endpoint, keys
    and region come from the usual AWS settings, or are given when it is made)."""

    def __init__(self, client: Any, bucket: str, *, prefix: str = "photos") -> None:
        self._client = client
        self._bucket = bucket
        self._prefix = prefix.strip("/")

    @classmethod
    def from_url(cls, url: str, **client_options: Any) -> S3PhotoStorage:
        """From `s3://bucket/prefix`; `client_options` go to boto3 (e.g. `endpoint_url` of a
        MinIO server)."""
        import boto3

        if not url.startswith("s3://"):
            raise ValueError(f"an S3 photo store is named s3://bucket/prefix, not {url!r}")
        bucket, _, prefix = url.removeprefix("s3://").partition("/")
        if not bucket:
            raise ValueError(f"{url!r} names no bucket")
        return cls(boto3.client("s3", **client_options), bucket, prefix=prefix or "photos")

    def _key(self, sha256: str) -> str:
        check_sha256(sha256)
        return f"{self._prefix}/{sha256[:2]}/{sha256[2:4]}/{sha256}.jpg"

    def put(self, sha256: str, data: bytes, content_type: str) -> None:
        if content_type != JPEG:
            raise ValueError(f"photos are stored as {JPEG}, not {content_type!r}")
        if hashlib.sha256(data).hexdigest() != check_sha256(sha256):
            raise ValueError("the photo's sha256 does not match its address")
        if self.exists(sha256):
            return
        self._client.put_object(
            Bucket=self._bucket,
            Key=self._key(sha256),
            Body=data,
            ContentType=JPEG,
            CacheControl="public, max-age=31536000, immutable",
        )

    def get(self, sha256: str) -> bytes | None:
        try:
            answer = self._client.get_object(Bucket=self._bucket, Key=self._key(sha256))
        except self._client.exceptions.NoSuchKey:
            return None
        body: bytes = answer["Body"].read()
        return body

    def exists(self, sha256: str) -> bool:
        from botocore.exceptions import ClientError

        try:
            self._client.head_object(Bucket=self._bucket, Key=self._key(sha256))
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") in ("404", "NoSuchKey", "NotFound"):
                return False
            raise
        return True

    def path_hint(self, sha256: str) -> str:
        return f"s3://{self._bucket}/{self._key(sha256)}"
