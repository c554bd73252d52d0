"""The demo catalogue: categories with their grade guide, and 38 articles.

Central loads it into its catalogue master (`recommerce central init --demo-user`) and a store
that is not enrolled yet starts from it (`recommerce store init`). Every article has a stable
id derived from its brand and model, so a store seeded locally and central agree on ids: when
the store later loads central's snapshot, the same articles are updated, never duplicated.
"""

from __future__ import annotations

import uuid
from datetime import date

from stdnum import ean

from recommerce.catalog.model import Article, Category, Grade
from recommerce.money import Money

# The namespace of the demo articles' ids (uuid5 of "brand model"): fixed forever.
DEMO_ARTICLE_NAMESPACE = uuid.UUID("6f1c2a4e-3b8d-5e7f-9a10-2b4c6d8e0f12")

# (code, name, precious metal, {grade: definition})
CATEGORIES: list[tuple[str, str, bool, dict[Grade, str]]] = [
    (
        "phones",
        "Téléphones",
        False,
        {
            Grade.A: "Aucune rayure visible à 20 cm, batterie ≥ 85 %, toutes fonctions testées.",
            Grade.B: "Micro-rayures sur l'écran ou la coque, batterie ≥ 80 %, fonctions testées.",
            Grade.C: "Rayures et marques visibles, batterie ≥ 75 %, fonctions testées.",
            Grade.D: "Pour pièces : écran cassé, ne s'allume pas ou fonction défaillante.",
        },
    ),
    (
        "consoles",
        "Consoles",
        False,
        {
            Grade.A: "Comme neuve, avec manette d'origine et câbles, testée 30 minutes.",
            Grade.B: "Traces d'usage légères, manette fonctionnelle, testée.",
            Grade.C: "Rayures ou jaunissement, fonctionne, manette compatible possible.",
            Grade.D: "Pour pièces : ne lit pas les disques ou ne démarre pas.",
        },
    ),
    (
        "video_games",
        "Jeux vidéo",
        False,
        {
            Grade.A: "Disque ou cartouche sans rayure, boîte et notice complètes.",
            Grade.B: "Micro-rayures sans effet sur la lecture, boîte présente.",
            Grade.C: "Rayures, boîte abîmée ou absente, jeu testé.",
            Grade.D: "Ne se lance pas ou support fendu.",
        },
    ),
    (
        "laptops",
        "Ordinateurs portables",
        False,
        {
            Grade.A: "Aucune trace, batterie ≥ 85 %, système réinstallé.",
            Grade.B: "Légères traces sur le capot, clavier complet, batterie ≥ 75 %.",
            Grade.C: "Traces nettes, touche usée ou pixel mort, batterie ≥ 60 %.",
            Grade.D: "Pour pièces : ne démarre pas, écran ou carte mère défaillants.",
        },
    ),
    (
        "tablets",
        "Tablettes",
        False,
        {
            Grade.A: "Aucune rayure visible, batterie ≥ 85 %.",
            Grade.B: "Micro-rayures, batterie ≥ 80 %.",
            Grade.C: "Rayures visibles, batterie ≥ 70 %.",
            Grade.D: "Pour pièces.",
        },
    ),
    (
        "tvs",
        "Téléviseurs",
        False,
        {
            Grade.A: "Dalle parfaite, télécommande d'origine.",
            Grade.B: "Dalle sans défaut, traces sur le cadre, télécommande compatible.",
            Grade.C: "Légère tache ou pixel, fonctionne.",
            Grade.D: "Dalle cassée ou ne s'allume pas.",
        },
    ),
    (
        "audio",
        "Audio",
        False,
        {
            Grade.A: "Comme neuf, son testé sur toutes les sorties.",
            Grade.B: "Traces d'usage légères, son testé.",
            Grade.C: "Usure visible, son testé, petit grésillement possible.",
            Grade.D: "Pour pièces.",
        },
    ),
    (
        "tools",
        "Outillage",
        False,
        {
            Grade.A: "Peu servi, batterie et chargeur d'origine.",
            Grade.B: "Servi, propre, fonctionne en charge.",
            Grade.C: "Très servi, fonctionne.",
            Grade.D: "Pour pièces.",
        },
    ),
    (
        "appliances",
        "Électroménager",
        False,
        {
            Grade.A: "Comme neuf, nettoyé, testé.",
            Grade.B: "Traces d'usage, nettoyé, testé.",
            Grade.C: "Usure visible, testé.",
            Grade.D: "Pour pièces.",
        },
    ),
    (
        "instruments",
        "Instruments de musique",
        False,
        {
            Grade.A: "Aucune marque de jeu, réglé.",
            Grade.B: "Légères marques de jeu, réglé.",
            Grade.C: "Marques nettes, réglage à reprendre.",
            Grade.D: "Pour pièces ou restauration.",
        },
    ),
    (
        "jewellery",
        "Bijoux en métaux précieux",
        True,
        {
            Grade.A: "Comme neuf, poinçon lisible.",
            Grade.B: "Rayures légères, poinçon lisible.",
            Grade.C: "Usure visible ou maillon réparé.",
            Grade.D: "Cassé : valeur du métal uniquement.",
        },
    ),
]

