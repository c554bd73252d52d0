"""Item photos for the online listing: what the staff upload becomes a clean, upright JPEG.

A photo taken with a phone at the counter can carry where it was taken (EXIF GPS: a seller's or
an employee's home), the camera's serial number and the owner's name. None of that may reach the
marketplace: every photo is decoded and re-encoded from its pixels alone, turned upright as the
camera meant it, converted to sRGB, and published in two sizes, the full photo and the
thumbnail of the search results. With a given Pillow build the result is a pure function of the
uploaded bytes, so a photo's sha256 is its address in the photo storage and in the sync to central.
"""

from __future__ import annotations

import hashlib
import io
import math
import struct
import warnings
from dataclasses import dataclass
from typing import Final

from PIL import Image, ImageCms, ImageOps, UnidentifiedImageError

from recommerce.errors import DomainError

MAX_UPLOAD_BYTES: Final = 15 * 1024 * 1024
FULL_SIZE: Final = 1600  # longest side in pixels of the published photo
THUMB_SIZE: Final = 400  # longest side of the thumbnail
MIN_SHORT_SIDE: Final = 200  # below this an item cannot be seen on the photo
# The biggest honest photo is a 50-megapixel phone sensor; Pillow's own guard against
# decompression bombs (Image.MAX_IMAGE_PIXELS, about 89 megapixels) stays in force above it.
MAX_PIXELS: Final = 50_000_000
FULL_QUALITY: Final = 85
THUMB_QUALITY: Final = 80

# What the photo can be uploaded as. MPO is the JPEG many phones write (the photo plus a depth map
# or a preview): its first picture is the photo.
ACCEPTED_FORMATS: Final = frozenset({"JPEG", "MPO", "PNG", "WEBP"})
# The Pillow plugins tried on an upload: only those of the accepted formats (MPO comes from JPEG's).
_OPENERS: Final = tuple(sorted(ACCEPTED_FORMATS - {"MPO"}))
_ACCEPTED_WORDS: Final = "JPEG, PNG or WebP"

# What a broken file can make Pillow raise while it decodes: the upload is damaged, not our code.
_DECODE_ERRORS: Final = (OSError, SyntaxError, ValueError, EOFError, IndexError, struct.error)

_SRGB: Final = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB"))
_WHITE: Final = (255, 255, 255)


class PhotoRejected(DomainError, ValueError):
    """An upload that cannot become a listing photo; the message says why, for the staff.

    `reason` is a short stable word for the API and the logs: empty, too_large, not_an_image,
    format_not_accepted, too_many_pixels, too_small, damaged.
    """

    def __init__(self, reason: str, message: str) -> None:
        super().__init__(message, field="photo", reason=reason)
        self.reason = reason


@dataclass(frozen=True, slots=True)
class PhotoVariant:
    """One published size of a photo: JPEG bytes and their sha256, the content address."""

    sha256: str
    data: bytes
    width: int
    height: int
    content_type: str = "image/jpeg"


@dataclass(frozen=True, slots=True)
class ProcessedPhoto:
    """A photo ready to store and publish: the full size and the thumbnail."""

    full: PhotoVariant
    thumb: PhotoVariant


