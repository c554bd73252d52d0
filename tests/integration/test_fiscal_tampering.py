"""Tampering with the till's records, and how it comes to light (business-rules D.16, D.17,
D.20; CGI art. 286 I 3° bis).

A few sales are made through the API on two tills. Then:

- the database itself refuses to change or delete a ticket, its lines, its payments or a
  journal record (and to empty those tables on PostgreSQL);
- someone who can write to the database drops those guards and rewrites history: whatever
  they change, delete or rebuild, `verify_store_journal` and `recommerce fiscal verify` name
  the record that gives them away.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import pytest
from helpers import purchase_body
from sqlalchemy import Connection, delete, insert, select, text, update
from sqlalchemy.exc import DBAPIError
from typer.testing import CliRunner

from recommerce.cli import app
from recommerce.fiscal.journal import Failure, FiscalKey, canonical_bytes, chain_hash, verify
from recommerce.store.bootstrap import StoreNode
from recommerce.store.db import tables as t
from recommerce.store.db.till import SqlTickets, record_from_row
from recommerce.store.services.fiscal import verify_store_journal

APPEND_ONLY = ("tickets", "ticket_lines", "ticket_tenders", "fiscal_journal")


@dataclass(frozen=True)
class Sale:
    number: str  # "042-T2-000001"
    ticket_id: str
    seq: int  # its record in the fiscal journal

    @property
    def label(self) -> str:
        return f"ticket {self.number}"


# --------------------------------------------------------------------------------------
# A morning at the till: four tickets on two tills, cash, card and both
# --------------------------------------------------------------------------------------


def cash(cents: int) -> dict[str, Any]:
    return {"kind": "cash", "amount_cents": cents}


def card(cents: int) -> dict[str, Any]:
    return {"kind": "card", "amount_cents": cents}


@pytest.fixture
def sales(client, login, clock, node) -> dict[str, Sale]:
    """Four validated tickets, a minute apart, by display number. The manager buys the
    items and sells them (one login: hashing passwords is what costs here)."""
    manager = login("gerant")
    found = client.get("/api/v1/articles", params={"q": "iphone 12"}, headers=manager).json()
    asking = [16_000, 25_000, 4_500, 9_000, 3_000]
    bought = client.post(
        "/api/v1/purchases",
        json=purchase_body(
            [
                {
                    "article_id": found[0]["id"],
                    "grade": "B",
                    "agreed_price_cents": price // 2,
                    # above the argus' offer of 104.00 EUR for one of them: within a manager's
                    # bound, with a reason
                    "override_reason": "complet, avec facture",
                    "asking_price_cents": price,
                    "vat_regime": "margin",
                }
                for price in asking
            ],
            payment={
                "method": "bank_transfer",
                "account_holder": "Sophie Martin",
                "iban": "FR1420041010050500013M02606",
            },
        ),
        headers=manager,
    )
    assert bought.status_code == 201, bought.text
    labels = [item["label_code"] for item in bought.json()["items"]]
    baskets = [
        ("T1", [labels[0]], [cash(16_000)]),  # 042-T1-000001
        ("T2", [labels[1], labels[2]], [cash(10_000), card(19_500)]),  # 042-T2-000001
        ("T1", [labels[3]], [card(9_000)]),  # 042-T1-000002
        ("T2", [labels[4]], [cash(5_000)]),  # 042-T2-000002, 20.00 given back
    ]
    for till, basket, tenders in baskets:
        clock.advance(timedelta(minutes=1))
        response = client.post(
            "/api/v1/sales",
            json={"till": till, "lines": [{"label_code": x} for x in basket], "tenders": tenders},
            headers=manager,
        )
        assert response.status_code == 201, response.text
    with node.engine.connect() as conn:
        ids = dict(conn.execute(select(t.tickets.c.display_number, t.tickets.c.id)).all())
        seqs = dict(conn.execute(select(t.fiscal_journal.c.label, t.fiscal_journal.c.seq)).all())
    made = {
        number: Sale(number, ticket_id, seqs[f"ticket {number}"])
        for number, ticket_id in ids.items()
    }
    assert sorted(made) == ["042-T1-000001", "042-T1-000002", "042-T2-000001", "042-T2-000002"]
    assert verify_store_journal(node).message == "journal verified: 4 records"
    return made


@pytest.fixture
def mixed(sales) -> Sale:
    """A past ticket in the middle of the journal: two items, paid in cash and by card."""
    return sales["042-T2-000001"]


# --------------------------------------------------------------------------------------
# The tamperer's tools
# --------------------------------------------------------------------------------------


def drop_guards(node: StoreNode, *tables: str) -> None:
    """What someone with the database's credentials can do: remove the append-only guards.

    SQLite: DROP TRIGGER. PostgreSQL: DROP TRIGGER on the journal, ALTER TABLE ... DISABLE
    TRIGGER ALL on the ticket tables (both ways are open to the owner of the tables)."""
    with node.engine.begin() as conn:
        for table in tables:
            if conn.dialect.name == "postgresql":
                if table == "fiscal_journal":
                    conn.execute(text(f"DROP TRIGGER {table}_append_only ON {table}"))
                    conn.execute(text(f"DROP TRIGGER {table}_no_truncate ON {table}"))
                else:
                    conn.execute(text(f"ALTER TABLE {table} DISABLE TRIGGER ALL"))
            else:
                conn.execute(text(f"DROP TRIGGER {table}_no_update"))
                conn.execute(text(f"DROP TRIGGER {table}_no_delete"))


def journal_row(conn: Connection, seq: int) -> Any:
    return conn.execute(select(t.fiscal_journal).where(t.fiscal_journal.c.seq == seq)).one()


def rewrite_record(node: StoreNode, seq: int, **values: Any) -> None:
    with node.engine.begin() as conn:
        done = conn.execute(
            update(t.fiscal_journal).where(t.fiscal_journal.c.seq == seq).values(**values)
        ).rowcount
        assert done == 1


def delete_ticket(conn: Connection, ticket_id: str) -> list[int]:
    """Delete a ticket's lines, payments and row; the rows deleted from each."""
    deleted = [
        conn.execute(delete(table).where(table.c.ticket_id == ticket_id)).rowcount
        for table in (t.ticket_lines, t.ticket_tenders)
    ]
    deleted.append(conn.execute(delete(t.tickets).where(t.tickets.c.id == ticket_id)).rowcount)
    return deleted


