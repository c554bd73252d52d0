"""The store's screens: server-rendered pages (Jinja2 and htmx) over the store's own services."""

from __future__ import annotations

from recommerce.store.ui import counter, login, orders, register, sessions, stock, till, transfers

SCREENS = (login, counter, till, sessions, stock, orders, transfers, register)
