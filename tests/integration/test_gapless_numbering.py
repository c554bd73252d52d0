"""Police-register numbers, label sequences and outbox seqs have no gap, even when purchases
race each other and some die before their commit (business-rules A.3, architecture.md 4.1)."""

from __future__ import annotations

import threading

from helpers import seller as seller_body
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from recommerce.buyback.handlers import record_purchase
from recommerce.buyback.payment import Payment, PaymentMethod
from recommerce.buyback.purchase import PurchaseLine, RecordPurchase
from recommerce.catalog.model import Grade
from recommerce.money import Money
from recommerce.store.api.schemas import SellerIn
from recommerce.store.db import tables as t
from recommerce.store.db.uow import SqlUnitOfWork
from recommerce.store.seed import DEMO_STAFF


class KilledBeforeCommit(Exception):
    pass


class CrashingUnitOfWork(SqlUnitOfWork):
    """Writes everything, then dies instead of committing, as a killed process would."""

    def commit(self) -> None:
        raise KilledBeforeCommit


# Each purchase: (dies before commit?, number of objects, lot allowed?)
purchase_plan = st.tuples(st.booleans(), st.integers(1, 3), st.booleans())


@settings(
    max_examples=8,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(plans=st.lists(st.lists(purchase_plan, min_size=1, max_size=4), min_size=2, max_size=4))
def test_register_numbers_have_no_gap_under_concurrent_purchases(node, plans):
    with node.uow() as uow:
        staff_id = uow.conn.execute(
            select(t.staff.c.id).where(t.staff.c.username == DEMO_STAFF[2][0])
        ).scalar_one()
        article = uow.conn.execute(select(t.articles.c.id)).scalars().first()
    errors: list[BaseException] = []

    def buyer(thread: int, plan: list[tuple[bool, int, bool]]) -> None:
        for i, (dies, objects, lots) in enumerate(plan):
            body = seller_body()
            body["document"] = {**body["document"], "number": f"D{thread}X{i}X{id(plan)}"}
            seller = SellerIn.model_validate(body).to_domain()
            cmd = RecordPurchase(
                seller=seller,
                payment=Payment(PaymentMethod.CASH),
                lines=tuple(
                    PurchaseLine(
                        article_id=article, grade=Grade.B, agreed_price=Money(1000 * (k + 1))
                    )
                    for k in range(objects)
                ),
                staff_id=staff_id,
                group_lots=lots,
            )
            factory = (lambda: CrashingUnitOfWork(node.engine, node.vault)) if dies else node.uow
            try:
                record_purchase(
                    cmd,
                    factory,
                    argus=node.argus,
                    clock=node.clock,
                    keys=node.vault,
                    policy=node.policy,
                )
            except KilledBeforeCommit:
                pass
            except BaseException as exc:
                errors.append(exc)

    threads = [threading.Thread(target=buyer, args=(n, p)) for n, p in enumerate(plans)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors, errors

    with node.engine.connect() as conn:
        numbers = (
            conn.execute(
                select(t.police_register.c.number)
                .where(t.police_register.c.book == "general")
                .order_by(t.police_register.c.number)
            )
            .scalars()
            .all()
        )
        labels = (
            conn.execute(select(t.items.c.label_code).order_by(t.items.c.label_code))
            .scalars()
            .all()
        )
        seqs = conn.execute(select(t.outbox.c.seq).order_by(t.outbox.c.seq)).scalars().all()
        purchases = conn.execute(select(t.purchases.c.id)).scalars().all()
        items_entries = conn.execute(
            select(t.items.c.register_number, t.police_register.c.objects).join(
                t.police_register,
                (t.police_register.c.number == t.items.c.register_number)
                & (t.police_register.c.book == t.items.c.register_book),
            )
        ).all()
    assert numbers == list(range(1, len(numbers) + 1))
    assert [int(code[4:12]) for code in labels] == list(range(1, len(labels) + 1))
    assert seqs == list(range(1, len(purchases) + 1))  # one event per committed purchase
    assert len(items_entries) == len(labels)  # every item points at an existing entry