def failure_of(node: StoreNode) -> Failure:
    result = verify_store_journal(node)
    assert not result.ok, "the tampering went unnoticed"
    assert result.failure is not None
    return result.failure


# --------------------------------------------------------------------------------------
# The database refuses
# --------------------------------------------------------------------------------------

CHANGES = {
    "tickets": "UPDATE tickets SET total_cents = 100 WHERE id = :ticket_id",
    "ticket_lines": "UPDATE ticket_lines SET price_cents = 100 WHERE ticket_id = :ticket_id",
    "ticket_tenders": "UPDATE ticket_tenders SET kind = 'cash' WHERE ticket_id = :ticket_id",
    "fiscal_journal": "UPDATE fiscal_journal SET label = 'ticket 042-T2-000009' WHERE seq = :seq",
}
DELETIONS = {
    "tickets": "DELETE FROM tickets WHERE id = :ticket_id",
    "ticket_lines": "DELETE FROM ticket_lines WHERE ticket_id = :ticket_id",
    "ticket_tenders": "DELETE FROM ticket_tenders WHERE ticket_id = :ticket_id",
    "fiscal_journal": "DELETE FROM fiscal_journal WHERE seq = :seq",
}


def refused(node: StoreNode, statement: str, **params: Any) -> str:
    with pytest.raises(DBAPIError) as caught, node.engine.begin() as conn:
        conn.execute(text(statement), params)
    return str(caught.value)


