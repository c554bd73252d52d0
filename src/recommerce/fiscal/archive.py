"""The yearly fiscal archive: signed, and readable without the software (rule D.19).

An archive is a folder of plain files that an auditor checks with standard tools only:

- journal-SSS-YYYY.json: every record with its fields, previous hash, hash and signature;
- journal-SSS-YYYY.csv: the same records, one row each, with the exact canonical bytes hashed;
- MANIFEST.sha256: `sha256sum` lines for the JSON and CSV files (`sha256sum -c` checks them);
- MANIFEST.sha256.sig: the raw Ed25519 signature of the manifest (`openssl pkeyutl -verify`);
- fiscal-public-key.pem: the store's public key;
- README.txt: how to check all of this, in French and English.

`verify_archive` does the same checks in Python, and walks the chain like `journal.verify`.
"""

from __future__ import annotations

import csv
import hashlib
import json
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from recommerce.fiscal.journal import (
    FiscalKey,
    JournalRecord,
    Verification,
    canonical_bytes,
    canonical_fields,
    format_instant,
    load_public_key,
    public_key_fingerprint,
    verify,
)

FORMAT = "recommerce-fiscal-journal-archive/1"
MANIFEST = "MANIFEST.sha256"
MANIFEST_SIGNATURE = "MANIFEST.sha256.sig"
PUBLIC_KEY = "fiscal-public-key.pem"
README = "README.txt"
CSV_COLUMNS = (
    "seq",
    "kind",
    "label",
    "occurred_at",
    "previous_hash",
    "hash",
    "signature",
    "fields",
    "canonical",
)

SCRIPT_START = "----- chain_check.py -----"
SCRIPT_END = "----- end of chain_check.py -----"

# Recomputes every hash of the archive's chain with the Python standard library only; the
# README carries it word for word, and a test runs it.
CHAIN_CHECK_SCRIPT = """\
import glob, hashlib, json
[name] = glob.glob("journal-*.json")
records = json.load(open(name, encoding="utf-8"))["records"]
previous = records[0]["previous_hash"] if records else None
for r in records:
    canonical = json.dumps(
        {k: r[k] for k in ("seq", "kind", "label", "occurred_at", "fields", "previous_hash")},
        sort_keys=True, separators=(",", ":"), ensure_ascii=False,
    ).encode("utf-8")
    digest = hashlib.sha256(r["previous_hash"].encode("ascii") + canonical).hexdigest()
    if r["previous_hash"] != previous or digest != r["hash"]:
        raise SystemExit("record seq %s (%s) fails" % (r["seq"], r["label"]))
    previous = r["hash"]
print("chain OK: %d records" % len(records))
"""


def archive_names(store_number: int, year: int) -> tuple[str, str]:
    stem = f"journal-{store_number:03d}-{year}"
    return f"{stem}.json", f"{stem}.csv"