def process_photo(raw: bytes) -> ProcessedPhoto:
    """Turn an uploaded photo into its published full size and thumbnail.

    The photo is turned upright (EXIF orientation), flattened on white if it has transparency,
    converted to sRGB, shrunk (never enlarged) to FULL_SIZE and THUMB_SIZE on its longest side
    and saved as progressive JPEG without any metadata. Raises PhotoRejected for an empty or
    oversized upload, something that is not a photo in an accepted format, a decompression
    bomb, a photo too small to show an item, or a damaged file.
    """
    if not raw:
        raise PhotoRejected("empty", "The photo is empty (0 bytes): no file was received.")
    if len(raw) > MAX_UPLOAD_BYTES:
        raise PhotoRejected(
            "too_large",
            f"The photo is {_megabytes(len(raw))}; the limit is {_megabytes(MAX_UPLOAD_BYTES)}. "
            "Take it at a lower resolution or upload a smaller copy.",
        )
    with _open(raw) as image:
        _check_dimensions(image)
        _decode_upright(image)
        profile = _embedded_profile(image.info.get("icc_profile"))
        rgb = _to_rgb(image, profile)
        rgb.info = {}  # nothing of the original file's metadata may reach the saved JPEG
        full = _shrink(rgb, FULL_SIZE)
        if profile is not None and profile.profile.xcolor_space.strip() == "RGB":
            full = _convert_profile(full, profile, "RGB", full)
        thumb = _shrink(full, THUMB_SIZE)
        return ProcessedPhoto(full=_encode(full, FULL_QUALITY), thumb=_encode(thumb, THUMB_QUALITY))


def _open(raw: bytes) -> Image.Image:
    """Read the file's header (nothing is decoded yet) with the plugins of accepted formats."""
    try:
        # Pillow warns above MAX_IMAGE_PIXELS and raises above twice that: both are refusals.
        # (The filter is process-wide while it is set; only Pillow raises this warning.)
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            image = Image.open(io.BytesIO(raw), formats=_OPENERS)
    except (Image.DecompressionBombWarning, Image.DecompressionBombError) as exc:
        raise _too_many_pixels() from exc
    except UnidentifiedImageError as exc:
        known = _sniff_format(raw)
        if known is not None:
            raise PhotoRejected(
                "format_not_accepted",
                f"{known} files are not accepted; upload the photo as {_ACCEPTED_WORDS}.",
            ) from exc
        raise PhotoRejected(
            "not_an_image",
            f"The file is not a photo that can be read ({_ACCEPTED_WORDS} expected).",
        ) from exc
    except _DECODE_ERRORS as exc:
        raise _damaged() from exc
    if image.format not in ACCEPTED_FORMATS:  # a plugin that names another format
        image.close()
        raise PhotoRejected(
            "format_not_accepted",
            f"{image.format} files are not accepted; upload the photo as {_ACCEPTED_WORDS}.",
        )
    return image


def _check_dimensions(image: Image.Image) -> None:
    width, height = image.size
    if width * height > MAX_PIXELS:
        raise _too_many_pixels(f" ({width} x {height} pixels)")
    if min(width, height) < MIN_SHORT_SIDE:
        raise PhotoRejected(
            "too_small",
            f"The photo is too small to show an item: {width} x {height} pixels, "
            f"at least {MIN_SHORT_SIDE} pixels are needed on its shorter side.",
        )


def _decode_upright(image: Image.Image) -> None:
    """Decode the pixels and turn them upright, as the camera recorded (EXIF orientation)."""
    longest = max(image.size)
    if longest > FULL_SIZE:
        # A JPEG can be decoded at 1/2, 1/4 or 1/8 of its size for free: the largest of those
        # still at least as big as the published photo saves most of the time and memory.
        scale = FULL_SIZE / longest
        image.draft(None, (math.ceil(image.width * scale), math.ceil(image.height * scale)))
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            image.load()
            ImageOps.exif_transpose(image, in_place=True)
    except (Image.DecompressionBombWarning, Image.DecompressionBombError) as exc:
        raise _too_many_pixels() from exc
    except _DECODE_ERRORS as exc:
        raise _damaged() from exc


def _embedded_profile(icc: object) -> ImageCms.ImageCmsProfile | None:
    """The photo's colour profile (a phone's Display P3, a print shop's CMYK), if it is usable."""
    if not isinstance(icc, bytes) or not icc:
        return None
    try:
        return ImageCms.ImageCmsProfile(io.BytesIO(icc))
    except (ImageCms.PyCMSError, OSError, TypeError, ValueError):
        return None  # a broken profile: the pixels are taken as sRGB