def test_the_database_refuses_to_change_or_delete_validated_tickets_and_journal_records(
    node, mixed
):
    params = {"ticket_id": mixed.ticket_id, "seq": mixed.seq}
    for table in APPEND_ONLY:
        with node.engine.connect() as conn:
            before = conn.execute(text(f"SELECT * FROM {table} ORDER BY 1, 2")).all()

        assert "append-only" in refused(node, CHANGES[table], **params), table
        assert "append-only" in refused(node, DELETIONS[table], **params), table
        assert "append-only" in refused(node, f"DELETE FROM {table}"), table
        if node.engine.dialect.name == "postgresql":
            assert "append-only" in refused(node, f"TRUNCATE {table} CASCADE"), table

        with node.engine.connect() as conn:
            assert conn.execute(text(f"SELECT * FROM {table} ORDER BY 1, 2")).all() == before
    assert verify_store_journal(node).ok


# --------------------------------------------------------------------------------------
# (a) A past ticket's journal record is changed
# --------------------------------------------------------------------------------------


def _fields(row: Any, change: Callable[[dict[str, Any]], None]) -> dict[str, Any]:
    fields = dict(row.fields)
    change(fields)
    return {"fields": fields}


def _lower_total(fields: dict[str, Any]) -> None:
    fields["total_cents"] -= 10_000


def _lower_line_price(fields: dict[str, Any]) -> None:
    fields["lines"] = [dict(line) for line in fields["lines"]]
    fields["lines"][0]["price_cents"] -= 10_000


def _card_becomes_cash(fields: dict[str, Any]) -> None:
    fields["tenders"] = [{**tender, "kind": "cash"} for tender in fields["tenders"]]


def _other_cashier(fields: dict[str, Any]) -> None:
    fields["staff_id"] = "00000000-0000-0000-0000-000000000000"


CHANGED = "hash does not match its contents: a field was changed"

# what is changed -> (the row's new values, the reason given, the label the failure carries)
RECORD_CHANGES: dict[str, tuple[Callable[[Any], dict[str, Any]], str, str | None]] = {
    "total": (lambda row: _fields(row, _lower_total), CHANGED, None),
    "line price": (lambda row: _fields(row, _lower_line_price), CHANGED, None),
    "tender kind": (lambda row: _fields(row, _card_becomes_cash), CHANGED, None),
    "cashier": (lambda row: _fields(row, _other_cashier), CHANGED, None),
    "time": (lambda row: {"occurred_at": row.occurred_at - timedelta(days=1)}, CHANGED, None),
    # a relabelled record is named by its seq and the label it now carries
    "label": (lambda row: {"label": "ticket 042-T2-000009"}, CHANGED, "ticket 042-T2-000009"),
    "hash": (lambda row: {"hash": "e" * 64}, "hash does not match its contents", None),
    "signature": (
        lambda row: {"signature": "A" * 86 + "=="},  # 64 bytes, but not the store's
        "signature is not valid for its hash",
        None,
    ),
}


@pytest.mark.parametrize("what", list(RECORD_CHANGES))
def test_changing_a_past_ticket_record_in_the_journal_is_reported_naming_the_ticket(
    node, mixed, what
):
    change, reason, label = RECORD_CHANGES[what]
    drop_guards(node, "fiscal_journal")
    with node.engine.connect() as conn:
        row = journal_row(conn, mixed.seq)
    rewrite_record(node, mixed.seq, **change(row))

    result = verify_store_journal(node)
    assert result.checked == mixed.seq - 1  # every record before it still verifies
    assert result.failure is not None
    assert (result.failure.seq, result.failure.label) == (mixed.seq, label or mixed.label)
    assert reason in result.failure.reason


# --------------------------------------------------------------------------------------
# (b) The ticket tables are changed behind the journal's back
# --------------------------------------------------------------------------------------


