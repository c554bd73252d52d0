"""What an online customer is told at each step of an order, in French (the chain's customers
are French); one function per message."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from recommerce.marketplace.notifications import Message, euros


def _lines(lines: Iterable[Any]) -> str:
    return "\n".join(
        f"- {line.title} (état {line.grade}) : {euros(line.price_cents)}" for line in lines
    )


def order_received(
    email: str, name: str, number: str, lines: Sequence[Any], total_cents: int
) -> Message:
    return Message(
        email,
        f"Commande {number} reçue",
        f"Bonjour {name},\n\nNous avons bien reçu votre commande {number} :\n{_lines(lines)}\n"
        f"Total : {euros(total_cents)}.\n\nLe magasin qui détient vos articles confirme leur "
        "disponibilité ; votre carte n'est débitée qu'après cette confirmation.",
    )


def order_confirmed(email: str, name: str, number: str, fulfilment: str) -> Message:
    next_step = (
        "Nous vous écrirons dès que votre commande sera prête à retirer en magasin."
        if fulfilment == "collect"
        else "Nous vous écrirons dès que votre colis sera expédié."
    )
    return Message(
        email,
        f"Commande {number} confirmée",
        f"Bonjour {name},\n\nLe magasin a réservé vos articles et votre paiement est "
        f"confirmé. {next_step}",
    )


def order_cancelled(
    email: str, name: str, number: str, reason: str, alternatives: Sequence[Any], *, charged: bool
) -> Message:
    money = (
        "Vous êtes intégralement remboursé(e) sur votre carte."
        if charged
        else "Votre carte n'a pas été débitée."
    )
    body = f"Bonjour {name},\n\nVotre commande {number} est annulée : {reason}\n{money}"
    if alternatives:
        offers = "\n".join(
            f"- {a.title} (état {a.grade}) à {a.city} : {euros(a.price_cents)}, "
            f"/article/{a.item_id}"
            for a in alternatives
        )
        body += f"\n\nLe même article, dans le même état, est disponible ici :\n{offers}"
    return Message(email, f"Commande {number} annulée", body)


def order_ready(email: str, name: str, number: str, store_name: str, city: str) -> Message:
    return Message(
        email,
        f"Commande {number} prête à retirer",
        f"Bonjour {name},\n\nVotre commande {number} vous attend au magasin {store_name} "
        f"({city}). Présentez ce numéro de commande en caisse.",
    )


def order_shipped(email: str, name: str, number: str, tracking: str) -> Message:
    return Message(
        email,
        f"Commande {number} expédiée",
        f"Bonjour {name},\n\nVotre commande {number} est expédiée, numéro de suivi {tracking}.\n"
        "Vous disposez de 14 jours à compter de la livraison pour vous rétracter "
        "(Code de la consommation L221-18).",
    )


def order_collected(email: str, name: str, number: str) -> Message:
    return Message(
        email,
        f"Commande {number} retirée",
        f"Bonjour {name},\n\nVous avez retiré votre commande {number}. Merci et à bientôt !",
    )


def order_withdrawn(email: str, name: str, number: str, refund_cents: int) -> Message:
    return Message(
        email,
        f"Rétractation de la commande {number}",
        f"Bonjour {name},\n\nNous avons enregistré votre rétractation. Vous êtes remboursé(e) "
        f"de {euros(refund_cents)}, livraison standard comprise (Code de la consommation "
        "L221-24).",
    )
