"""Photo files of the marketplace: uploaded by the store that lists the item (before the listing
event that names them), served to customers by their sha256, cacheable forever."""

from __future__ import annotations

import hashlib
from typing import Annotated

from fastapi import APIRouter, Path, Request, Response
from fastapi.concurrency import run_in_threadpool

from recommerce.central.api.deps import CentralDep, ProtocolDep, StoreDep
from recommerce.errors import DomainError, ErrorCode, NotFound
from recommerce.marketplace.photos import MAX_UPLOAD_BYTES

router = APIRouter(tags=["marketplace"])

Sha256 = Annotated[str, Path(pattern="^[0-9a-f]{64}$", description="sha256 of the file, hex")]
IMMUTABLE = {"Cache-Control": "public, max-age=31536000, immutable"}


@router.head(
    "/api/v1/sync/stores/{store_number}/photos/{sha256}",
    summary="Whether central holds this photo file (200) or not (404)",
    tags=["sync"],
)
async def has_photo(
    sha256: Sha256, store: StoreDep, _protocol: ProtocolDep, central: CentralDep
) -> Response:
    held = await run_in_threadpool(central.photos.exists, sha256)
    return Response(status_code=200 if held else 404)


@router.put(
    "/api/v1/sync/stores/{store_number}/photos/{sha256}",
    status_code=204,
    summary="Upload a photo file of a listing (JPEG), addressed by its sha256",
    tags=["sync"],
)
async def put_photo(
    sha256: Sha256, request: Request, store: StoreDep, _protocol: ProtocolDep, central: CentralDep
) -> Response:
    data = bytearray()
    async for chunk in request.stream():
        data += chunk
        if len(data) > MAX_UPLOAD_BYTES:
            raise DomainError(
                f"a photo file is at most {MAX_UPLOAD_BYTES} bytes",
                code=ErrorCode.PHOTO_REJECTED,
                field="body",
            )
    if hashlib.sha256(data).hexdigest() != sha256:
        raise DomainError(
            "the file's sha256 is not the one in the URL: damaged on the way?",
            code=ErrorCode.PHOTO_REJECTED,
            field="sha256",
        )
    if not data.startswith(b"\xff\xd8\xff"):
        raise DomainError(
            "a listing's photo file is a JPEG", code=ErrorCode.PHOTO_REJECTED, field="body"
        )
    await run_in_threadpool(central.photos.put, sha256, bytes(data), "image/jpeg")
    return Response(status_code=204)


@router.get(
    "/api/v1/marketplace/photos/{sha256}",
    response_class=Response,
    responses={200: {"content": {"image/jpeg": {}}}},
    summary="A listing's photo or thumbnail",
)
async def photo(sha256: Sha256, central: CentralDep) -> Response:
    data = await run_in_threadpool(central.photos.get, sha256)
    if data is None:
        raise NotFound(f"no photo {sha256}", code=ErrorCode.NOT_FOUND, field="sha256")
    return Response(data, media_type="image/jpeg", headers=IMMUTABLE)