def test_lowering_a_line_price_in_the_ticket_tables_is_reported_naming_the_ticket(node, mixed):
    drop_guards(node, "ticket_lines")
    with node.engine.begin() as conn:
        done = conn.execute(
            update(t.ticket_lines)
            .where(t.ticket_lines.c.ticket_id == mixed.ticket_id, t.ticket_lines.c.line_no == 1)
            .values(price_cents=t.ticket_lines.c.price_cents - 10_000)
        ).rowcount
        assert done == 1

    failure = failure_of(node)
    assert (failure.seq, failure.label) == (mixed.seq, mixed.label)
    assert "the stored ticket differs from its signed record" in failure.reason
    assert "lines" in failure.reason


def test_changing_a_payment_amount_in_the_ticket_tables_is_reported_naming_the_ticket(node, mixed):
    drop_guards(node, "ticket_tenders")
    with node.engine.begin() as conn:
        done = conn.execute(
            update(t.ticket_tenders)
            .where(
                t.ticket_tenders.c.ticket_id == mixed.ticket_id, t.ticket_tenders.c.kind == "cash"
            )
            .values(amount_cents=t.ticket_tenders.c.amount_cents - 5_000)
        ).rowcount
        assert done == 1

    failure = failure_of(node)
    assert (failure.seq, failure.label) == (mixed.seq, mixed.label)
    assert "the stored ticket differs from its signed record in: tenders" in failure.reason


# The ticket row's own columns: what a receipt reprint and the reports read back.
TICKET_ROW_COLUMNS: dict[str, Callable[[Any], Any]] = {
    "occurred_at": lambda row: row.occurred_at - timedelta(days=1),
    "total_cents": lambda row: row.total_cents - 10_000,
    "display_number": lambda row: "042-T2-000009",
}


@pytest.mark.parametrize("column", list(TICKET_ROW_COLUMNS))
def test_changing_a_ticket_rows_own_time_total_or_number_is_reported_naming_the_ticket(
    node, mixed, column
):
    drop_guards(node, "tickets")
    with node.engine.begin() as conn:
        row = conn.execute(select(t.tickets).where(t.tickets.c.id == mixed.ticket_id)).one()
        value = TICKET_ROW_COLUMNS[column](row)
        done = conn.execute(
            update(t.tickets).where(t.tickets.c.id == mixed.ticket_id).values({column: value})
        ).rowcount
        assert done == 1

    failure = failure_of(node)
    assert (failure.seq, failure.label) == (mixed.seq, mixed.label)


# --------------------------------------------------------------------------------------
# (c), (d) Journal records are deleted
# --------------------------------------------------------------------------------------


def test_deleting_a_journal_record_in_the_middle_is_reported_at_the_next_record(node, sales):
    deleted, after = sales["042-T2-000001"], sales["042-T1-000002"]
    assert after.seq == deleted.seq + 1
    drop_guards(node, "fiscal_journal")
    with node.engine.begin() as conn:
        conn.execute(delete(t.fiscal_journal).where(t.fiscal_journal.c.seq == deleted.seq))

    failure = failure_of(node)
    assert (failure.seq, failure.label) == (after.seq, after.label)
    assert f"seq {deleted.seq} expected: a record is missing" in failure.reason


def test_deleting_the_last_journal_record_is_reported_by_the_record_counter(node, sales):
    last = sales["042-T2-000002"]
    assert last.seq == 4
    drop_guards(node, "fiscal_journal")
    with node.engine.begin() as conn:
        conn.execute(delete(t.fiscal_journal).where(t.fiscal_journal.c.seq == last.seq))

    result = verify_store_journal(node)
    assert not result.ok
    assert result.checked == 3
    assert result.failure is not None
    assert result.failure.seq == last.seq
    assert "the journal ends at 3 but 4 records were written" in result.failure.reason


# --------------------------------------------------------------------------------------
# (e) The chain is rebuilt without the store's key
# --------------------------------------------------------------------------------------


