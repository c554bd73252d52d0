"""The legal references of the system, in one place (business-rules.md rule C.15).

From 1 September 2026 the VAT articles of the CGI move to the new code CIBS: update the texts
here and nowhere else. Plain constants; no logic.
"""

from __future__ import annotations

# VAT on the margin for second-hand goods bought from individuals (rules C.12, C.14).
MARGIN_SCHEME = "CGI art. 297 A (CIBS from 1 September 2026)"

# The mention every receipt or invoice of a margin-scheme item must carry (rule C.14);
# the dash is an en dash (U+2013).
MARGIN_SCHEME_RECEIPT_MENTION = "Régime particulier – Biens d'occasion"

# The standard VAT rate of 20 %, applied on the full price under the normal regime (rule C.13).
STANDARD_RATE_ARTICLE = "CGI art. 278 (CIBS from 1 September 2026)"

# Inalterability, security, keeping and archiving of the till's data (rules D.16-D.20).
INALTERABILITY = "CGI art. 286 I 3° bis"

# The legal guarantee of conformity owed by a professional seller, second-hand goods included.
GUARANTEE = "Code de la consommation L217-3, L217-7"

# The 14-day right of withdrawal for distance (online) sales and its exceptions.
WITHDRAWAL_ONLINE = "Code de la consommation L221-18, L221-24"

# The cash payment limits (1,000 EUR to an individual; never cash for precious metals).
CASH_LIMITS = "Code monétaire et financier L112-6, D112-3"
