"""An accessibility pass over a page in the browser: every control has a name people and screen
readers can read, and the Tab key walks the page in the order it reads."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from playwright.sync_api import Page

# Visible controls without an accessible name (a <label>, aria-label, aria-labelledby, or a
# button's own text).
UNNAMED_CONTROLS = """() => [...document.querySelectorAll('input, select, textarea, button')]
  .filter(el => el.type !== 'hidden' && el.getClientRects().length > 0)
  .filter(el => !(el.labels && el.labels.length)
             && !el.getAttribute('aria-label')
             && !el.getAttribute('aria-labelledby')
             && !((el.tagName === 'BUTTON' || el.type === 'submit') && (el.textContent.trim() || el.value)))
  .map(el => el.outerHTML.slice(0, 160))"""

# Controls that reorder the Tab key (a positive tabindex sends focus out of reading order).
REORDERED = """() => [...document.querySelectorAll('[tabindex]')]
  .filter(el => el.tabIndex > 0).map(el => el.outerHTML.slice(0, 160))"""

# What the Tab key reaches, in reading order: visible, enabled, not taken out of the order.
TABBABLE = """() => [...document.querySelectorAll(
    'a[href], button, input, select, textarea, summary, [tabindex]')]
  .filter(el => !el.closest('details:not([open]) > :not(summary)'))  // folded away
  .filter(el => el.tabIndex >= 0 && !el.disabled && el.type !== 'hidden'
             && el.getClientRects().length > 0
             && getComputedStyle(el).visibility !== 'hidden')
  .filter(el => {  // a group of radio buttons is one stop: the checked one, else the first
    if (el.type !== 'radio') return true;
    const group = [...document.querySelectorAll(`input[type=radio][name="${el.name}"]`)];
    const checked = group.find(radio => radio.checked);
    return checked ? el === checked : el === group[0];
  })
  .map(el => el.id || el.name || el.getAttribute('href') || el.textContent.trim().slice(0, 40))"""

FOCUSED = """() => { const el = document.activeElement;
  return el ? (el.id || el.name || el.getAttribute('href') || el.textContent.trim().slice(0, 40)) : null; }"""


def unnamed_controls(page: Page) -> list[str]:
    return list(page.evaluate(UNNAMED_CONTROLS))


FOCUS_FIRST = """() => { window.scrollTo(0, 0);
  document.querySelector('a[href], button, input, select, textarea').focus(); }"""


def tab_order(page: Page, stops: int) -> list[str]:
    """Where the Tab key goes, from the first control of the page, until `stops` controls are
    reached (a date field's day, month and year count as one stop)."""
    page.evaluate(FOCUS_FIRST)
    reached = [page.evaluate(FOCUSED)]
    for _ in range(4 * stops):
        if len(reached) >= stops:
            break
        page.keyboard.press("Tab")
        now = page.evaluate(FOCUSED)
        if now != reached[-1]:
            reached.append(now)
    return reached


def check_page(page: Page, *, first_focus: str | None = None) -> None:
    """Fails naming what is wrong: an unnamed control, a reordered Tab key, a Tab order that
    differs from reading order, or the main field not focused when the page opens."""
    unnamed = unnamed_controls(page)
    assert unnamed == [], f"controls without a label: {unnamed}"
    reordered = page.evaluate(REORDERED)
    assert reordered == [], f"a positive tabindex reorders the Tab key: {reordered}"
    if first_focus is not None:
        focused = page.evaluate(FOCUSED)
        assert focused == first_focus, f"{focused!r} is focused on arrival, not {first_focus!r}"
    expected = list(page.evaluate(TABBABLE))
    reached = tab_order(page, len(expected))
    assert reached == expected, f"the Tab key went {reached}, the page reads {expected}"
