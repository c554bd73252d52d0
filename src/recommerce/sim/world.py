"""The simulated chain's world, the same for the same seed: its catalogue, its stores, and the
people who sell to them and buy from them.

The catalogue and the stores are the synthetic history's (`recommerce.argus.history`): the
demo's categories, thousands of articles over them, and stores in 60 French cities with their
coordinates. People are made up with Faker's French locale; each one is drawn from its own
seed (the world's seed, its role and its index), so `seller(7)` is the same person whenever and
in whatever order it is asked for (with the same version of Faker).

`install` writes the world into central as head office would: the stores in the registry, then
the categories and articles through the catalogue service, which appends them to every store's
feed in the same transaction.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass, field
from datetime import date, timedelta
from random import Random

from faker import Faker
from faker.providers.address.fr_FR import Provider as FrenchAddresses
from sqlalchemy import Connection, insert, select

from recommerce.argus.history import SyntheticStore, synthetic_catalogue, synthetic_stores
from recommerce.buyback.seller import DocumentType, IdentityDocument, SellerIdentity
from recommerce.catalog.model import Article, Category
from recommerce.catalog.seed_data import demo_categories
from recommerce.central.bootstrap import CentralNode
from recommerce.central.db import catalog_tables as c
from recommerce.central.db import tables as t
from recommerce.central.services.catalog import (
    ArticleInput,
    CategoryInput,
    put_category,
    validated_article,
)
from recommerce.central.services.feed import FeedEvent, append_events
from recommerce.central.services.stores import register_store
from recommerce.db.catalog_rows import article_row
from recommerce.errors import Conflict
from recommerce.sync.feed_events import ARTICLE_UPSERTED, article_upserted

DEFAULT_STORES = 60
DEFAULT_ARTICLES = 5000
TIMEZONE = "Europe/Paris"  # every store's business day, Corsica's included

# Every seller is of age, and every identity document valid, on any day of this span: sellers
# were born by the end of 2000, and documents issued from 2021 to 2025 are valid ten years at
# least.
PEOPLE_VALID_FROM = date(2026, 1, 1)
PEOPLE_VALID_UNTIL = date(2030, 12, 31)
_BORN_FROM, _BORN_UNTIL = date(1940, 1, 1), date(2000, 12, 31)
_ISSUED_FROM, _ISSUED_UNTIL = date(2021, 1, 1), date(2025, 12, 31)

# How often each document is shown at the counter, and how long each stays valid (years).
_DOCUMENTS: tuple[tuple[DocumentType, float, int], ...] = (
    (DocumentType.NATIONAL_ID, 0.70, 10),
    (DocumentType.PASSPORT, 0.15, 10),
    (DocumentType.DRIVING_LICENCE, 0.10, 15),
    (DocumentType.RESIDENCE_PERMIT, 0.05, 10),
)
_NEW_ID_CARD_SINCE = date(2021, 8, 2)  # the card-sized identity card, with its 9-character number
_ALPHANUMERIC = "ABCDEFGHJKLMNPRSTUVWXYZ0123456789"
_LETTERS = "ABCDEFGHJKLMNPRSTUVWXYZ"
SECOND_FIRST_NAME_SHARE = 0.2
# (code, name); overseas departments, with their three-digit codes, are left out.
_METROPOLITAN_DEPARTMENTS: tuple[tuple[str, str], ...] = tuple(
    (code, name) for code, name in FrenchAddresses.departments if len(code) == 2
)


@dataclass(frozen=True, slots=True)
class PostalAddress:
    line1: str  # number and street
    postcode: str  # five digits
    city: str

    @property
    def one_line(self) -> str:
        """As the police register writes it: "3 quai Saint-Antoine, 69002 Lyon"."""
        return f"{self.line1}, {self.postcode} {self.city}"


@dataclass(frozen=True, slots=True)
class Customer:
    """Someone who buys from the chain, in a store or online."""

    first_name: str
    surname: str
    email: str  # unique to the customer, at a domain reserved for examples (no mail is sent)
    phone: str
    address: PostalAddress

    @property
    def name(self) -> str:
        return f"{self.first_name} {self.surname}"


@dataclass(frozen=True)
class World:
    """The chain as the simulator plays it; build it with `World.generate`."""

    seed: int
    categories: tuple[Category, ...]
    articles: tuple[Article, ...]
    stores: tuple[SyntheticStore, ...]
    # Reseeded for each person asked for: a world is used by one thread at a time.
    _faker: Faker = field(init=False, repr=False, compare=False, hash=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_faker", Faker("fr_FR"))

    @classmethod
    def generate(
        cls, seed: int, stores: int = DEFAULT_STORES, articles: int = DEFAULT_ARTICLES
    ) -> World:
        """The demo's categories, `articles` articles (the demo's first) and stores 1..`stores`."""
        return cls(
            seed=seed,
            categories=tuple(demo_categories()),
            articles=tuple(synthetic_catalogue(seed, articles)),
            stores=tuple(synthetic_stores(stores)),
        )

    def store(self, number: int) -> SyntheticStore:
        for store in self.stores:
            if store.number == number:
                return store
        raise KeyError(f"the world has no store {number}")

    def _person(self, role: str, index: int) -> tuple[Faker, Random]:
        if index < 0:
            raise ValueError("people are numbered from 0")
        fake = self._faker
        fake.seed_instance(f"recommerce-world-{self.seed}-{role}-{index}")
        return fake, fake.random

    def seller(self, index: int) -> SellerIdentity:
        """Seller number `index`: an adult living in France, with a valid identity document
        (see PEOPLE_VALID_FROM and PEOPLE_VALID_UNTIL)."""
        fake, rng = self._person("seller", index)
        female = rng.random() < 0.5
        first_names = _first_name(fake, female)
        if rng.random() < SECOND_FIRST_NAME_SHARE:
            second = _first_name(fake, female)
            if second != first_names:
                first_names += " " + second
        surname = fake.last_name()
        birth_date = _day_between(rng, _BORN_FROM, _BORN_UNTIL)
        department, address = _address(fake, rng)
        return SellerIdentity(
            surname=surname,
            first_names=first_names,
            birth_date=birth_date,
            address=address.one_line,
            document=_document(rng, department),
        )

    def customer(self, index: int) -> Customer:
        """Customer number `index`: a name, a unique e-mail address, a phone and an address."""
        fake, rng = self._person("customer", index)
        female = rng.random() < 0.5
        first_name = _first_name(fake, female)
        surname = fake.last_name()
        _department, address = _address(fake, rng)
        local = f"{_ascii(first_name)}.{_ascii(surname)}{index}"
        return Customer(
            first_name=first_name,
            surname=surname,
            email=f"{local}@{fake.safe_domain_name()}",
            phone=fake.phone_number(),
            address=address,
        )


def _first_name(fake: Faker, female: bool) -> str:
    return str(fake.first_name_female() if female else fake.first_name_male())


def _day_between(rng: Random, first: date, last: date) -> date:
    return first + timedelta(days=rng.randrange((last - first).days + 1))


def _ascii(name: str) -> str:
    """A name as an e-mail address writes it: "Léa-Marie" -> "lea-marie"."""
    folded = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode().lower()
    return "".join(ch for ch in folded if ch.isalnum() or ch == "-")


def _address(fake: Faker, rng: Random) -> tuple[tuple[str, str], PostalAddress]:
    """A street address in a department of metropolitan France, and that department."""
    code, name = rng.choice(_METROPOLITAN_DEPARTMENTS)
    prefix = "20" if code in ("2A", "2B") else code  # Corsica's postcodes start with 20
    postcode = f"{prefix}{rng.randrange(0, 100) * 10:03d}"
    return (code, name), PostalAddress(str(fake.street_address()), postcode, str(fake.city()))


def _document(rng: Random, department: tuple[str, str]) -> IdentityDocument:
    kinds = [kind for kind, _share, _years in _DOCUMENTS]
    kind = rng.choices(kinds, weights=[share for _kind, share, _years in _DOCUMENTS])[0]
    years = next(y for k, _share, y in _DOCUMENTS if k is kind)
    issued = _day_between(rng, _ISSUED_FROM, _ISSUED_UNTIL)
    code, name = department
    digits = code if code.isdigit() else "20"
    if kind is DocumentType.NATIONAL_ID and issued >= _NEW_ID_CARD_SINCE:
        number = "".join(rng.choice(_ALPHANUMERIC) for _ in range(9))
    elif kind is DocumentType.PASSPORT:  # 2 digits, 2 letters, 5 digits
        number = (
            f"{issued:%y}{rng.choice(_LETTERS)}{rng.choice(_LETTERS)}{rng.randrange(10**5):05d}"
        )
    elif kind is DocumentType.RESIDENCE_PERMIT:
        number = f"{rng.randrange(10**10):010d}"
    else:  # the older identity card and the driving licence: year, month, department, serial
        number = f"{issued:%y%m}{digits}{rng.randrange(10**6):06d}"
    return IdentityDocument(
        type=kind,
        number=number,
        issued_on=issued,
        issuing_authority=f"Préfecture de {name}",
        expires_on=_years_after(issued, years) - timedelta(days=1),
    )


def _years_after(day: date, years: int) -> date:
    try:
        return day.replace(year=day.year + years)
    except ValueError:  # 29 February, in a year that has none
        return date(day.year + years, 2, 28)


# --- into central -------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Installed:
    """What `install` added to central (what was there already is left as it is)."""

    stores: int
    categories: int
    articles: int


def install(node: CentralNode, world: World) -> Installed:
    """Register the world's stores (with their coordinates) and write its catalogue into
    central, in one transaction; a store or article central already has is kept as it is.

    Stores are registered first, so that the feed carries the catalogue to each of them. A new
    article whose GTIN another article of central already has is refused (Conflict)."""
    now = node.clock.now()
    retention = node.settings.feed_retention_events
    with node.writing() as conn:
        known = set(conn.execute(select(t.stores.c.number)).scalars())
        added_stores = [s for s in world.stores if s.number not in known]
        for store in added_stores:
            register_store(
                conn,
                number=store.number,
                name=store.name,
                city=store.city,
                timezone=TIMEZONE,
                at=now,
                location=(store.latitude, store.longitude),
            )
        added_categories = 0
        for category in world.categories:
            _category, created = put_category(
                conn,
                CategoryInput(
                    code=category.code,
                    name=category.name,
                    precious_metal=category.precious_metal,
                    grades={g.value: text for g, text in category.grade_definitions.items()},
                ),
                now=now,
                retention=retention,
            )
            added_categories += created
        added = _new_articles(conn, world.articles)
        if added:
            conn.execute(insert(c.articles), [{**article_row(a), "updated_at": now} for a in added])
            append_events(
                conn,
                [FeedEvent(ARTICLE_UPSERTED, article_upserted(a)) for a in added],
                now=now,
                retention=retention,
            )
    return Installed(stores=len(added_stores), categories=added_categories, articles=len(added))


def _new_articles(conn: Connection, articles: tuple[Article, ...]) -> list[Article]:
    """The articles central lacks, as the catalogue service validates them."""
    ids = set(conn.execute(select(c.articles.c.id)).scalars())
    gtins = {
        row.gtin: row.id
        for row in conn.execute(
            select(c.articles.c.gtin, c.articles.c.id).where(c.articles.c.gtin.is_not(None))
        )
    }
    codes = set(conn.execute(select(c.categories.c.code)).scalars())
    added = []
    for article in articles:
        if article.id in ids:
            continue
        checked = validated_article(
            ArticleInput(
                category_code=article.category_code,
                brand=article.brand,
                model=article.model,
                reference_new_price_cents=article.reference_new_price.cents,
                name=article.name,
                gtin=article.gtin,
                released_on=article.released_on,
                attributes=article.attributes,
            ),
            article_id=article.id,
            categories=codes,
        )
        if checked.gtin is not None and checked.gtin in gtins:
            raise Conflict(
                f"GTIN {checked.gtin} of {checked.name} is already article {gtins[checked.gtin]}'s",
                field="gtin",
            )
        added.append(checked)
    return added