def _sha256_file(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _record_document(record: JournalRecord) -> dict[str, Any]:
    return {
        "seq": record.seq,
        "kind": record.kind,
        "label": record.label,
        "occurred_at": format_instant(record.occurred_at),
        "fields": json.loads(canonical_fields(record.fields)),
        "previous_hash": record.previous_hash,
        "hash": record.hash,
        "signature": record.signature,
    }


def _csv_row(record: JournalRecord) -> list[str]:
    canonical = canonical_bytes(
        seq=record.seq,
        kind=record.kind,
        label=record.label,
        occurred_at=record.occurred_at,
        fields=record.fields,
        previous_hash=record.previous_hash,
    )
    return [
        str(record.seq),
        record.kind,
        record.label,
        format_instant(record.occurred_at),
        record.previous_hash,
        record.hash,
        record.signature,
        canonical_fields(record.fields),
        canonical.decode("utf-8"),
    ]


def write_archive(
    directory: Path,
    *,
    year: int,
    store_number: int,
    records: Sequence[JournalRecord],
    key: FiscalKey,
) -> list[Path]:
    """Write the yearly archive of `records` (the journal records of the year) into
    `directory`, and return the files written. Existing files are never overwritten.

    The archive is written even when the chain does not verify (the records must be kept
    whatever happened to them); the JSON then says so in "verification_at_writing".
    """
    ordered = sorted(records, key=lambda record: record.seq)
    json_name, csv_name = archive_names(store_number, year)
    paths = [
        directory / name
        for name in (json_name, csv_name, MANIFEST, MANIFEST_SIGNATURE, PUBLIC_KEY, README)
    ]
    for path in paths:
        if path.exists():
            raise FileExistsError(f"{path} already exists; an archive is never overwritten")
    directory.mkdir(parents=True, exist_ok=True)

    after_seq = ordered[0].seq - 1 if ordered else 0
    after_hash = ordered[0].previous_hash if ordered else None
    checked = verify(ordered, key.public_key, after_seq=after_seq, after_hash=after_hash or "")
    document = {
        "format": FORMAT,
        "store_number": store_number,
        "year": year,
        "hash_rule": "hash = SHA-256(previous_hash as ASCII + canonical JSON of the record)",
        "signature_rule": "signature = base64(Ed25519 signature of the 32 raw bytes of hash)",
        "public_key_sha256": key.fingerprint,
        "chain_starts_after": {"seq": after_seq, "hash": after_hash},
        "record_count": len(ordered),
        "verification_at_writing": checked.message,
        "records": [_record_document(record) for record in ordered],
    }
    json_path, csv_path, manifest_path, signature_path, key_path, readme_path = paths
    with json_path.open("x", encoding="utf-8") as out:
        json.dump(document, out, indent=2, ensure_ascii=False)
        out.write("\n")
    with csv_path.open("x", encoding="utf-8", newline="") as out:
        writer = csv.writer(out)
        writer.writerow(CSV_COLUMNS)
        writer.writerows(_csv_row(record) for record in ordered)

    manifest = "".join(f"{_sha256_file(path)}  {path.name}\n" for path in (json_path, csv_path))
    with manifest_path.open("xb") as out:
        out.write(manifest.encode("ascii"))
    with signature_path.open("xb") as out:
        out.write(key.sign_raw(manifest.encode("ascii")))
    with key_path.open("xb") as out:
        out.write(key.public_pem())
    with readme_path.open("x", encoding="utf-8") as out:
        out.write(
            _readme(
                store_number=store_number,
                year=year,
                json_name=json_name,
                csv_name=csv_name,
                records=ordered,
                fingerprint=key.fingerprint,
            )
        )
    return paths


def _table(names: Sequence[str], texts: Sequence[str]) -> str:
    width = max(len(name) for name in names) + 2
    return "\n".join(
        f"  {name.ljust(width)}{text}" for name, text in zip(names, texts, strict=True)
    )


def _readme(
    *,
    store_number: int,
    year: int,
    json_name: str,
    csv_name: str,
    records: Sequence[JournalRecord],
    fingerprint: str,
) -> str:
    span = f"seq {records[0].seq} - {records[-1].seq}" if records else "-"
    names = (json_name, csv_name, MANIFEST, MANIFEST_SIGNATURE, PUBLIC_KEY)
    files_fr = _table(
        names,
        (
            "tous les enregistrements (JSON, UTF-8), dans l'ordre des numéros (seq)",
            'les mêmes, une ligne chacun (CSV, UTF-8) ; la colonne "canonical" donne les octets exacts hachés',
            "empreintes SHA-256 des deux fichiers ci-dessus",
            "signature Ed25519 du manifeste",
            "clé publique du magasin",
        ),
    )
    files_en = _table(
        names,
        (
            "every record (JSON, UTF-8), in seq order",
            'the same records, one row each (CSV, UTF-8); the "canonical" column holds the exact bytes that were hashed',
            "SHA-256 of the two files above",
            "Ed25519 signature of the manifest",
            "the store's public key",
        ),
    )
    return f"""\
ARCHIVE FISCALE ANNUELLE / YEARLY FISCAL ARCHIVE
Magasin / store {store_number:03d} - exercice / year {year} - {len(records)} enregistrements / records ({span})
Empreinte de la clé publique / public key fingerprint (SHA-256 of the raw Ed25519 key):
    {fingerprint}

=== Français ===

Ce dossier contient le journal fiscal de la caisse (tickets, retours et clôtures) pour
l'année {year} (CGI art. 286 I 3° bis). Il se lit et se contrôle sans le logiciel, avec des
outils standard :

{files_fr}

1. Intégrité des fichiers :
    sha256sum -c {MANIFEST}
2. Authenticité du manifeste (OpenSSL 3.0 ou plus récent) ; doit afficher
   "Signature Verified Successfully" :
    openssl pkeyutl -verify -pubin -inkey {PUBLIC_KEY} -rawin -in {MANIFEST} -sigfile {MANIFEST_SIGNATURE}
   Comparez l'empreinte de la clé ci-dessus avec celle déclarée par le magasin.
3. Chaînage : chaque enregistrement porte le hash du précédent (previous_hash) et son
   propre hash :
    hash = SHA-256( previous_hash (64 caractères hexadécimaux, ASCII)
                    suivi du JSON canonique de l'enregistrement (UTF-8) )
   Le JSON canonique est l'objet {{"fields", "kind", "label", "occurred_at",
   "previous_hash", "seq"}}, clés triées, sans espaces, caractères non ASCII non échappés,
   montants en centimes entiers (jamais de nombre à virgule). C'est exactement la colonne
   "canonical" du CSV. Le premier enregistrement d'une année suit le dernier hash de
   l'année précédente ("chain_starts_after" dans le JSON) ; le tout premier suit 64 zéros.
   Ce script (Python 3, bibliothèque standard seule ; enregistrez-le dans ce dossier sous
   chain_check.py puis lancez "python3 chain_check.py") recalcule toute la chaîne :
{SCRIPT_START}
{CHAIN_CHECK_SCRIPT}{SCRIPT_END}
4. Signature de chaque enregistrement : "signature" est la signature Ed25519, en base64,
   des 32 octets bruts du hash :
    printf '%s' "$HASH" | xxd -r -p > hash.bin
    printf '%s' "$SIGNATURE" | base64 -d > sig.bin
    openssl pkeyutl -verify -pubin -inkey {PUBLIC_KEY} -rawin -in hash.bin -sigfile sig.bin
   (sans xxd : python3 -c "import sys; sys.stdout.buffer.write(bytes.fromhex(sys.argv[1]))" "$HASH" > hash.bin)

=== English ===

This folder holds the till's fiscal journal (tickets, returns and closings) for {year}
(French CGI art. 286 I 3° bis). It can be read and checked without the software, with
standard tools only:

{files_en}

1. File integrity:
    sha256sum -c {MANIFEST}
2. Manifest authenticity (OpenSSL 3.0 or later); prints "Signature Verified Successfully":
    openssl pkeyutl -verify -pubin -inkey {PUBLIC_KEY} -rawin -in {MANIFEST} -sigfile {MANIFEST_SIGNATURE}
   Compare the key fingerprint above with the one the store declared.
3. Chain: each record carries the previous record's hash (previous_hash) and its own hash:
    hash = SHA-256( previous_hash (64 hex characters, ASCII)
                    followed by the record's canonical JSON (UTF-8) )
   The canonical JSON is the object {{"fields", "kind", "label", "occurred_at",
   "previous_hash", "seq"}} with sorted keys, no spaces, non-ASCII characters unescaped,
   amounts in integer cents (never a decimal number). It is exactly the CSV's "canonical"
   column. A year's first record follows the previous year's last hash
   ("chain_starts_after" in the JSON); the very first record follows 64 zeros.
   The script in the French section above (Python 3, standard library only; save it in
   this folder as chain_check.py and run "python3 chain_check.py") recomputes the whole
   chain.
4. Each record's signature: "signature" is the base64 Ed25519 signature of the hash's
   32 raw bytes; check it with the openssl commands of step 4 above.
"""


# --------------------------------------------------------------------------------------
# Checking an archive in Python
# --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ArchiveVerification:
    """An archive's check: a problem with its files, or the journal's own verification."""

    problem: str | None
    journal: Verification | None

    @property
    def ok(self) -> bool:
        return self.problem is None and self.journal is not None and self.journal.ok

    @property
    def message(self) -> str:
        if self.problem is not None:
            return f"archive fails: {self.problem}"
        assert self.journal is not None
        return self.journal.message


_MANIFEST_LINE = re.compile(r"([0-9a-f]{64}) [ *]([^/\\]+)")


def _problem(text: str) -> ArchiveVerification:
    return ArchiveVerification(problem=text, journal=None)


def _record_from(document: dict[str, Any]) -> JournalRecord:
    return JournalRecord(
        seq=document["seq"],
        kind=document["kind"],
        label=document["label"],
        occurred_at=datetime.fromisoformat(document["occurred_at"]),
        fields=document["fields"],
        previous_hash=document["previous_hash"],
        hash=document["hash"],
        signature=document["signature"],
    )


def verify_archive(
    directory: Path,
    *,
    public_key: Ed25519PublicKey | bytes | None = None,
    after_hash: str | None = None,
) -> ArchiveVerification:
    """Check an archive as an auditor would: manifest signature, file hashes, then the chain.

    `public_key` is the key the store is known to use; without it the archive's own key is
    trusted, which only proves the archive is consistent with itself. `after_hash` is the
    last hash of the previous year's archive, to check that this one continues it.
    """
    pem_path = directory / PUBLIC_KEY
    manifest_path = directory / MANIFEST
    signature_path = directory / MANIFEST_SIGNATURE
    for path in (pem_path, manifest_path, signature_path):
        if not path.is_file():
            return _problem(f"{path.name} is missing")
    try:
        archive_key = load_public_key(pem_path.read_bytes())
    except (ValueError, TypeError) as exc:
        return _problem(f"{PUBLIC_KEY} is not an Ed25519 public key: {exc}")
    if public_key is not None and public_key_fingerprint(
        load_public_key(public_key)
    ) != public_key_fingerprint(archive_key):
        return _problem(f"{PUBLIC_KEY} is not the store's fiscal key")

    manifest = manifest_path.read_bytes()
    try:
        archive_key.verify(signature_path.read_bytes(), manifest)
    except InvalidSignature:
        return _problem(f"{MANIFEST_SIGNATURE} is not a valid signature of {MANIFEST}")

    listed: dict[str, str] = {}
    for line in manifest.decode("ascii", errors="replace").splitlines():
        match = _MANIFEST_LINE.fullmatch(line)
        if match is None:
            return _problem(f"{MANIFEST} has an unreadable line: {line!r}")
        listed[match.group(2)] = match.group(1)
    for name, digest in listed.items():
        path = directory / name
        if not path.is_file():
            return _problem(f"{name} is listed in {MANIFEST} but missing")
        if _sha256_file(path) != digest:
            return _problem(f"{name} does not match its SHA-256 in {MANIFEST}")
    json_names = [name for name in listed if name.startswith("journal-") and name.endswith(".json")]
    if len(json_names) != 1:
        return _problem(f"{MANIFEST} must list exactly one journal-*.json file")
    json_name = json_names[0]
    csv_name = json_name.removesuffix(".json") + ".csv"
    if csv_name not in listed:
        return _problem(f"{MANIFEST} does not list {csv_name}")

    try:
        document = json.loads((directory / json_name).read_text(encoding="utf-8"))
        if document.get("format") != FORMAT:
            return _problem(f"{json_name} is not a {FORMAT} file")
        if archive_names(document["store_number"], document["year"])[0] != json_name:
            return _problem(
                f"{json_name} does not hold store {document['store_number']} year {document['year']}"
            )
        records = [_record_from(item) for item in document["records"]]
    except (ValueError, KeyError, TypeError) as exc:
        return _problem(f"{json_name} cannot be read: {exc}")

    first_previous = records[0].previous_hash if records else ""
    if after_hash is not None and records and first_previous != after_hash:
        return _problem("its first record does not follow the previous archive's last hash")
    journal = verify(
        records,
        archive_key,
        after_seq=records[0].seq - 1 if records else 0,
        after_hash=first_previous,
    )
    if not journal.ok:
        return ArchiveVerification(problem=None, journal=journal)

    try:
        with (directory / csv_name).open(encoding="utf-8", newline="") as rows:
            table = list(csv.reader(rows))
    except (ValueError, csv.Error) as exc:
        return _problem(f"{csv_name} cannot be read: {exc}")
    if not table or tuple(table[0]) != CSV_COLUMNS:
        return _problem(f"{csv_name} does not have the expected columns")
    if len(table) - 1 != len(records):
        return _problem(f"{csv_name} and {json_name} hold different numbers of records")
    for row, record in zip(table[1:], records, strict=True):
        if row != _csv_row(record):
            return _problem(f"{csv_name} row for seq {record.seq} differs from {json_name}")
    return ArchiveVerification(problem=None, journal=journal)