def rechain(conn: Connection, from_seq: int, key: FiscalKey) -> None:
    """Recompute every hash from `from_seq` on, and sign them with `key`."""
    previous = journal_row(conn, from_seq - 1).hash if from_seq > 1 else "0" * 64
    rows = conn.execute(
        select(t.fiscal_journal)
        .where(t.fiscal_journal.c.seq >= from_seq)
        .order_by(t.fiscal_journal.c.seq)
    ).all()
    for row in rows:
        canonical = canonical_bytes(
            seq=row.seq,
            kind=row.kind,
            label=row.label,
            occurred_at=row.occurred_at,
            fields=row.fields,
            previous_hash=previous,
        )
        digest = chain_hash(previous, canonical)
        conn.execute(
            update(t.fiscal_journal)
            .where(t.fiscal_journal.c.seq == row.seq)
            .values(previous_hash=previous, hash=digest, signature=key.sign(bytes.fromhex(digest)))
        )
        previous = digest


def test_skimming_a_cash_sale_and_rebuilding_the_chain_without_the_key_is_reported(
    node, sales, tmp_path
):
    """The perfect forgery but for the key: the ticket tables and the journal agree, every
    hash is right, and only the signatures give it away."""
    skimmed = sales["042-T1-000001"]  # one item, 160.00 in cash: now 110.00
    drop_guards(node, *APPEND_ONLY)
    forger = FiscalKey.generate(tmp_path / "forger.pem")
    with node.engine.begin() as conn:
        conn.execute(
            update(t.ticket_lines)
            .where(t.ticket_lines.c.ticket_id == skimmed.ticket_id)
            .values(
                unit_price_cents=11_000,
                price_cents=11_000,
                vat_cents=t.ticket_lines.c.vat_cents - 833,
            )
        )
        conn.execute(
            update(t.ticket_tenders)
            .where(t.ticket_tenders.c.ticket_id == skimmed.ticket_id)
            .values(amount_cents=11_000)
        )
        conn.execute(
            update(t.tickets).where(t.tickets.c.id == skimmed.ticket_id).values(total_cents=11_000)
        )
        ticket = SqlTickets(conn).get_by_id(skimmed.ticket_id)
        assert ticket is not None and ticket.total.cents == 11_000
        conn.execute(
            update(t.fiscal_journal)
            .where(t.fiscal_journal.c.seq == skimmed.seq)
            .values(fields=ticket.journal_fields())
        )
        rechain(conn, skimmed.seq, forger)

    with node.engine.connect() as conn:
        records = [
            record_from_row(row._mapping)
            for row in conn.execute(select(t.fiscal_journal).order_by(t.fiscal_journal.c.seq))
        ]
    # Under the forger's own key the rebuilt chain is flawless...
    assert verify(records, forger.public_key).ok
    # ...but the store's key says otherwise, from the first rewritten record on.
    failure = failure_of(node)
    assert (failure.seq, failure.label) == (skimmed.seq, skimmed.label)
    assert "signature is not valid" in failure.reason


def test_deleting_a_record_and_rebuilding_the_chain_without_the_key_is_reported(
    node, sales, tmp_path
):
    """A whole ticket is made to vanish: its rows, its record, the seqs after it renumbered
    and the counter lowered; the new chain is signed with another key."""
    gone = sales["042-T2-000001"]
    drop_guards(node, *APPEND_ONLY)
    forger = FiscalKey.generate(tmp_path / "forger.pem")
    with node.engine.begin() as conn:
        delete_ticket(conn, gone.ticket_id)
        conn.execute(delete(t.fiscal_journal).where(t.fiscal_journal.c.seq == gone.seq))
        for seq in range(gone.seq + 1, 5):
            conn.execute(
                update(t.fiscal_journal).where(t.fiscal_journal.c.seq == seq).values(seq=seq - 1)
            )
        conn.execute(update(t.counters).where(t.counters.c.name == "journal").values(value=3))
        rechain(conn, gone.seq, forger)

    failure = failure_of(node)
    now_at_its_place = sales["042-T1-000002"]
    assert (failure.seq, failure.label) == (gone.seq, now_at_its_place.label)
    assert "signature is not valid" in failure.reason