def _to_rgb(image: Image.Image, profile: ImageCms.ImageCmsProfile | None) -> Image.Image:
    """Any pixel mode to plain RGB; transparency is laid on white, as the listing page shows it."""
    if image.mode == "CMYK":
        if profile is not None and profile.profile.xcolor_space.strip() == "CMYK":
            return _convert_profile(image, profile, "RGB", image.convert("RGB"))
        return image.convert("RGB")
    if image.mode in ("I;16", "I;16L", "I;16B", "I;16N", "I", "F"):  # 16-bit greyscale PNG
        image = image.convert("I").point(lambda value: value * (1 / 257)).convert("L")
    if image.has_transparency_data:
        rgba = image.convert("RGBA")
        flat = Image.new("RGBA", rgba.size, (*_WHITE, 255))
        flat.alpha_composite(rgba)
        return flat.convert("RGB")
    return image if image.mode == "RGB" else image.convert("RGB")


def _convert_profile(
    image: Image.Image,
    profile: ImageCms.ImageCmsProfile,
    output_mode: str,
    fallback: Image.Image,
) -> Image.Image:
    """Pixels from the photo's own colour profile to sRGB, the colour space of the web."""
    try:
        converted = ImageCms.profileToProfile(image, profile, _SRGB, outputMode=output_mode)
    except (ImageCms.PyCMSError, OSError, ValueError):
        return fallback  # a profile that does not fit the pixels: take them as they are
    assert converted is not None  # not in place: profileToProfile returns the new image
    converted.info = {}
    return converted


def _shrink(image: Image.Image, longest: int) -> Image.Image:
    """Shrink so that the longest side is `longest` pixels; a smaller photo is kept as it is."""
    width, height = image.size
    if max(width, height) <= longest:
        return image
    scale = longest / max(width, height)
    size = (max(1, round(width * scale)), max(1, round(height * scale)))
    return image.resize(size, Image.Resampling.LANCZOS, reducing_gap=3.0)


def _encode(image: Image.Image, quality: int) -> PhotoVariant:
    """Progressive, optimised JPEG with no EXIF, ICC, XMP or comment: pixels only."""
    image.info = {}  # Pillow would otherwise copy the original's JPEG comment
    buffer = io.BytesIO()
    image.save(
        buffer,
        format="JPEG",
        quality=quality,
        optimize=True,
        progressive=True,
        subsampling="4:2:0",
    )
    data = buffer.getvalue()
    return PhotoVariant(
        sha256=hashlib.sha256(data).hexdigest(),
        data=data,
        width=image.width,
        height=image.height,
    )


def _sniff_format(raw: bytes) -> str | None:
    """Name a common image format that is not accepted, to tell the staff what to do instead."""
    head = raw[:32]
    if head[4:8] == b"ftyp":
        brand = head[8:12]
        if brand in {b"heic", b"heix", b"hevc", b"hevx", b"heim", b"heis", b"mif1", b"msf1"}:
            return "HEIC"
        if brand in {b"avif", b"avis"}:
            return "AVIF"
    for magic, name in (
        (b"GIF87a", "GIF"),
        (b"GIF89a", "GIF"),
        (b"II*\x00", "TIFF"),
        (b"MM\x00*", "TIFF"),
        (b"%PDF", "PDF"),
        (b"BM", "BMP"),
    ):
        if head.startswith(magic):
            return name
    return None


def _too_many_pixels(detail: str = "") -> PhotoRejected:
    return PhotoRejected(
        "too_many_pixels",
        f"The image has too many pixels{detail}: at most {MAX_PIXELS // 1_000_000} megapixels "
        "are accepted.",
    )


def _damaged() -> PhotoRejected:
    return PhotoRejected(
        "damaged", "The photo is damaged or incomplete and cannot be read; upload it again."
    )


def _megabytes(size: int) -> str:
    return f"{size / (1024 * 1024):.1f} MB"
