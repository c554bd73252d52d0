"""The staff screens in French and English: one gettext catalogue, euro amounts as France writes them.

Message ids are English; `locale/fr/LC_MESSAGES/*.po` hold their French, one file per area of
the screens (`messages.po` for what they share, `till.po`, `backoffice.po`...). The catalogues
are read from their `.po` sources when first needed (no compiled file to forget), all the files
of a language merged. `recommerce i18n missing` lists the ids found in the templates and the
code that have no French; a test fails while there is one.

A page's language: `?lang=` (remembered in a cookie), else the cookie, else the browser's
Accept-Language, else French. Templates call `_()` / `ngettext()` through Jinja's i18n
extension, bound to the language of the page being rendered (a context variable, set by
`render`); amounts always read as in fr_FR (`12,50 €`), the chain's currency and country.
"""

from __future__ import annotations

import io
from collections.abc import Mapping
from contextvars import ContextVar
from datetime import UTC, date, datetime, tzinfo
from decimal import Decimal
from functools import cache
from pathlib import Path
from typing import Any

from babel import Locale, UnknownLocaleError
from babel.dates import format_date, format_datetime
from babel.messages.catalog import Catalog
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.numbers import format_currency, format_decimal
from babel.support import LazyProxy, NullTranslations, Translations
from fastapi.templating import Jinja2Templates
from jinja2 import Environment, FileSystemLoader
from starlette.requests import Request
from starlette.responses import Response

from recommerce.errors import DomainError, ErrorCode

LOCALES = ("fr", "en")
DEFAULT_LOCALE = "fr"
LANG_COOKIE = "lang"
MONEY_LOCALE = "fr_FR"  # the chain's amounts are euros, written as in France in both languages
CATALOGUE_DIR = Path(__file__).resolve().parents[1] / "locale"
STATIC_DIR = Path(__file__).parent / "static"  # htmx and the staff screens' stylesheet

_locale: ContextVar[str] = ContextVar("recommerce_locale", default=DEFAULT_LOCALE)
# The time zone moments are shown in: the store's own, head office's (Paris). The databases
# keep UTC; None shows a moment in the zone it carries.
_zone: ContextVar[tzinfo | None] = ContextVar("recommerce_zone", default=None)


@cache
def translations(locale: str) -> NullTranslations:
    """The catalogue of one language, compiled in memory from its `.po` files."""
    merged = catalogue(locale)
    if not len(merged):
        return NullTranslations()  # English: the ids are the text
    compiled = io.BytesIO()
    write_mo(compiled, merged)
    compiled.seek(0)
    return Translations(compiled)


def catalogue(locale: str) -> Catalog:
    """Every `.po` file of a language, merged (an id translated twice: the first file wins)."""
    merged = Catalog(locale=locale)
    for po in sorted((CATALOGUE_DIR / locale / "LC_MESSAGES").glob("*.po")):
        with po.open("rb") as source:
            for message in read_po(source, locale=locale):
                if message.id and message.id not in merged:
                    merged[message.id] = message
    return merged


def current_locale() -> str:
    return _locale.get()


def set_locale(locale: str) -> None:
    _locale.set(locale if locale in LOCALES else DEFAULT_LOCALE)


def gettext(message: str) -> str:
    return translations(current_locale()).gettext(message)


def ngettext(singular: str, plural: str, n: int) -> str:
    return translations(current_locale()).ngettext(singular, plural, n)


def lazy_gettext(message: str) -> LazyProxy:
    """A message translated when it is shown, in the language of the page showing it."""
    return LazyProxy(gettext, message, enable_cache=False)


_ = gettext


def locale_of(request: Request) -> str:
    """The language a page is shown in (see the module's docstring)."""
    asked = request.query_params.get("lang") or request.cookies.get(LANG_COOKIE)
    if asked in LOCALES:
        return asked
    header = request.headers.get("accept-language", "")
    preferred = [part.split(";")[0].strip().replace("-", "_") for part in header.split(",")]
    try:
        chosen = Locale.negotiate([p for p in preferred if p], list(LOCALES), sep="_")
    except (UnknownLocaleError, ValueError):
        chosen = None
    return chosen.language if chosen else DEFAULT_LOCALE


# --- formats -----------------------------------------------------------------------------------
def money(cents: int | None) -> str:
    """`12,50 €`: an amount in integer cents, as France writes euros."""
    if cents is None:
        return ""
    return str(format_currency(Decimal(cents).scaleb(-2), "EUR", locale=MONEY_LOCALE))


