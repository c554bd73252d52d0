"""Photos in an S3-compatible bucket behave as in the directory: addressed by content, written
once, refused when the bytes do not match their address (moto stands in for the S3 API)."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from pathlib import Path

import pytest

boto3 = pytest.importorskip("boto3")
moto = pytest.importorskip("moto")

from recommerce.marketplace.photo_storage import (  # noqa: E402
    DirectoryPhotoStorage,
    open_photo_storage,
)
from recommerce.marketplace.s3_photo_storage import S3PhotoStorage  # noqa: E402

PHOTO = b"\xff\xd8\xff\xe0 a jpeg's bytes"
SHA = hashlib.sha256(PHOTO).hexdigest()


@pytest.fixture
def bucket(monkeypatch: pytest.MonkeyPatch) -> Iterator[S3PhotoStorage]:
    for name, value in {
        "AWS_ACCESS_KEY_ID": "test",
        "AWS_SECRET_ACCESS_KEY": "test",
        "AWS_DEFAULT_REGION": "eu-west-3",
    }.items():
        monkeypatch.setenv(name, value)
    with moto.mock_aws():
        client = boto3.client("s3", region_name="eu-west-3")
        client.create_bucket(
            Bucket="recommerce-photos",
            CreateBucketConfiguration={"LocationConstraint": "eu-west-3"},
        )
        yield S3PhotoStorage.from_url("s3://recommerce-photos/listings")


def test_a_photo_goes_into_the_bucket_by_its_content_address(bucket: S3PhotoStorage) -> None:
    assert not bucket.exists(SHA)
    assert bucket.get(SHA) is None
    bucket.put(SHA, PHOTO, "image/jpeg")
    bucket.put(SHA, PHOTO, "image/jpeg")  # again: nothing changes
    assert bucket.exists(SHA)
    assert bucket.get(SHA) == PHOTO
    assert (
        bucket.path_hint(SHA) == f"s3://recommerce-photos/listings/{SHA[:2]}/{SHA[2:4]}/{SHA}.jpg"
    )


def test_bytes_that_do_not_match_their_address_are_refused(bucket: S3PhotoStorage) -> None:
    with pytest.raises(ValueError, match="does not match"):
        bucket.put(SHA, PHOTO + b"tampered", "image/jpeg")
    with pytest.raises(ValueError):
        bucket.get("../../etc/passwd")
    assert not bucket.exists(SHA)


def test_a_node_uses_its_directory_unless_told_a_bucket(tmp_path: Path) -> None:
    assert isinstance(open_photo_storage(None, tmp_path), DirectoryPhotoStorage)
    with pytest.raises(ValueError, match="s3://bucket/prefix"):
        open_photo_storage("ftp://somewhere", tmp_path)