# --------------------------------------------------------------------------------------
# (f) Tickets vanish from, or appear in, the ticket tables
# --------------------------------------------------------------------------------------


def test_deleting_a_ticket_with_its_lines_and_payments_is_reported_naming_its_record(node, sales):
    gone = sales["042-T1-000002"]
    drop_guards(node, "tickets", "ticket_lines", "ticket_tenders")
    with node.engine.begin() as conn:
        assert delete_ticket(conn, gone.ticket_id) == [1, 1, 1]  # its line, payment, row

    failure = failure_of(node)
    assert failure.seq == gone.seq
    assert "its ticket was deleted from the ticket tables" in failure.reason


def test_a_refund_slipped_into_the_ticket_tables_without_a_journal_record_is_reported(
    node, sales, clock
):
    """No guard to drop: the tables take new rows. A fake counter-ticket, to take cash out
    of the drawer, has no signed record."""
    sale = sales["042-T1-000001"]
    with node.engine.begin() as conn:
        original = conn.execute(select(t.tickets).where(t.tickets.c.id == sale.ticket_id)).one()
        line = conn.execute(
            select(t.ticket_lines).where(t.ticket_lines.c.ticket_id == sale.ticket_id)
        ).one()
        conn.execute(
            insert(t.tickets).values(
                id="fake-refund",
                store_number=42,
                till="T1",
                number=3,
                display_number="042-T1-000003",
                kind="return",
                occurred_at=clock.now() + timedelta(minutes=5),
                staff_id=original.staff_id,
                total_cents=-16_000,
                change_cents=0,
                refers_to=sale.ticket_id,
            )
        )
        conn.execute(
            insert(t.ticket_lines).values(
                {
                    **line._mapping,
                    "ticket_id": "fake-refund",
                    "unit_price_cents": -line.unit_price_cents,
                    "price_cents": -line.price_cents,
                    "vat_cents": -line.vat_cents,
                }
            )
        )
        conn.execute(
            insert(t.ticket_tenders).values(
                ticket_id="fake-refund", line_no=1, kind="cash", amount_cents=-16_000
            )
        )

    failure = failure_of(node)
    # named by its row id or the number it shows: there is no record to name
    assert "fake-refund" in failure.label or "042-T1-000003" in failure.label
    assert "the ticket has no journal record" in failure.reason


# --------------------------------------------------------------------------------------
# The command an auditor runs
# --------------------------------------------------------------------------------------


def fiscal_verify(node: StoreNode) -> tuple[int, str]:
    settings = node.settings
    assert settings.identity_key is not None
    env = {
        "RECOMMERCE_ENVIRONMENT": "test",
        "RECOMMERCE_DATABASE_URL": settings.effective_database_url,
        "RECOMMERCE_DATA_DIR": str(settings.data_dir),
        "RECOMMERCE_IDENTITY_KEY": settings.identity_key.get_secret_value(),
        "RECOMMERCE_FISCAL_KEY_PATH": str(settings.effective_fiscal_key_path),
        "RECOMMERCE_STORE_NUMBER": str(settings.store_number),
    }
    result = CliRunner().invoke(app, ["fiscal", "verify"], env=env)
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise result.exception
    return result.exit_code, " ".join(result.output.split())  # the console wraps long lines


def test_fiscal_verify_on_a_clean_journal_says_how_many_records_it_checked(node, sales):
    exit_code, output = fiscal_verify(node)
    assert exit_code == 0, output
    assert "journal verified: 4 records" in output


def test_fiscal_verify_after_tampering_exits_1_naming_the_ticket(node, mixed):
    drop_guards(node, "fiscal_journal")
    with node.engine.connect() as conn:
        row = journal_row(conn, mixed.seq)
    rewrite_record(node, mixed.seq, **_fields(row, _lower_total))

    exit_code, output = fiscal_verify(node)
    assert exit_code == 1, output
    assert "record seq 2 (ticket 042-T2-000001) fails" in output
    assert "a field was changed" in output
