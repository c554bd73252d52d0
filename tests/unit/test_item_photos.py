"""Item photos for the marketplace: what staff upload is published upright, small and anonymous,
and kept in the photo storage under the sha256 of its bytes."""

from __future__ import annotations

import hashlib
import io
import os
import struct
import zlib
from pathlib import Path
from typing import Any

import pytest
from PIL import Image, ImageCms

from recommerce.errors import DomainError
from recommerce.marketplace.photo_storage import DirectoryPhotoStorage, PhotoStorage
from recommerce.marketplace.photos import (
    ACCEPTED_FORMATS,
    FULL_SIZE,
    MAX_UPLOAD_BYTES,
    THUMB_SIZE,
    PhotoRejected,
    ProcessedPhoto,
    process_photo,
)

RED = (220, 20, 20)
BLUE = (20, 20, 220)
GPS_IFD = 0x8825
EXIF_IFD = 0x8769
ORIENTATION = 0x0112


def encode(image: Image.Image, fmt: str = "JPEG", **params: Any) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, fmt, **params)
    return buffer.getvalue()


def photo_of_an_item(width: int, height: int) -> Image.Image:
    """A picture with some detail in it, so that encoders have something to work on."""
    red = Image.linear_gradient("L").resize((width, height))
    green = Image.radial_gradient("L").resize((width, height))
    blue = Image.effect_noise((width, height), 30)
    return Image.merge("RGB", (red, green, blue))


def two_halves(
    width: int, height: int, top: tuple[int, int, int], bottom: tuple[int, int, int]
) -> Image.Image:
    image = Image.new("RGB", (width, height), top)
    image.paste(bottom, (0, height // 2, width, height))
    return image


def opened(data: bytes) -> Image.Image:
    image = Image.open(io.BytesIO(data))
    image.load()
    return image


def close_to(pixel: object, colour: tuple[int, int, int], tolerance: int = 12) -> bool:
    assert isinstance(pixel, tuple)
    return all(abs(a - b) <= tolerance for a, b in zip(pixel, colour, strict=True))


def jpeg_segments(data: bytes) -> list[int]:
    """The markers of a JPEG's header segments, up to the start of the picture data."""
    assert data[:2] == b"\xff\xd8"
    markers, at = [], 2
    while True:
        marker = data[at + 1]
        markers.append(marker)
        if marker == 0xDA:  # start of scan: the metadata, if any, came before
            return markers
        (length,) = struct.unpack(">H", data[at + 2 : at + 4])
        at += 2 + length


def png_claiming(width: int, height: int) -> bytes:
    """A tiny PNG whose header announces a huge picture: a decompression bomb's calling card."""

    def chunk(kind: bytes, body: bytes) -> bytes:
        crc = zlib.crc32(kind + body)
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", crc)

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(b"\x00" * 64))
        + chunk(b"IEND", b"")
    )


# --- what is published -------------------------------------------------------------------------


@pytest.mark.parametrize("colour_profile", [False, True], ids=["plain", "with-icc"])
def test_a_phone_photo_taken_at_home_is_published_without_its_location_or_any_metadata(
    colour_profile: bool,
) -> None:
    exif = Image.Exif()
    exif[0x010F] = "PhoneMaker"  # Make
    exif[0x0110] = "Phone 15"  # Model
    exif[0x013B] = "Jeanne Martin"  # Artist
    exif.get_ifd(EXIF_IFD)[0xA431] = "SN-4242-CAMERA"  # BodySerialNumber
    gps = exif.get_ifd(GPS_IFD)
    gps[1] = "N"
    gps[2] = (48.0, 51.0, 29.6)
    gps[3] = "E"
    gps[4] = (2.0, 17.0, 40.2)
    xmp = b'<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF/>Jeanne Martin</x:xmpmeta>'
    params: dict[str, Any] = {"exif": exif, "xmp": xmp, "comment": b"home sweet home"}
    if colour_profile:
        params["icc_profile"] = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()
    raw = encode(photo_of_an_item(800, 600), **params)
    original = Image.open(io.BytesIO(raw))
    assert original.getexif().get_ifd(GPS_IFD)[2] == (48.0, 51.0, 29.6)  # the test means it

    photo = process_photo(raw)

    for variant in (photo.full, photo.thumb):
        published = opened(variant.data)
        assert published.format == "JPEG"
        assert dict(published.getexif()) == {}
        assert published.getexif().get_ifd(GPS_IFD) == {}
        for key in ("exif", "icc_profile", "xmp", "comment"):
            assert key not in published.info
        # No application segment but JFIF's (APP1: EXIF and XMP, APP2: ICC...) and no comment.
        for marker in jpeg_segments(variant.data):
            assert marker == 0xE0 or not (0xE1 <= marker <= 0xEF or marker == 0xFE)
        for secret in (b"Exif", b"SN-4242", b"Jeanne", b"PhoneMaker", b"home sweet"):
            assert secret not in variant.data