# (category, brand, model, reference new price in euros, release date, GTIN body or None)
ARTICLES: list[tuple[str, str, str, str, date, str | None]] = [
    ("phones", "Apple", "iPhone 12 64 Go", "909", date(2020, 10, 23), "019425340917"),
    ("phones", "Apple", "iPhone 13 128 Go", "909", date(2021, 9, 24), "019425386822"),
    ("phones", "Apple", "iPhone 14 128 Go", "1019", date(2022, 9, 16), "019425341640"),
    ("phones", "Samsung", "Galaxy S21 128 Go", "859", date(2021, 1, 29), "880609493153"),
    ("phones", "Samsung", "Galaxy A52 128 Go", "449", date(2021, 3, 26), "880609423817"),
    ("phones", "Google", "Pixel 7 128 Go", "649", date(2022, 10, 13), "084035300512"),
    ("phones", "Xiaomi", "Redmi Note 12 128 Go", "299", date(2023, 3, 30), "694147483421"),
    ("consoles", "Sony", "PlayStation 5 Standard", "549", date(2020, 11, 19), "071171951617"),
    ("consoles", "Sony", "PlayStation 4 Slim 500 Go", "299", date(2016, 9, 15), "071171951163"),
    ("consoles", "Nintendo", "Switch OLED", "349", date(2021, 10, 8), "004549676938"),
    ("consoles", "Nintendo", "Switch Lite", "219", date(2019, 9, 20), "004549609527"),
    ("consoles", "Microsoft", "Xbox Series X", "499", date(2020, 11, 10), "088984225102"),
    (
        "video_games",
        "Nintendo",
        "Mario Kart 8 Deluxe (Switch)",
        "59.99",
        date(2017, 4, 28),
        "004549609513",
    ),
    (
        "video_games",
        "Nintendo",
        "Zelda Breath of the Wild (Switch)",
        "59.99",
        date(2017, 3, 3),
        "004549609508",
    ),
    (
        "video_games",
        "Sony",
        "God of War Ragnarök (PS5)",
        "79.99",
        date(2022, 11, 9),
        "071171956148",
    ),
    (
        "video_games",
        "Ubisoft",
        "Assassin's Creed Valhalla (PS4)",
        "69.99",
        date(2020, 11, 10),
        "030008181762",
    ),
    ("laptops", "Apple", 'MacBook Air M1 13" 256 Go', "1129", date(2020, 11, 17), "019425320211"),
    ("laptops", "Lenovo", "ThinkPad T14 Gen 2", "1299", date(2021, 5, 1), "019613810215"),
    ("laptops", "HP", "Pavilion 15 Ryzen 5", "699", date(2021, 6, 1), "019580831314"),
    ("laptops", "Dell", "XPS 13 9310", "1399", date(2020, 10, 1), "088411681254"),
    ("tablets", "Apple", "iPad 9e génération 64 Go", "389", date(2021, 9, 24), "019425353217"),
    ("tablets", "Samsung", "Galaxy Tab S7 128 Go", "699", date(2020, 8, 21), "880609475414"),
    ("tvs", "LG", 'OLED55C1 55"', "1490", date(2021, 4, 1), "880608773415"),
    ("tvs", "Samsung", 'UE50TU7105 50"', "499", date(2020, 5, 1), "880608775324"),
    ("audio", "Sony", "WH-1000XM4", "379", date(2020, 8, 6), "454854872163"),
    ("audio", "Apple", "AirPods Pro", "279", date(2019, 10, 30), "019025284512"),
    ("audio", "Bose", "SoundLink Flex", "169", date(2021, 10, 1), "001769705412"),
    ("tools", "Makita", "Perceuse visseuse DHP482 18V", "219", date(2015, 1, 1), "008845219874"),
    ("tools", "Bosch", "Scie sauteuse PST 700 E", "89", date(2016, 1, 1), "316516390452"),
    ("appliances", "Dyson", "V11 Absolute", "649", date(2019, 3, 1), "501196847133"),
    ("appliances", "Nespresso", "Vertuo Next", "179", date(2020, 9, 1), "540015431722"),
    ("appliances", "Kenwood", "Chef XL KVL4100S", "449", date(2018, 1, 1), "501182307218"),
    ("instruments", "Yamaha", "Guitare classique C40", "129", date(2010, 1, 1), "488638218513"),
    ("instruments", "Fender", "Stratocaster Player", "799", date(2018, 1, 1), "088599642016"),
    ("instruments", "Roland", "Piano numérique FP-30X", "699", date(2021, 1, 1), "476176301223"),
    ("jewellery", "Sans marque", "Bague or 18 carats", "350", date(2000, 1, 1), None),
    ("jewellery", "Sans marque", "Chaîne or 18 carats", "600", date(2000, 1, 1), None),
    ("jewellery", "Sans marque", "Bracelet argent 925", "120", date(2000, 1, 1), None),
]


def demo_article_id(brand: str, model: str) -> str:
    return str(uuid.uuid5(DEMO_ARTICLE_NAMESPACE, f"{brand} {model}"))


def demo_categories() -> list[Category]:
    return [
        Category(code=code, name=name, precious_metal=precious, grade_definitions=dict(grades))
        for code, name, precious, grades in CATEGORIES
    ]


def demo_articles() -> list[Article]:
    """The demo articles, each with its stable id and its full 13-digit GTIN (or none)."""
    articles = []
    for category, brand, model, price, released, body in ARTICLES:
        gtin = (body + ean.calc_check_digit(body)).zfill(13) if body else None
        articles.append(
            Article(
                id=demo_article_id(brand, model),
                category_code=category,
                brand=brand,
                model=model,
                name=f"{brand} {model}",
                reference_new_price=Money.euros(price),
                gtin=gtin,
                released_on=released,
            )
        )
    return articles