def euros_input(cents: int | None) -> str:
    """An amount as a staff member types it back in a form field: `12,50`."""
    if cents is None:
        return ""
    return str(format_decimal(Decimal(cents).scaleb(-2), format="0.00", locale=MONEY_LOCALE))


def parse_euros(text: str) -> int:
    """Cents from what staff type: `12`, `12,5`, `12.50`, `1 234,56 €`. ValueError otherwise."""
    cleaned = text.replace("€", "").replace("\u202f", "").replace("\xa0", "").replace(" ", "")
    cleaned = cleaned.replace(",", ".")
    if not cleaned or cleaned.count(".") > 1:
        raise ValueError(text)
    try:
        amount = Decimal(cleaned).scaleb(2)
    except ArithmeticError:
        raise ValueError(text) from None
    if not amount.is_finite() or amount != amount.to_integral_value():
        raise ValueError(text)
    return int(amount)


def day(value: date | None, style: str = "medium") -> str:
    if value is None:
        return ""
    return str(format_date(value, format=style, locale=current_locale()))


def moment(value: datetime | None, style: str = "short") -> str:
    """A moment in the page's language, at the reader's clock (the zone `render` was given)."""
    if value is None:
        return ""
    zone = _zone.get()
    if zone is not None:
        value = (value if value.tzinfo else value.replace(tzinfo=UTC)).astimezone(zone)
    return str(format_datetime(value, format=style, locale=current_locale()))


# --- errors ------------------------------------------------------------------------------------
# What a screen says for a refused operation, by its stable code; the English message of the
# error (with its details) is shown in English, and beneath the French text in French.
ERROR_TEXT: Mapping[ErrorCode, LazyProxy] = {
    ErrorCode.INVALID_INPUT: lazy_gettext("Please check what you entered."),
    ErrorCode.INVALID_GTIN: lazy_gettext("This barcode (GTIN) is not valid."),
    ErrorCode.INVALID_IMEI: lazy_gettext("This IMEI is not valid."),
    ErrorCode.INVALID_IBAN: lazy_gettext("This IBAN is not valid."),
    ErrorCode.INVALID_AMOUNT: lazy_gettext("This amount is not valid."),
    ErrorCode.NOT_FOUND: lazy_gettext("Not found."),
    ErrorCode.ARTICLE_NOT_FOUND: lazy_gettext("No such article in the catalogue."),
    ErrorCode.ITEM_NOT_FOUND: lazy_gettext("No item has this label in this store."),
    ErrorCode.SELLER_UNDER_18: lazy_gettext("We cannot buy from a seller under 18."),
    ErrorCode.IDENTITY_DOCUMENT_EXPIRED: lazy_gettext("The identity document has expired."),
    ErrorCode.IDENTITY_FIELD_MISSING: lazy_gettext("The seller's identity is incomplete."),
    ErrorCode.SERIAL_ON_WATCHLIST: lazy_gettext(
        "This serial number is on the watch list: do not buy, call the manager."
    ),
    ErrorCode.CASH_LIMIT_EXCEEDED: lazy_gettext("This amount cannot be paid in cash."),
    ErrorCode.CASH_SPLIT_SUSPECTED: lazy_gettext(
        "Cash payments to this seller this week go over the limit."
    ),
    ErrorCode.PRECIOUS_METAL_CASH_FORBIDDEN: lazy_gettext(
        "Precious metals are never paid in cash."
    ),
    ErrorCode.PRECIOUS_METAL_FACTS_MISSING: lazy_gettext(
        "Precious metal: give the metal, fineness and weight."
    ),
    ErrorCode.ACCOUNT_NOT_IN_SELLER_NAME: lazy_gettext(
        "The bank account must be in the seller's name."
    ),
    ErrorCode.PAYMENT_DETAILS_MISSING: lazy_gettext("Payment details are missing."),
    ErrorCode.OFFER_OVERRIDE_REASON_MISSING: lazy_gettext("Paying above the offer needs a reason."),
    ErrorCode.OFFER_OVERRIDE_ABOVE_BOUND: lazy_gettext(
        "This price is above what your role may pay over the offer."
    ),
    ErrorCode.ITEM_STATUS_TRANSITION_FORBIDDEN: lazy_gettext(
        "This item cannot change to that status."
    ),
    ErrorCode.PHOTO_REJECTED: lazy_gettext("This photo was refused."),
    ErrorCode.NOT_READY_FOR_ONLINE: lazy_gettext("This item is not ready to go online."),
    ErrorCode.ORDER_NOT_FOUND: lazy_gettext("No such order."),
    ErrorCode.ORDER_STATUS_TRANSITION_FORBIDDEN: lazy_gettext(
        "This order cannot change to that status."
    ),
    ErrorCode.ITEM_NOT_SELLABLE: lazy_gettext("This item cannot be sold."),
    ErrorCode.DISCOUNT_NEEDS_APPROVAL: lazy_gettext("This discount needs a manager's approval."),
    ErrorCode.CARD_DECLINED: lazy_gettext("The card was declined."),
    ErrorCode.STORE_CREDIT_INVALID: lazy_gettext("This store credit cannot be used."),
    ErrorCode.RETURN_NOT_ALLOWED: lazy_gettext("This return is not allowed."),
    ErrorCode.TILL_SESSION: lazy_gettext("The till session does not allow this."),
    ErrorCode.DAY_CLOSED: lazy_gettext("The day is closed."),
    ErrorCode.PRINTER_UNAVAILABLE: lazy_gettext("The printer is not available."),
    ErrorCode.NOT_AUTHENTICATED: lazy_gettext("Please log in."),
    ErrorCode.FORBIDDEN: lazy_gettext("You are not allowed to do this."),
    ErrorCode.CONFLICT: lazy_gettext("Someone else changed this first: please try again."),
}