def test_a_photo_taken_with_the_phone_on_its_side_is_published_upright() -> None:
    # As the sensor saw it: 3200 wide, red on top; orientation 6 says "turn me a quarter clockwise".
    exif = Image.Exif()
    exif[ORIENTATION] = 6
    raw = encode(two_halves(3200, 2400, top=RED, bottom=BLUE), exif=exif, quality=95)

    photo = process_photo(raw)

    assert (photo.full.width, photo.full.height) == (1200, 1600)
    assert (photo.thumb.width, photo.thumb.height) == (300, 400)
    for variant in (photo.full, photo.thumb):
        published = opened(variant.data)
        assert published.size == (variant.width, variant.height)
        # Turned a quarter clockwise, what was on top is now on the right.
        assert close_to(published.getpixel((variant.width * 3 // 4, variant.height // 2)), RED)
        assert close_to(published.getpixel((variant.width // 4, variant.height // 2)), BLUE)
        assert ORIENTATION not in published.getexif()


@pytest.mark.parametrize(
    ("fmt", "size"), [("JPEG", (4000, 3000)), ("PNG", (2400, 1800)), ("WEBP", (2400, 1800))]
)
def test_a_big_photo_is_shrunk_to_the_published_size_and_the_thumbnail_size(
    fmt: str, size: tuple[int, int]
) -> None:
    fast = {"compress_level": 1} if fmt == "PNG" else {}
    photo = process_photo(encode(photo_of_an_item(*size), fmt, **fast))

    assert (photo.full.width, photo.full.height) == (FULL_SIZE, 1200)
    assert (photo.thumb.width, photo.thumb.height) == (THUMB_SIZE, 300)
    assert opened(photo.full.data).size == (FULL_SIZE, 1200)
    assert opened(photo.thumb.data).size == (THUMB_SIZE, 300)


def test_a_tall_photo_is_shrunk_by_its_height() -> None:
    photo = process_photo(encode(photo_of_an_item(1000, 2500)))

    assert (photo.full.width, photo.full.height) == (640, FULL_SIZE)
    assert (photo.thumb.width, photo.thumb.height) == (160, THUMB_SIZE)


@pytest.mark.parametrize(
    ("size", "thumb_size"),
    [((500, 300), (400, 240)), ((300, 250), (300, 250)), ((1600, 900), (400, 225))],
)
def test_a_small_photo_is_never_enlarged(
    size: tuple[int, int], thumb_size: tuple[int, int]
) -> None:
    photo = process_photo(encode(photo_of_an_item(*size)))

    assert (photo.full.width, photo.full.height) == size
    assert (photo.thumb.width, photo.thumb.height) == thumb_size


@pytest.mark.parametrize("mode", ["RGBA", "LA", "P"])
def test_a_png_with_a_transparent_background_is_published_as_a_jpeg_on_white(mode: str) -> None:
    if mode == "P":  # a palette whose first colour is transparent
        cut_out = Image.new("P", (600, 400), 0)
        cut_out.putpalette([0, 0, 0, 200, 200, 200])
        cut_out.paste(1, (300, 0, 600, 400))
        raw = encode(cut_out, "PNG", transparency=0)
    else:
        cut_out = Image.new("RGBA", (600, 400), (0, 0, 0, 0))  # left half: nothing
        cut_out.paste((200, 200, 200, 255), (300, 0, 600, 400))  # right half: the item
        raw = encode(cut_out.convert(mode), "PNG")
    assert Image.open(io.BytesIO(raw)).has_transparency_data

    photo = process_photo(raw)

    published = opened(photo.full.data)
    assert published.format == "JPEG"
    assert published.mode == "RGB"
    assert close_to(published.getpixel((100, 200)), (255, 255, 255), tolerance=3)
    assert close_to(published.getpixel((500, 200)), (200, 200, 200), tolerance=6)


def test_a_16_bit_grey_png_keeps_its_shades_of_grey() -> None:
    grey = Image.new("I;16", (300, 300), 32768)  # half-way in 16 bits

    photo = process_photo(encode(grey, "PNG"))

    assert close_to(opened(photo.full.data).getpixel((150, 150)), (128, 128, 128), tolerance=3)


def test_a_cmyk_jpeg_from_a_print_shop_comes_out_in_rgb() -> None:
    raw = encode(Image.new("CMYK", (400, 300), (0, 255, 255, 0)))  # full magenta + yellow: red

    published = opened(process_photo(raw).full.data)

    assert published.mode == "RGB"
    assert close_to(published.getpixel((200, 150)), (255, 0, 0), tolerance=8)


def test_a_phone_multi_picture_jpeg_is_accepted_and_its_first_picture_published() -> None:
    first, depth_map = two_halves(640, 480, RED, RED), two_halves(640, 480, BLUE, BLUE)
    raw = encode(first, "MPO", save_all=True, append_images=[depth_map])
    assert Image.open(io.BytesIO(raw)).format == "MPO"
    assert "MPO" in ACCEPTED_FORMATS

    published = opened(process_photo(raw).full.data)

    assert close_to(published.getpixel((320, 240)), RED)


def test_the_same_photo_always_gives_the_same_files_and_addresses() -> None:
    exif = Image.Exif()
    exif[ORIENTATION] = 8
    raw = encode(photo_of_an_item(2400, 1800), exif=exif)

    first, second = process_photo(raw), process_photo(raw)

    assert first == second
    for variant in (first.full, first.thumb):
        assert variant.sha256 == hashlib.sha256(variant.data).hexdigest()
        assert variant.content_type == "image/jpeg"
    assert first.full.sha256 != first.thumb.sha256
    assert process_photo(encode(photo_of_an_item(2400, 1801))).full.sha256 != first.full.sha256


# --- what is refused -----------------------------------------------------------------------------


def refusal(raw: bytes) -> PhotoRejected:
    with pytest.raises(PhotoRejected) as caught:
        process_photo(raw)
    return caught.value


def test_an_empty_upload_is_refused_as_empty() -> None:
    rejected = refusal(b"")

    assert rejected.reason == "empty"
    assert "empty" in str(rejected)


def test_a_file_over_the_size_limit_is_refused_before_it_is_read() -> None:
    rejected = refusal(b"\xff\xd8" + bytes(MAX_UPLOAD_BYTES - 1))

    assert rejected.reason == "too_large"
    assert "15.0 MB" in str(rejected)


def test_bytes_that_are_not_an_image_are_refused() -> None:
    rejected = refusal(b"this is the seller's ID card, not a photo" * 10)

    assert rejected.reason == "not_an_image"
    assert "not a photo" in str(rejected)
    assert "JPEG, PNG or WebP" in str(rejected)


@pytest.mark.parametrize(
    ("raw", "named"),
    [
        (encode(photo_of_an_item(400, 300), "GIF"), "GIF"),
        (encode(photo_of_an_item(400, 300), "TIFF"), "TIFF"),
        (encode(photo_of_an_item(400, 300), "BMP"), "BMP"),
        (b"\x00\x00\x00\x18ftypheic\x00\x00\x00\x00mif1heic" + bytes(200), "HEIC"),
    ],
    ids=["gif", "tiff", "bmp", "heic"],
)
def test_an_image_in_a_format_not_accepted_is_refused_by_its_name(raw: bytes, named: str) -> None:
    rejected = refusal(raw)

    assert rejected.reason == "format_not_accepted"
    assert str(rejected).startswith(f"{named} files are not accepted")


def test_a_photo_too_small_to_show_the_item_is_refused() -> None:
    rejected = refusal(encode(photo_of_an_item(800, 150)))

    assert rejected.reason == "too_small"
    assert "800 x 150" in str(rejected)
    assert "200 pixels" in str(rejected)


@pytest.mark.filterwarnings("error")  # Pillow's DecompressionBombWarning must not escape either
@pytest.mark.parametrize(
    ("width", "height"),
    [(8000, 7000), (10_000, 10_000), (30_000, 30_000)],
    ids=["over-our-limit", "over-pillow-warning", "over-pillow-error"],
)
def test_a_decompression_bomb_is_refused_without_being_decoded(width: int, height: int) -> None:
    rejected = refusal(png_claiming(width, height))

    assert rejected.reason == "too_many_pixels"
    assert "too many pixels" in str(rejected)


def test_a_photo_cut_short_during_the_upload_is_refused_as_damaged() -> None:
    raw = encode(photo_of_an_item(1200, 900))

    rejected = refusal(raw[: len(raw) // 2])

    assert rejected.reason == "damaged"
    assert "damaged or incomplete" in str(rejected)


def test_a_refusal_is_a_business_error_about_the_photo_field() -> None:
    rejected = refusal(b"")

    assert isinstance(rejected, DomainError)
    assert isinstance(rejected, ValueError)
    assert rejected.field == "photo"
    assert rejected.extra == {"reason": "empty"}


# --- where photos are kept ---------------------------------------------------------------------


@pytest.fixture(scope="module")
def photo() -> ProcessedPhoto:
    return process_photo(encode(photo_of_an_item(900, 600)))


def files_under(root: Path) -> list[Path]:
    return sorted(path.relative_to(root) for path in root.rglob("*") if path.is_file())


def test_a_stored_photo_is_read_back_from_its_address(
    tmp_path: Path, photo: ProcessedPhoto
) -> None:
    storage: PhotoStorage = DirectoryPhotoStorage(tmp_path)
    full, thumb = photo.full, photo.thumb
    assert not storage.exists(full.sha256)
    assert storage.get(full.sha256) is None

    storage.put(full.sha256, full.data, full.content_type)
    storage.put(thumb.sha256, thumb.data, thumb.content_type)

    assert storage.exists(full.sha256)
    assert storage.get(full.sha256) == full.data
    assert storage.get(thumb.sha256) == thumb.data
    sha = full.sha256
    assert files_under(tmp_path) == sorted(
        [
            Path(sha[:2]) / sha[2:4] / f"{sha}.jpg",
            Path(thumb.sha256[:2]) / thumb.sha256[2:4] / f"{thumb.sha256}.jpg",
        ]
    )
    assert storage.path_hint(sha) == str(tmp_path / sha[:2] / sha[2:4] / f"{sha}.jpg")


def test_storing_a_photo_twice_changes_nothing(tmp_path: Path, photo: ProcessedPhoto) -> None:
    storage = DirectoryPhotoStorage(tmp_path)
    storage.put(photo.full.sha256, photo.full.data, "image/jpeg")
    stored = Path(storage.path_hint(photo.full.sha256))
    before = stored.stat()

    storage.put(photo.full.sha256, photo.full.data, "image/jpeg")

    after = stored.stat()
    assert (after.st_ino, after.st_mtime_ns) == (before.st_ino, before.st_mtime_ns)
    assert len(files_under(tmp_path)) == 1


def test_bytes_that_do_not_match_their_address_are_refused(
    tmp_path: Path, photo: ProcessedPhoto
) -> None:
    storage = DirectoryPhotoStorage(tmp_path)

    with pytest.raises(ValueError, match="hash to"):
        storage.put(photo.full.sha256, photo.thumb.data, "image/jpeg")

    assert not storage.exists(photo.full.sha256)
    assert files_under(tmp_path) == []


@pytest.mark.parametrize(
    "address",
    ["../../etc/passwd", "", "ab", "A" * 64, "g" * 64, "a" * 63, "a" * 65, "../" + "a" * 61],
)
def test_an_address_that_is_not_a_sha256_is_refused_everywhere(
    tmp_path: Path, address: str
) -> None:
    storage = DirectoryPhotoStorage(tmp_path / "photos")

    with pytest.raises(ValueError, match="not a sha256"):
        storage.put(address, b"data", "image/jpeg")
    for read in (storage.get, storage.exists, storage.path_hint):
        with pytest.raises(ValueError, match="not a sha256"):
            read(address)
    assert files_under(tmp_path) == []


def test_only_jpeg_photos_are_stored(tmp_path: Path) -> None:
    data = b"\x89PNG not really"

    with pytest.raises(ValueError, match="image/jpeg"):
        DirectoryPhotoStorage(tmp_path).put(hashlib.sha256(data).hexdigest(), data, "image/png")


def test_a_write_that_fails_midway_leaves_neither_a_half_photo_nor_a_temporary_file(
    tmp_path: Path, photo: ProcessedPhoto, monkeypatch: pytest.MonkeyPatch
) -> None:
    storage = DirectoryPhotoStorage(tmp_path)

    def disk_gone(fd: int) -> None:
        raise OSError(5, "Input/output error")

    monkeypatch.setattr(os, "fsync", disk_gone)
    with pytest.raises(OSError, match="Input/output"):
        storage.put(photo.full.sha256, photo.full.data, "image/jpeg")
    monkeypatch.undo()

    assert not storage.exists(photo.full.sha256)
    assert files_under(tmp_path) == []
    storage.put(photo.full.sha256, photo.full.data, "image/jpeg")  # and it can be stored again
    assert files_under(tmp_path) == [
        Path(storage.path_hint(photo.full.sha256)).relative_to(tmp_path)
    ]
