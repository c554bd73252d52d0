"""The yearly archive is signed and checks with standard tools alone (rule D.19)."""

from __future__ import annotations

import base64
import csv
import hashlib
import json
import shutil
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from recommerce.fiscal.archive import (
    CHAIN_CHECK_SCRIPT,
    MANIFEST,
    MANIFEST_SIGNATURE,
    PUBLIC_KEY,
    README,
    SCRIPT_END,
    SCRIPT_START,
    verify_archive,
    write_archive,
)
from recommerce.fiscal.closings import Period, closing_fields, closing_record_label
from recommerce.fiscal.journal import FiscalKey, JournalRecord, seal

START = datetime(2026, 12, 30, 9, 0, tzinfo=UTC)
JSON_NAME = "journal-042-2026.json"
CSV_NAME = "journal-042-2026.csv"


def _ticket(n: int, total_cents: int) -> dict[str, Any]:
    kind = "return" if total_cents < 0 else "sale"
    return {
        "ticket_id": f"t-{n}",
        "number": f"042-T1-{n:06d}",
        "till": "T1",
        "kind": kind,
        "staff_id": "staff-1",
        "lines": [{"article": "Vélo électrique « ville »", "price_cents": total_cents}],
        "tenders": [{"kind": "cash", "amount_cents": total_cents}],
        "change_cents": 0,
        "total_cents": total_cents,
        "vat": [{"regime": "margin", "rate": "20", "total_cents": total_cents, "vat_cents": 0}],
        "refers_to": "t-1" if kind == "return" else None,
    }


def build_year(key: FiscalKey, *, after: JournalRecord | None = None) -> list[JournalRecord]:
    records: list[JournalRecord] = [after] if after else []
    first = len(records)
    for n, total in enumerate([16_000, 9_000, -4_000], start=(after.seq + 1 if after else 1)):
        records.append(
            seal(
                records[-1] if records else None,
                seq=n,
                kind="ticket",
                label=f"ticket 042-T1-{n:06d}",
                occurred_at=START + timedelta(minutes=n),
                fields=_ticket(n, total),
                key=key,
            )
        )
    tickets = records[first:]
    records.append(
        seal(
            records[-1],
            seq=records[-1].seq + 1,
            kind="closing",
            label=closing_record_label(Period.DAY, "2026-12-30"),
            occurred_at=START + timedelta(hours=12),
            fields=closing_fields(
                period=Period.DAY, label="2026-12-30", records=tickets, previous_grand_total_cents=0
            ),
            key=key,
        )
    )
    return records[first:]


@pytest.fixture
def key(tmp_path: Path) -> FiscalKey:
    return FiscalKey.generate(tmp_path / "keys" / "fiscal.pem")


@pytest.fixture
def archive(tmp_path: Path, key: FiscalKey) -> Path:
    directory = tmp_path / "archive-2026"
    write_archive(directory, year=2026, store_number=42, records=build_year(key), key=key)
    return directory