def error_text(exc: DomainError) -> str:
    """The sentence a screen shows for a refused operation, in the page's language."""
    known = ERROR_TEXT.get(exc.code)
    if known is None:
        return exc.message
    text = str(known)
    if current_locale() == "en" and exc.message:
        return exc.message[0].upper() + exc.message[1:]
    return text


def error_detail(exc: DomainError) -> str | None:
    """The English details beneath the French sentence (which order, which date...)."""
    if current_locale() == "en" or exc.code not in ERROR_TEXT:
        return None
    return exc.message


# --- templates ---------------------------------------------------------------------------------
def staff_templates(directory: Path) -> Jinja2Templates:
    """The templates of a set of screens, with gettext and the formats above."""
    env = Environment(
        loader=FileSystemLoader([directory, Path(__file__).parent / "templates"]),
        autoescape=True,
        extensions=["jinja2.ext.i18n"],
    )
    env.install_gettext_callables(gettext, ngettext, newstyle=True)  # type: ignore[attr-defined]
    env.filters.update(money=money, euros_input=euros_input, day=day, moment=moment)
    env.globals.update(error_text=error_text, error_detail=error_detail, LOCALES=LOCALES)
    return Jinja2Templates(env=env)


def render(
    request: Request,
    templates: Jinja2Templates,
    name: str,
    context: dict[str, Any] | None = None,
    *,
    status_code: int = 200,
    headers: Mapping[str, str] | None = None,
    zone: tzinfo | None = None,
) -> Response:
    """A page in the language of its reader, its moments at the clock of `zone` (the template
    is rendered here, in this context)."""
    locale = locale_of(request)
    set_locale(locale)
    _zone.set(zone)
    response = templates.TemplateResponse(
        request,
        name,
        {"lang": locale, **(context or {})},
        status_code=status_code,
        headers=headers,
    )
    if request.query_params.get("lang") in LOCALES:
        response.set_cookie(LANG_COOKIE, locale, max_age=365 * 86400, samesite="lax")
    return response


# --- the catalogue's completeness --------------------------------------------------------------
SOURCE_DIR = Path(__file__).resolve().parents[1]
METHOD_MAP = [("**/templates/**.html", "jinja2"), ("**.py", "python")]
OPTIONS_MAP = {"**/templates/**.html": {"extensions": "jinja2.ext.i18n"}}
KEYWORDS = {"_": None, "gettext": None, "ngettext": (1, 2), "lazy_gettext": None, "N_": None}


def extracted_ids() -> set[str]:
    """Every message id the templates and the code ask to translate."""
    from babel.messages.extract import extract_from_dir

    found: set[str] = set()
    for _file, _line, message, _comments, _context in extract_from_dir(
        SOURCE_DIR, METHOD_MAP, OPTIONS_MAP, keywords=KEYWORDS
    ):
        found.update([message] if isinstance(message, str) else [m for m in message if m])
    return found


def missing(locale: str = "fr") -> list[str]:
    """The ids with no translation in a language's catalogue, sorted."""
    known = catalogue(locale)
    translated: set[str] = set()
    for message in known:
        if not message.id or message.fuzzy:
            continue
        ids = [message.id] if isinstance(message.id, str) else list(message.id)
        strings = [message.string] if isinstance(message.string, str) else message.string or []
        if strings and all(strings):
            translated.update(ids)
    return sorted(extracted_ids() - translated)