def _run(args: list[str], cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(args, cwd=cwd, capture_output=True, text=True, check=False)


def _tools() -> None:
    for tool in ("openssl", "sha256sum"):
        if shutil.which(tool) is None:
            pytest.skip(f"`{tool}` is not on PATH: the standard-tools check cannot run here")


OPENSSL_VERIFY = [
    "openssl",
    "pkeyutl",
    "-verify",
    "-pubin",
    "-inkey",
    PUBLIC_KEY,
    "-rawin",
    "-in",
    MANIFEST,
    "-sigfile",
    MANIFEST_SIGNATURE,
]


def test_the_archive_holds_the_announced_files(tmp_path: Path, key: FiscalKey) -> None:
    directory = tmp_path / "a"
    paths = write_archive(directory, year=2026, store_number=42, records=build_year(key), key=key)

    assert [p.name for p in paths] == [
        JSON_NAME,
        CSV_NAME,
        MANIFEST,
        MANIFEST_SIGNATURE,
        PUBLIC_KEY,
        README,
    ]
    assert len((directory / MANIFEST_SIGNATURE).read_bytes()) == 64
    assert (directory / PUBLIC_KEY).read_bytes() == key.public_pem()
    document = json.loads((directory / JSON_NAME).read_text(encoding="utf-8"))
    assert [r["seq"] for r in document["records"]] == [1, 2, 3, 4]
    assert document["records"][0]["fields"]["lines"][0]["article"] == "Vélo électrique « ville »"
    assert document["verification_at_writing"] == "journal verified: 4 records"
    with (directory / CSV_NAME).open(encoding="utf-8", newline="") as rows:
        table = list(csv.DictReader(rows))
    assert [row["label"] for row in table][-1] == "daily closing 2026-12-30"
    first = table[0]
    recomputed = hashlib.sha256(
        first["previous_hash"].encode("ascii") + first["canonical"].encode("utf-8")
    ).hexdigest()
    assert recomputed == first["hash"]
    assert json.loads(first["fields"])["total_cents"] == 16_000


def test_yearly_archive_verifies_with_openssl_alone(archive: Path, tmp_path: Path) -> None:
    _tools()

    files = _run(["sha256sum", "-c", MANIFEST], cwd=archive)
    signature = _run(OPENSSL_VERIFY, cwd=archive)

    assert files.returncode == 0, files.stdout + files.stderr
    assert f"{JSON_NAME}: OK" in files.stdout
    assert f"{CSV_NAME}: OK" in files.stdout
    assert signature.returncode == 0, signature.stdout + signature.stderr
    assert "Signature Verified Successfully" in signature.stdout

    # each record's own signature, as README step 4 explains
    record = json.loads((archive / JSON_NAME).read_text(encoding="utf-8"))["records"][2]
    (tmp_path / "hash.bin").write_bytes(bytes.fromhex(record["hash"]))
    (tmp_path / "sig.bin").write_bytes(base64.b64decode(record["signature"]))
    one = _run(
        [
            "openssl",
            "pkeyutl",
            "-verify",
            "-pubin",
            "-inkey",
            str(archive / PUBLIC_KEY),
            "-rawin",
            "-in",
            "hash.bin",
            "-sigfile",
            "sig.bin",
        ],
        cwd=tmp_path,
    )
    assert one.returncode == 0, one.stdout + one.stderr


def test_tampered_archive_fails_the_openssl_check(archive: Path) -> None:
    _tools()
    journal = archive / JSON_NAME
    journal.write_text(
        journal.read_text(encoding="utf-8").replace('"total_cents": 16000', '"total_cents": 1600'),
        encoding="utf-8",
    )

    assert _run(["sha256sum", "-c", MANIFEST], cwd=archive).returncode != 0

    # recomputing the manifest does not help without the key
    manifest = archive / MANIFEST
    manifest.write_text(
        "".join(
            f"{hashlib.sha256((archive / name).read_bytes()).hexdigest()}  {name}\n"
            for name in (JSON_NAME, CSV_NAME)
        ),
        encoding="ascii",
    )
    assert _run(["sha256sum", "-c", MANIFEST], cwd=archive).returncode == 0
    signature = _run(OPENSSL_VERIFY, cwd=archive)
    assert signature.returncode != 0
    assert "Signature Verified Successfully" not in signature.stdout


def test_the_readme_explains_the_checks_in_french_and_english(archive: Path) -> None:
    readme = (archive / README).read_text(encoding="utf-8")

    assert "=== Français ===" in readme
    assert "=== English ===" in readme
    assert "sha256sum -c MANIFEST.sha256" in readme
    assert (
        "openssl pkeyutl -verify -pubin -inkey fiscal-public-key.pem -rawin "
        "-in MANIFEST.sha256 -sigfile MANIFEST.sha256.sig"
    ) in readme
    assert "hash = SHA-256( previous_hash" in readme
    assert "magasin / store 042".lower() in readme.lower()


def _readme_script(archive: Path) -> str:
    readme = (archive / README).read_text(encoding="utf-8")
    script = readme.split(SCRIPT_START + "\n", 1)[1].split(SCRIPT_END, 1)[0]
    assert script == CHAIN_CHECK_SCRIPT
    return script


def test_the_readme_script_recomputes_the_chain_with_the_standard_library(archive: Path) -> None:
    script = _readme_script(archive)

    good = _run([sys.executable, "-I", "-c", script], cwd=archive)
    assert good.returncode == 0, good.stderr
    assert good.stdout.strip() == "chain OK: 4 records"

    journal = archive / JSON_NAME
    journal.write_text(
        journal.read_text(encoding="utf-8").replace('"total_cents": 9000', '"total_cents": 900'),
        encoding="utf-8",
    )
    bad = _run([sys.executable, "-I", "-c", script], cwd=archive)
    assert bad.returncode != 0
    assert "record seq 2 (ticket 042-T1-000002) fails" in bad.stderr


def test_a_written_archive_verifies_in_python(archive: Path, key: FiscalKey) -> None:
    result = verify_archive(archive, public_key=key.public_key)

    assert result.ok, result.message
    assert result.message == "journal verified: 4 records"


def test_a_changed_archive_file_is_named(archive: Path) -> None:
    journal = archive / JSON_NAME
    journal.write_text(
        journal.read_text(encoding="utf-8").replace("16000", "1600"), encoding="utf-8"
    )

    result = verify_archive(archive)

    assert not result.ok
    assert result.message == f"archive fails: {JSON_NAME} does not match its SHA-256 in {MANIFEST}"


def test_an_archive_rebuilt_with_another_key_is_refused_given_the_stores_key(
    tmp_path: Path, key: FiscalKey
) -> None:
    forger = FiscalKey(Ed25519PrivateKey.generate())
    directory = tmp_path / "forged"
    write_archive(directory, year=2026, store_number=42, records=build_year(forger), key=forger)

    assert verify_archive(directory).ok  # consistent with itself, and only that
    result = verify_archive(directory, public_key=key.public_pem())

    assert not result.ok
    assert "not the store's fiscal key" in result.message


def test_records_resigned_by_another_key_fail_at_the_first_one(
    tmp_path: Path, key: FiscalKey
) -> None:
    """Someone re-signs the manifest with the store's key over records they rebuilt."""
    forger = FiscalKey(Ed25519PrivateKey.generate())
    records = build_year(key)
    forged = [*records[:1], *build_year(forger, after=records[0])]
    directory = tmp_path / "mixed"
    write_archive(directory, year=2026, store_number=42, records=forged, key=key)

    document = json.loads((directory / JSON_NAME).read_text(encoding="utf-8"))
    assert document["verification_at_writing"].startswith(
        "record seq 2 (ticket 042-T1-000002) fails"
    )
    result = verify_archive(directory, public_key=key.public_key)

    assert not result.ok
    assert result.journal is not None and result.journal.failure is not None
    assert result.journal.failure.seq == 2
    assert "rebuilt without the key" in result.message


def test_a_later_years_archive_continues_the_previous_chain(tmp_path: Path, key: FiscalKey) -> None:
    whole = build_year(key)
    first_year, next_year = whole[:2], whole[2:]
    write_archive(tmp_path / "y1", year=2026, store_number=42, records=first_year, key=key)
    write_archive(tmp_path / "y2", year=2027, store_number=42, records=next_year, key=key)

    assert verify_archive(tmp_path / "y2", after_hash=first_year[-1].hash).ok
    wrong = verify_archive(tmp_path / "y2", after_hash="f" * 64)
    assert "does not follow the previous archive" in wrong.message


def test_an_archive_is_never_overwritten(archive: Path, key: FiscalKey) -> None:
    before = (archive / JSON_NAME).read_bytes()

    with pytest.raises(FileExistsError, match="never overwritten"):
        write_archive(archive, year=2026, store_number=42, records=build_year(key), key=key)
    assert (archive / JSON_NAME).read_bytes() == before


def test_a_missing_signature_is_named(archive: Path) -> None:
    (archive / MANIFEST_SIGNATURE).unlink()

    assert verify_archive(archive).message == f"archive fails: {MANIFEST_SIGNATURE} is missing"
