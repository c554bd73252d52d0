"""A synthetic sales history of the chain, to train and evaluate the argus and run the simulator.

The chain's real history is not available to developers, so this module makes one that behaves
like it: a catalogue of thousands of articles over the demo catalogue's categories, and a
stream of sales in 60 stores across France, each sale priced the way the stores price:

    resale = reference new price x grade factor x depreciation since release x region x season
             x the article's own appeal x noise, rounded to a price a store puts on a label.

Popular articles sell far more often than the rest (a Zipf law), older articles are sold less
and in worse condition, an overpriced item stays longer on the shelf, and the item was bought
from the public at the resale price less the store's margin. The catalogue and the sales are
deterministic by seed, byte for byte once written to CSV, and the sales are streamed in date
order so that a million of them never sit in memory.

`typical_price_cents` is the model without noise: what an ideal argus would answer.
"""

from __future__ import annotations

import csv
import hashlib
import math
import random
import uuid
from bisect import bisect
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from statistics import NormalDist

from stdnum import ean

from recommerce.catalog.model import Article, Grade
from recommerce.catalog.seed_data import CATEGORIES, demo_articles
from recommerce.money import Money

# The namespace of the synthetic articles' ids (uuid5 of "seed/index"): fixed forever.
SYNTHETIC_ARTICLE_NAMESPACE = uuid.UUID("0b7e3c52-9d41-5a86-b2f0-6c1d8e4a7f35")

FIRST_RELEASE_YEAR = 2010  # the synthetic catalogue's articles came out over 15 years
LAST_RELEASE_YEAR = 2024

GRADES: tuple[Grade, Grade, Grade, Grade] = (Grade.A, Grade.B, Grade.C, Grade.D)

DAYS_PER_YEAR = 365.25
ZIPF_EXPONENT = 1.2  # popularity of the article of rank r ~ 1 / (r + 20)**1.2:
ZIPF_OFFSET = 20  # the top 10 % of articles make about 70-75 % of the sales, none more than 2 %
ARTICLE_APPEAL_SIGMA = 0.08  # each article sells a little above or below its peers, for good
WEAR_PER_YEAR = 0.025  # older articles come back in worse condition...
MAX_WEAR_SHIFT = 0.25  # ...up to a point
MIN_INTEREST = 0.10  # an old article still sells, at a tenth of its early pace
SHELF_PRICE_ELASTICITY = 3.0  # 10 % over the typical price -> about 1.33 x longer on the shelf
SHELF_NOISE_SIGMA = 0.5
MAX_DAYS_IN_STOCK = 730
MARGIN_LOW, MARGIN_HIGH = 0.35, 0.50  # the store's margin on what it paid the seller
BUY_STEP_CENTS = 50  # offers in 50-cent steps, as at the buying counter
WEEKDAY_TRAFFIC = (0.8, 0.9, 1.0, 0.95, 1.1, 1.6, 0.25)  # Monday .. Sunday
MONTH_TRAFFIC = (1.05, 0.9, 0.95, 0.95, 0.95, 0.95, 0.9, 0.8, 1.0, 1.0, 1.1, 1.35)
CLOSED_ON = ((1, 1), (5, 1), (12, 25))  # New Year's Day, Labour Day, Christmas

FLAT = (1.0,) * 12
GAMES_SEASON = (0.95, 0.97, 0.98, 0.98, 0.98, 0.98, 0.99, 1.0, 1.0, 1.02, 1.06, 1.14)
CONSOLES_SEASON = (0.94, 0.96, 0.97, 0.97, 0.97, 0.98, 0.99, 1.0, 1.0, 1.02, 1.07, 1.15)
GIFTS_SEASON = (0.98, 0.99, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.02, 1.05)
TOOLS_SEASON = (0.97, 0.98, 1.02, 1.05, 1.05, 1.03, 1.0, 0.98, 1.0, 0.99, 0.97, 0.97)
INSTRUMENTS_SEASON = (1.0, 1.0, 1.0, 1.0, 1.0, 0.99, 0.98, 0.99, 1.04, 1.02, 1.0, 1.03)
JEWELLERY_SEASON = (0.99, 1.03, 1.0, 1.0, 1.02, 1.0, 0.99, 0.99, 1.0, 1.0, 1.0, 1.06)

# How much more (or less) the same item sells for in each region.
REGION_FACTORS: dict[str, float] = {
    "Île-de-France": 1.12,
    "Provence-Alpes-Côte d'Azur": 1.05,
    "Corse": 1.04,
    "Auvergne-Rhône-Alpes": 1.03,
    "Occitanie": 0.99,
    "Nouvelle-Aquitaine": 0.98,
    "Pays de la Loire": 0.98,
    "Bretagne": 0.97,
    "Grand Est": 0.96,
    "Normandie": 0.96,
    "Centre-Val de Loire": 0.95,
    "Bourgogne-Franche-Comté": 0.95,
    "Hauts-de-France": 0.94,
}

# (city, region, relative footfall, latitude, longitude) of the chain's 60 stores; store n is
# in city n. Coordinates are the city centre's (WGS 84 degrees), to four decimals.
STORE_CITIES: tuple[tuple[str, str, float, float, float], ...] = (
    ("Paris", "Île-de-France", 2.0, 48.8566, 2.3522),
    ("Marseille", "Provence-Alpes-Côte d'Azur", 1.6, 43.2965, 5.3698),
    ("Lyon", "Auvergne-Rhône-Alpes", 1.6, 45.7640, 4.8357),
    ("Toulouse", "Occitanie", 1.5, 43.6047, 1.4442),
    ("Nice", "Provence-Alpes-Côte d'Azur", 1.3, 43.7102, 7.2620),
    ("Nantes", "Pays de la Loire", 1.3, 47.2184, -1.5536),
    ("Montpellier", "Occitanie", 1.3, 43.6108, 3.8767),
    ("Strasbourg", "Grand Est", 1.3, 48.5734, 7.7521),
    ("Bordeaux", "Nouvelle-Aquitaine", 1.4, 44.8378, -0.5792),
    ("Lille", "Hauts-de-France", 1.4, 50.6292, 3.0573),
    ("Rennes", "Bretagne", 1.2, 48.1173, -1.6778),
    ("Reims", "Grand Est", 1.0, 49.2583, 4.0317),
    ("Toulon", "Provence-Alpes-Côte d'Azur", 1.0, 43.1242, 5.9280),
    ("Saint-Étienne", "Auvergne-Rhône-Alpes", 1.0, 45.4397, 4.3872),
    ("Le Havre", "Normandie", 1.0, 49.4944, 0.1079),
    ("Grenoble", "Auvergne-Rhône-Alpes", 1.1, 45.1885, 5.7245),
    ("Dijon", "Bourgogne-Franche-Comté", 1.0, 47.3220, 5.0415),
    ("Angers", "Pays de la Loire", 1.0, 47.4784, -0.5632),
    ("Nîmes", "Occitanie", 0.9, 43.8367, 4.3601),
    ("Villeurbanne", "Auvergne-Rhône-Alpes", 0.9, 45.7719, 4.8902),
    ("Clermont-Ferrand", "Auvergne-Rhône-Alpes", 1.0, 45.7772, 3.0870),
    ("Le Mans", "Pays de la Loire", 0.9, 48.0061, 0.1996),
    ("Aix-en-Provence", "Provence-Alpes-Côte d'Azur", 1.0, 43.5297, 5.4474),
    ("Brest", "Bretagne", 0.9, 48.3904, -4.4861),
    ("Tours", "Centre-Val de Loire", 1.0, 47.3941, 0.6848),
    ("Amiens", "Hauts-de-France", 0.9, 49.8941, 2.2958),
    ("Limoges", "Nouvelle-Aquitaine", 0.9, 45.8336, 1.2611),
    ("Annecy", "Auvergne-Rhône-Alpes", 0.9, 45.8992, 6.1294),
    ("Perpignan", "Occitanie", 0.9, 42.6887, 2.8948),
    ("Boulogne-Billancourt", "Île-de-France", 1.1, 48.8397, 2.2399),
    ("Metz", "Grand Est", 0.9, 49.1193, 6.1757),
    ("Besançon", "Bourgogne-Franche-Comté", 0.9, 47.2378, 6.0241),
    ("Orléans", "Centre-Val de Loire", 0.9, 47.9030, 1.9093),
    ("Rouen", "Normandie", 1.0, 49.4432, 1.0999),
    ("Argenteuil", "Île-de-France", 1.0, 48.9472, 2.2467),
    ("Mulhouse", "Grand Est", 0.8, 47.7508, 7.3359),
    ("Caen", "Normandie", 0.9, 49.1829, -0.3707),
    ("Nancy", "Grand Est", 0.9, 48.6921, 6.1844),
    ("Montreuil", "Île-de-France", 1.0, 48.8638, 2.4485),
    ("Roubaix", "Hauts-de-France", 0.8, 50.6942, 3.1746),
    ("Avignon", "Provence-Alpes-Côte d'Azur", 0.8, 43.9493, 4.8055),
    ("Poitiers", "Nouvelle-Aquitaine", 0.8, 46.5802, 0.3404),
    ("Versailles", "Île-de-France", 1.0, 48.8049, 2.1204),
    ("Pau", "Nouvelle-Aquitaine", 0.8, 43.2951, -0.3708),
    ("La Rochelle", "Nouvelle-Aquitaine", 0.8, 46.1603, -1.1511),
    ("Calais", "Hauts-de-France", 0.7, 50.9513, 1.8587),
    ("Cannes", "Provence-Alpes-Côte d'Azur", 0.8, 43.5528, 7.0174),
    ("Dunkerque", "Hauts-de-France", 0.7, 51.0343, 2.3768),
    ("Bayonne", "Nouvelle-Aquitaine", 0.7, 43.4929, -1.4748),
    ("Ajaccio", "Corse", 0.6, 41.9192, 8.7386),
    ("Lorient", "Bretagne", 0.7, 47.7483, -3.3700),
    ("Quimper", "Bretagne", 0.7, 47.9960, -4.1024),
    ("Troyes", "Grand Est", 0.7, 48.2973, 4.0744),
    ("Chambéry", "Auvergne-Rhône-Alpes", 0.7, 45.5646, 5.9178),
    ("Valence", "Auvergne-Rhône-Alpes", 0.7, 44.9334, 4.8924),
    ("Béziers", "Occitanie", 0.7, 43.3442, 3.2158),
    ("Cherbourg-en-Cotentin", "Normandie", 0.6, 49.6337, -1.6222),
    ("Chartres", "Centre-Val de Loire", 0.7, 48.4439, 1.4890),
    ("Bourges", "Centre-Val de Loire", 0.6, 47.0810, 2.3988),
    ("Saint-Nazaire", "Pays de la Loire", 0.7, 47.2735, -2.2138),
)


# A city's second (third...) store is this many degrees north-east of its first (about 1 km).
NEXT_STORE_OFFSET = 0.01


@dataclass(frozen=True, slots=True)
class SyntheticStore:
    """One of the chain's stores in the synthetic history: its number, city, region and place."""

    number: int
    city: str
    region: str
    footfall: float
    latitude: float  # WGS 84 degrees
    longitude: float

    @property
    def name(self) -> str:
        """The store's sign: "Magasin de Lyon", and "Magasin de Lyon 2" for a city's second."""
        rank = (self.number - 1) // len(STORE_CITIES) + 1
        return f"Magasin de {self.city}" + (f" {rank}" if rank > 1 else "")


def synthetic_stores(count: int = 60) -> list[SyntheticStore]:
    """Stores 1..count; past 60, a city gets a second store."""
    if count < 1:
        raise ValueError("the chain has at least one store")
    stores = []
    for number in range(1, count + 1):
        rank, index = divmod(number - 1, len(STORE_CITIES))
        city, region, footfall, latitude, longitude = STORE_CITIES[index]
        shift = rank * NEXT_STORE_OFFSET
        stores.append(
            SyntheticStore(
                number,
                city,
                region,
                footfall,
                round(latitude + shift, 4),
                round(longitude + shift, 4),
            )
        )
    return stores


# --------------------------------------------------------------------------- the catalogue


Variants = tuple[tuple[str, float], ...]


@dataclass(frozen=True, slots=True)
class Series:
    """A product line, e.g. "iPhone {n} Pro": its price level and the years it came out.

    The pattern may use {n} (release year - origin, a generation number), {year}, {next}
    (the season a sports game is named after) and {code} (a model number).
    """

    pattern: str
    level: float = 1.0
    first: int = FIRST_RELEASE_YEAR
    last: int = LAST_RELEASE_YEAR
    origin: int = 0
    variants: Variants = ()  # replaces the category's variants (configurations, sizes...)


@dataclass(frozen=True, slots=True)
class BrandProfile:
    """A brand in one category: how common it is, how dear, and how well it keeps its value."""

    name: str
    weight: float
    level: float  # its prices relative to the category's median
    value_keeping: float  # multiplies the category's yearly depreciation: below 1 keeps value
    gtin_prefix: str  # a GS1 company prefix; empty for unbranded goods (no GTIN)
    series: tuple[Series, ...]
    platforms: tuple[str, ...] = ()  # video games: the consoles it publishes on (all if empty)


@dataclass(frozen=True, slots=True)
class CategoryProfile:
    """How a category's articles are priced new, resold, depreciated and sold over the year."""

    code: str
    share: float  # share of the catalogue's articles
    demand: float  # how often one of its articles sells, relative to other categories
    median_price: float  # euros, new
    price_sigma: float  # log-normal spread of new prices around the median
    low_price: float
    high_price: float
    yearly_depreciation: float
    value_floor: float  # share of the value never lost (retro games, gold)
    grade_factors: tuple[float, float, float, float]  # A, B, C, D
    grade_mix: tuple[float, float, float, float]  # how often each grade comes in, when recent
    noise_sigma: float
    season: tuple[float, ...]  # price factor of each month, January first
    shelf_days: float  # median days in stock at the typical price
    interest_half_life: float  # years after release for its sales pace to halve
    gtin_share: float  # share of its articles with a GTIN
    variants: Variants
    brands: tuple[BrandProfile, ...]


def _b(
    name: str,
    weight: float,
    level: float,
    keeping: float,
    prefix: str,
    *series: Series,
    platforms: tuple[str, ...] = (),
) -> BrandProfile:
    return BrandProfile(name, weight, level, keeping, prefix, series, platforms)


def _titles(publisher_titles: str) -> tuple[Series, ...]:
    """Game franchises written "A|B|C", each a series at the publisher's level."""
    return tuple(Series(title.strip()) for title in publisher_titles.split("|"))


S = Series

# (platform, first year, last year) on which games came out
PLATFORMS: tuple[tuple[str, int, int], ...] = (
    ("PS3", 2010, 2013),
    ("PS4", 2014, 2021),
    ("PS5", 2020, 2024),
    ("Xbox 360", 2010, 2013),
    ("Xbox One", 2014, 2021),
    ("Xbox Series X", 2020, 2024),
    ("Wii", 2010, 2012),
    ("Wii U", 2013, 2016),
    ("3DS", 2011, 2018),
    ("Switch", 2017, 2024),
    ("PC", 2010, 2024),
)
NINTENDO_PLATFORMS = ("Wii", "Wii U", "3DS", "Switch")
SONY_PLATFORMS = ("PS3", "PS4", "PS5")
XBOX_PLATFORMS = ("Xbox 360", "Xbox One", "Xbox Series X", "PC")

# The tables below are laid out by hand, one brand per block:
# _b(brand, weight in its category, price level, value keeping, GS1 prefix, series...)
# S(pattern, price level, first=year, last=year, origin=year numbering starts from)
# fmt: off
STORAGE: Variants = (
    (" 32 Go", 0.9), (" 64 Go", 1.0), (" 128 Go", 1.12), (" 256 Go", 1.28), (" 512 Go", 1.5),
)
MAC_CONFIGS: Variants = ((" 8 Go 256 Go", 1.0), (" 16 Go 512 Go", 1.25), (" 24 Go 1 To", 1.6))
GOLD: Variants = (
    (" or jaune 18 carats", 1.0), (" or rose 18 carats", 1.0), (" or blanc 18 carats", 1.05),
)
SILVER: Variants = ((" argent 925", 1.0), (" argent 925 et émail", 1.1))

PHONES = CategoryProfile(
    code="phones", share=0.16, demand=1.4,
    median_price=500, price_sigma=0.25, low_price=79, high_price=1899,
    yearly_depreciation=0.28, value_floor=0.04,
    grade_factors=(0.72, 0.56, 0.40, 0.12), grade_mix=(0.25, 0.42, 0.23, 0.10),
    noise_sigma=0.17, season=FLAT, shelf_days=12, interest_half_life=3, gtin_share=0.95,
    variants=STORAGE,
    brands=(
        _b("Apple", 0.34, 1.45, 0.8, "0194253",
           S("iPhone {n}", 1.0, origin=2007), S("iPhone {n} Pro", 1.3, first=2019, origin=2008),
           S("iPhone {n} Pro Max", 1.45, first=2019, origin=2008),
           S("iPhone SE ({year})", 0.55, first=2016)),
        _b("Samsung", 0.28, 1.0, 1.0, "8806094",
           S("Galaxy S{n}", 1.5, origin=2009), S("Galaxy A{n}", 0.6, first=2014, origin=2010),
           S("Galaxy Note {n}", 1.6, first=2011, last=2020, origin=2010),
           S("Galaxy Z Flip {n}", 2.0, first=2020, origin=2019)),
        _b("Xiaomi", 0.14, 0.6, 1.2, "6941812",
           S("Redmi Note {n}", 1.0, first=2014, origin=2013),
           S("Redmi {n}", 0.7, first=2013, origin=2012),
           S("Xiaomi {n}", 1.8, first=2011, origin=2010)),
        _b("Google", 0.05, 1.1, 1.05, "0840353", S("Pixel {n}", 1.0, first=2016, origin=2015)),
        _b("Huawei", 0.07, 0.9, 1.3, "6901443",
           S("P{n}", 1.0, first=2012, origin=2010), S("Mate {n}", 1.3, first=2013, origin=2012)),
        _b("OnePlus", 0.04, 0.9, 1.15, "6921815", S("OnePlus {n}", 1.0, first=2014, origin=2013)),
        _b("Oppo", 0.04, 0.7, 1.2, "6932169",
           S("Reno {n}", 1.0, first=2019, origin=2018),
           S("Find X{n}", 1.5, first=2018, origin=2017)),
        _b("Motorola", 0.04, 0.45, 1.2, "0840023", S("Moto G{n}", 1.0, first=2013, origin=2012)),
    ),
)

CONSOLES = CategoryProfile(
    code="consoles", share=0.03, demand=1.6,
    median_price=320, price_sigma=0.2, low_price=59, high_price=799,
    yearly_depreciation=0.14, value_floor=0.18,
    grade_factors=(0.70, 0.56, 0.42, 0.15), grade_mix=(0.30, 0.42, 0.20, 0.08),
    noise_sigma=0.16, season=CONSOLES_SEASON, shelf_days=10, interest_half_life=4,
    gtin_share=0.95,
    variants=(("", 1.0), (" 500 Go", 1.0), (" 1 To", 1.1), (" pack 2 manettes", 1.15),
              (" édition limitée", 1.2), (" blanche", 1.0)),
    brands=(
        _b("Sony", 0.4, 1.0, 0.85, "0711719",
           S("PlayStation 3 Slim", 0.9, last=2013),
           S("PlayStation Vita", 0.7, first=2012, last=2015),
           S("PlayStation 4", 1.0, first=2013, last=2016),
           S("PlayStation 4 Slim", 0.9, first=2016, last=2020),
           S("PlayStation 4 Pro", 1.2, first=2016, last=2020),
           S("PlayStation 5", 1.55, first=2020), S("PlayStation 5 Digital", 1.3, first=2020),
           S("PlayStation Portal", 0.65, first=2023)),
        _b("Nintendo", 0.35, 0.85, 0.7, "0045496",
           S("Wii", 0.6, last=2012), S("3DS", 0.6, first=2011, last=2014),
           S("3DS XL", 0.7, first=2012, last=2016), S("Wii U", 0.9, first=2012, last=2016),
           S("New 2DS XL", 0.5, first=2017, last=2019), S("Switch", 1.0, first=2017),
           S("Switch Lite", 0.65, first=2019), S("Switch OLED", 1.1, first=2021)),
        _b("Microsoft", 0.22, 1.0, 1.0, "0889842",
           S("Xbox 360 S", 0.8, last=2013), S("Xbox One", 1.0, first=2013, last=2016),
           S("Xbox One S", 0.9, first=2016, last=2020),
           S("Xbox One X", 1.3, first=2017, last=2020),
           S("Xbox Series S", 0.9, first=2020), S("Xbox Series X", 1.55, first=2020)),
        _b("Valve", 0.03, 1.4, 0.9, "0814585", S("Steam Deck", 1.0, first=2022)),
    ),
)

VIDEO_GAMES = CategoryProfile(
    code="video_games", share=0.22, demand=1.2,
    median_price=50, price_sigma=0.25, low_price=9.99, high_price=119,
    yearly_depreciation=0.22, value_floor=0.15,
    grade_factors=(0.68, 0.58, 0.45, 0.10), grade_mix=(0.35, 0.40, 0.20, 0.05),
    noise_sigma=0.22, season=GAMES_SEASON, shelf_days=18, interest_half_life=3,
    gtin_share=0.97,
    variants=(("", 1.0), (" Remastered", 0.75), (" Deluxe Edition", 1.3),
              (" Édition Collector", 1.9), (" Definitive Edition", 0.95), (" Édition Gold", 1.25),
              (" Complete Edition", 1.0), (" Game of the Year", 0.9)),
    brands=(
        _b("Nintendo", 0.2, 1.05, 0.55, "0045496",
           *_titles("Mario Kart|Super Mario|The Legend of Zelda|Pokémon|Animal Crossing"
                    "|Super Smash Bros.|Kirby|Metroid|Splatoon|Luigi's Mansion|Fire Emblem"
                    "|Xenoblade Chronicles|Donkey Kong|Mario Party"),
           platforms=NINTENDO_PLATFORMS),
        _b("Sony", 0.1, 1.05, 0.9, "0711719",
           *_titles("God of War|Uncharted|The Last of Us|Horizon|Gran Turismo"
                    "|Marvel's Spider-Man|Ratchet & Clank|Ghost of Tsushima|Days Gone"
                    "|LittleBigPlanet"),
           platforms=SONY_PLATFORMS),
        _b("Microsoft", 0.07, 1.0, 1.1, "0889842",
           *_titles("Halo|Forza Horizon|Gears of War|Forza Motorsport|Fable|Sea of Thieves"),
           S("Starfield", first=2023),
           platforms=XBOX_PLATFORMS),
        _b("Ubisoft", 0.13, 0.95, 1.2, "3307216",
           *_titles("Assassin's Creed|Far Cry|Just Dance|Watch Dogs|The Crew|Rayman"
                    "|The Division|Ghost Recon|The Lapins Crétins")),
        _b("Electronic Arts", 0.13, 1.0, 1.45, "5030930",
           S("FIFA {next}", last=2022), S("EA Sports FC {next}", first=2023),
           *_titles("Battlefield|Need for Speed|Les Sims|Star Wars Jedi|Mass Effect"
                    "|Madden NFL")),
        _b("Activision", 0.1, 1.0, 1.2, "5030917",
           *_titles("Call of Duty|Crash Bandicoot|Spyro|Tony Hawk's Pro Skater|Skylanders"
                    "|Guitar Hero")),
        _b("Rockstar Games", 0.05, 1.05, 0.85, "5026555",
           *_titles("Grand Theft Auto|Red Dead Redemption|L.A. Noire|Max Payne")),
        _b("2K", 0.05, 0.95, 1.3, "5026556",
           S("NBA 2K{next}"), *_titles("Borderlands|Mafia|XCOM|Civilization")),
        _b("Bandai Namco", 0.06, 1.0, 1.0, "3391892",
           S("Elden Ring", first=2022),
           *_titles("Dark Souls|Tekken|Dragon Ball|Naruto|Tales of")),
        _b("Square Enix", 0.05, 1.0, 1.0, "5021290",
           *_titles("Final Fantasy|Kingdom Hearts|Dragon Quest|Tomb Raider|Life is Strange")),
        _b("Capcom", 0.04, 0.95, 0.95, "5055060",
           *_titles("Resident Evil|Monster Hunter|Street Fighter|Devil May Cry|Mega Man")),
        _b("Sega", 0.04, 0.9, 1.0, "5055277",
           *_titles("Sonic|Yakuza|Football Manager|Persona|Total War")),
    ),
)

LAPTOPS = CategoryProfile(
    code="laptops", share=0.10, demand=1.0,
    median_price=850, price_sigma=0.3, low_price=249, high_price=3999,
    yearly_depreciation=0.24, value_floor=0.05,
    grade_factors=(0.70, 0.54, 0.38, 0.14), grade_mix=(0.22, 0.42, 0.26, 0.10),
    noise_sigma=0.20, season=FLAT, shelf_days=16, interest_half_life=3, gtin_share=0.9,
    variants=((" i3 8 Go 256 Go SSD", 0.8), (" i5 8 Go 256 Go SSD", 1.0),
              (" i5 16 Go 512 Go SSD", 1.15), (" i7 16 Go 512 Go SSD", 1.3),
              (" Ryzen 5 8 Go 512 Go SSD", 0.95), (" Ryzen 7 16 Go 1 To SSD", 1.3)),
    brands=(
        _b("Apple", 0.22, 1.4, 0.8, "0194252",
           S('MacBook Air 13" ({year})', 1.0, variants=MAC_CONFIGS),
           S('MacBook Pro 13" ({year})', 1.3, variants=MAC_CONFIGS),
           S('MacBook Pro 14" ({year})', 1.7, first=2021, variants=MAC_CONFIGS),
           S('MacBook Pro 16" ({year})', 2.1, first=2019, variants=MAC_CONFIGS)),
        _b("Dell", 0.15, 1.0, 1.0, "0884116",
           S("XPS 13 ({year})", 1.4), S("XPS 15 ({year})", 1.7),
           S("Inspiron 15 {code}", 0.7), S("Latitude {code}", 1.1)),
        _b("Lenovo", 0.17, 0.95, 1.0, "0196118",
           S("ThinkPad T14 Gen {n}", 1.3, first=2020, origin=2019),
           S("ThinkPad X1 Carbon Gen {n}", 1.8, first=2013, origin=2012),
           S("IdeaPad {code}", 0.65), S("Legion 5 ({year})", 1.2, first=2020),
           S("Yoga Slim 7 ({year})", 1.05, first=2019)),
        _b("HP", 0.17, 0.9, 1.05, "0196068",
           S("Pavilion 15 ({year})", 0.75), S("EliteBook 840 G{n}", 1.3, first=2014, origin=2013),
           S("Envy 13 ({year})", 1.05), S("Omen 16 ({year})", 1.3, first=2021),
           S("Spectre x360 ({year})", 1.5, first=2016)),
        _b("Asus", 0.13, 0.85, 1.1, "4711081",
           S("ZenBook 14 ({year})", 1.0), S("VivoBook 15 ({year})", 0.65),
           S("ROG Strix G15 ({year})", 1.4, first=2020),
           S("TUF Gaming F15 ({year})", 1.0, first=2020)),
        _b("Acer", 0.1, 0.75, 1.15, "4710886",
           S("Aspire 5 ({year})", 0.75), S("Swift 3 ({year})", 0.9, first=2017),
           S("Nitro 5 ({year})", 1.1, first=2017),
           S("Predator Helios 300 ({year})", 1.5, first=2017)),
        _b("MSI", 0.03, 1.0, 1.15, "4719072", S("GF63 Thin ({year})", 1.0, first=2018)),
        _b("Microsoft", 0.03, 1.2, 0.95, "0889842",
           S("Surface Laptop {n}", 1.0, first=2017, origin=2016)),
    ),
)

TABLETS = CategoryProfile(
    code="tablets", share=0.06, demand=1.0,
    median_price=420, price_sigma=0.3, low_price=79, high_price=2199,
    yearly_depreciation=0.22, value_floor=0.06,
    grade_factors=(0.71, 0.55, 0.40, 0.13), grade_mix=(0.25, 0.42, 0.23, 0.10),
    noise_sigma=0.18, season=GIFTS_SEASON, shelf_days=14, interest_half_life=3.5,
    gtin_share=0.95,
    variants=((" 32 Go Wi-Fi", 0.85), (" 64 Go Wi-Fi", 1.0), (" 128 Go Wi-Fi", 1.12),
              (" 256 Go Wi-Fi", 1.3), (" 128 Go 4G", 1.25), (" 256 Go 5G", 1.45)),
    brands=(
        _b("Apple", 0.42, 1.2, 0.8, "0194252",
           S("iPad {n}e génération", 0.8, first=2014, origin=2012),
           S("iPad Air {n}", 1.2, first=2013, origin=2012),
           S('iPad Pro 11" ({year})', 1.8, first=2018),
           S("iPad mini {n}", 1.0, first=2012, origin=2011)),
        _b("Samsung", 0.28, 0.9, 1.05, "8806094",
           S("Galaxy Tab S{n}", 1.3, first=2014, origin=2013),
           S("Galaxy Tab A{n}", 0.55, first=2015, origin=2014)),
        _b("Lenovo", 0.12, 0.6, 1.15, "0196118",
           S("Tab P11 ({year})", 1.0, first=2020), S("Tab M10 ({year})", 0.6, first=2018)),
        _b("Microsoft", 0.08, 1.8, 1.0, "0889842",
           S("Surface Pro {n}", 1.0, first=2013, origin=2012),
           S("Surface Go {n}", 0.5, first=2018, origin=2017)),
        _b("Amazon", 0.05, 0.3, 1.2, "0840080", S("Fire HD 10 ({year})", 1.0, first=2015)),
        _b("Huawei", 0.05, 0.7, 1.3, "6901443", S("MatePad {code}", 1.0, first=2020)),
    ),
)

TVS = CategoryProfile(
    code="tvs", share=0.06, demand=0.7,
    median_price=600, price_sigma=0.3, low_price=149, high_price=3999,
    yearly_depreciation=0.20, value_floor=0.05,
    grade_factors=(0.68, 0.52, 0.36, 0.10), grade_mix=(0.25, 0.45, 0.22, 0.08),
    noise_sigma=0.20, season=FLAT, shelf_days=20, interest_half_life=4, gtin_share=0.95,
    variants=((' 32"', 0.45), (' 43"', 0.7), (' 50"', 0.85), (' 55"', 1.0), (' 65"', 1.45),
              (' 75"', 2.0)),
    brands=(
        _b("Samsung", 0.3, 1.05, 1.0, "8806090",
           S("Crystal UHD ({year})", 0.6, first=2019), S("QLED Q60 ({year})", 0.9, first=2017),
           S("QLED Q80 ({year})", 1.2, first=2017),
           S("Neo QLED QN90 ({year})", 1.8, first=2021),
           S("The Frame ({year})", 1.4, first=2017),
           S("Smart TV Full HD ({year})", 0.5, last=2018)),
        _b("LG", 0.22, 1.1, 1.0, "8806098",
           S("OLED 4K ({year})", 1.6, first=2017, last=2020),
           S("OLED C{n}", 1.8, first=2021, origin=2020),
           S("OLED B{n}", 1.5, first=2021, origin=2020),
           S("NanoCell ({year})", 0.9, first=2019), S("UHD 4K ({year})", 0.65)),
        _b("Sony", 0.14, 1.2, 0.95, "4548736",
           S("Bravia X80 ({year})", 1.0, first=2016),
           S("Bravia A80 OLED ({year})", 1.8, first=2018),
           S("Bravia Full HD ({year})", 0.6, last=2017)),
        _b("Philips", 0.14, 0.95, 1.05, "8718863",
           S("Ambilight 4K ({year})", 1.0, first=2015),
           S("OLED Ambilight ({year})", 1.7, first=2017)),
        _b("Panasonic", 0.06, 1.0, 1.05, "5025232", S("Viera ({year})", 1.0)),
        _b("TCL", 0.08, 0.6, 1.2, "5901292", S("QLED C7 ({year})", 1.0, first=2019)),
        _b("Hisense", 0.06, 0.6, 1.2, "6942147", S("UHD A6 ({year})", 1.0, first=2018)),
    ),
)

AUDIO = CategoryProfile(
    code="audio", share=0.09, demand=1.0,
    median_price=180, price_sigma=0.45, low_price=19, high_price=2999,
    yearly_depreciation=0.14, value_floor=0.12,
    grade_factors=(0.70, 0.55, 0.40, 0.12), grade_mix=(0.30, 0.40, 0.22, 0.08),
    noise_sigma=0.20, season=GIFTS_SEASON, shelf_days=18, interest_half_life=4, gtin_share=0.9,
    variants=((" noir", 1.0), (" blanc", 1.0), (" argent", 1.02), (" bleu nuit", 1.0),
              (" édition spéciale", 1.1)),
    brands=(
        _b("Sony", 0.15, 1.3, 1.0, "4548736",
           S("WH-1000XM{n}", 1.0, first=2017, origin=2015),
           S("WF-1000XM{n}", 0.8, first=2017, origin=2016), S("SRS-XB{code}", 0.5)),
        _b("Bose", 0.12, 1.4, 0.9, "0017817",
           S("QuietComfort {code}", 1.0), S("SoundLink Revolve ({year})", 0.7, first=2017),
           S("Home Speaker 500", 1.3, first=2018)),
        _b("JBL", 0.15, 0.6, 1.15, "6925281",
           S("Flip {n}", 0.7, first=2013, origin=2011),
           S("Charge {n}", 1.0, first=2013, origin=2011), S("Tune {code}BT", 0.4, first=2019)),
        _b("Apple", 0.14, 1.1, 0.85, "0190199",
           S("AirPods {n}", 0.7, first=2016, origin=2014),
           S("AirPods Pro ({year})", 1.2, first=2019), S("AirPods Max", 2.8, first=2020),
           S("HomePod ({year})", 1.5, first=2018)),
        _b("Sennheiser", 0.08, 1.2, 0.95, "4044155",
           S("Momentum {n}", 1.0, first=2013, origin=2011), S("HD {code}", 0.8)),
        _b("Marshall", 0.08, 1.1, 0.9, "7340055",
           S("Stanmore {n}", 1.3, first=2015, origin=2013),
           S("Major {n}", 0.5, first=2014, origin=2012)),
        _b("Sonos", 0.1, 1.6, 0.9, "8717755",
           S("One ({year})", 0.8, first=2017), S("Beam ({year})", 1.6, first=2018),
           S("Arc", 3.0, first=2020), S("Move", 1.4, first=2019)),
        _b("Philips", 0.06, 0.6, 1.15, "4895229", S("Fidelio {code}", 1.0)),
        _b("Bang & Olufsen", 0.04, 3.0, 0.85, "5705260",
           S("Beoplay H{n}", 1.0, first=2015, origin=2010),
           S("Beosound A1 ({year})", 0.8, first=2016)),
        _b("Yamaha", 0.08, 2.0, 1.0, "4957812", S("Ampli-tuner RX-V{code}", 1.0)),
    ),
)

TOOLS = CategoryProfile(
    code="tools", share=0.08, demand=0.9,
    median_price=160, price_sigma=0.4, low_price=29, high_price=1499,
    yearly_depreciation=0.06, value_floor=0.35,
    grade_factors=(0.68, 0.56, 0.44, 0.18), grade_mix=(0.20, 0.45, 0.30, 0.05),
    noise_sigma=0.18, season=TOOLS_SEASON, shelf_days=24, interest_half_life=8, gtin_share=0.8,
    variants=((" machine nue", 0.7), (" 1 batterie", 1.0), (" 2 batteries", 1.25),
              (" coffret 2 batteries", 1.35), (" filaire", 0.8)),
    brands=(
        _b("Bosch", 0.22, 0.9, 1.0, "3165140",
           S("Perceuse-visseuse GSR {code}", 1.0), S("Meuleuse GWS {code}", 0.8),
           S("Scie sauteuse PST {code}", 0.7), S("Perforateur PBH {code}", 1.0),
           S("Tondeuse Rotak {code}", 1.4)),
        _b("Makita", 0.2, 1.1, 0.9, "0088381",
           S("Perceuse visseuse DHP{code}", 1.0), S("Scie circulaire DHS{code}", 1.2),
           S("Visseuse à chocs DTD{code}", 0.9), S("Perforateur DHR{code}", 1.4)),
        _b("DeWalt", 0.16, 1.15, 0.9, "5035048",
           S("Perceuse DCD{code}", 1.0), S("Scie à onglet DWS{code}", 2.5),
           S("Visseuse à chocs DCF{code}", 0.9)),
        _b("Ryobi", 0.16, 0.7, 1.15, "4892210",
           S("One+ perceuse R18PD-{code}", 1.0), S("Tondeuse One+ RLM{code}", 1.6),
           S("Souffleur One+ RBL{code}", 0.8)),
        _b("Milwaukee", 0.08, 1.3, 0.85, "4058546", S("M18 FPD{code}", 1.0), S("M12 BID", 0.6)),
        _b("Metabo", 0.07, 1.0, 0.95, "4007430",
           S("Meuleuse W {code}", 0.8), S("Scie circulaire KS {code}", 1.3)),
        _b("Black+Decker", 0.08, 0.5, 1.2, "5035049",
           S("Perceuse BDCDD{code}", 1.0), S("Aspirateur Dustbuster", 0.7)),
        _b("Festool", 0.03, 3.0, 0.7, "4014549",
           S("Ponceuse ETS {code}", 0.8), S("Scie plongeante TS 55", 1.3)),
    ),
)

APPLIANCES = CategoryProfile(
    code="appliances", share=0.08, demand=0.8,
    median_price=190, price_sigma=0.45, low_price=19, high_price=1499,
    yearly_depreciation=0.11, value_floor=0.15,
    grade_factors=(0.66, 0.52, 0.38, 0.12), grade_mix=(0.30, 0.42, 0.22, 0.06),
    noise_sigma=0.20, season=GIFTS_SEASON, shelf_days=22, interest_half_life=6, gtin_share=0.9,
    variants=((" blanc", 1.0), (" noir", 1.0), (" inox", 1.1), (" rouge", 1.0),
              (" édition premium", 1.2)),
    brands=(
        _b("Seb", 0.12, 0.6, 1.0, "3045386",
           S("Cocotte-minute Clipso {code}", 0.7), S("Friteuse Actifry {code}", 1.0),
           S("Gaufrier Snack Collection", 0.4)),
        _b("Moulinex", 0.13, 0.8, 1.05, "3045380",
           S("Cookeo ({year})", 1.2), S("Companion ({year})", 2.6, first=2014),
           S("Blender {code}", 0.4)),
        _b("Dyson", 0.12, 2.2, 0.85, "5025155",
           S("V{n}", 1.0, first=2015, origin=2009), S("Supersonic", 1.0, first=2016),
           S("Airwrap", 1.4, first=2018), S("Pure Cool", 1.2, first=2017)),
        _b("Philips", 0.12, 0.8, 1.1, "8710103",
           S("Airfryer XXL ({year})", 1.2, first=2016), S("Senseo {code}", 0.4),
           S("Rasoir Series {code}", 0.6)),
        _b("Rowenta", 0.08, 0.6, 1.1, "3121040",
           S("Centrale vapeur {code}", 1.0), S("Aspirateur X-Force {code}", 1.8, first=2017)),
        _b("Kenwood", 0.06, 1.6, 0.9, "5011423",
           S("Chef XL ({year})", 1.0), S("kMix {code}", 0.6)),
        _b("KitchenAid", 0.06, 2.2, 0.8, "5413184",
           S("Artisan 5KSM{code}", 1.0), S("Blender Artisan", 0.6)),
        _b("Nespresso", 0.08, 0.9, 1.1, "7630030",
           S("Vertuo ({year})", 1.0, first=2014), S("Essenza Mini", 0.6, first=2016),
           S("Citiz ({year})", 0.9)),
        _b("De'Longhi", 0.08, 2.0, 1.0, "8004399",
           S("Magnifica S ({year})", 1.0), S("Dinamica ({year})", 1.4, first=2017)),
        _b("Tefal", 0.07, 0.5, 1.15, "3168430",
           S("Ingenio ({year})", 0.8), S("Optigrill {code}", 1.2, first=2013)),
        _b("Vorwerk", 0.03, 6.0, 0.6, "4007057",
           S("Thermomix TM{n}", 1.0, first=2014, origin=2009)),
        _b("iRobot", 0.05, 1.8, 1.2, "5060629", S("Roomba {code}", 1.0)),
    ),
)

INSTRUMENTS = CategoryProfile(
    code="instruments", share=0.06, demand=0.6,
    median_price=450, price_sigma=0.5, low_price=49, high_price=4999,
    yearly_depreciation=0.03, value_floor=0.5,
    grade_factors=(0.74, 0.60, 0.45, 0.20), grade_mix=(0.25, 0.45, 0.25, 0.05),
    noise_sigma=0.22, season=INSTRUMENTS_SEASON, shelf_days=40, interest_half_life=15,
    gtin_share=0.7,
    variants=((" sunburst", 1.0), (" noir", 1.0), (" naturel", 1.0), (" blanc", 1.0),
              (" avec étui", 1.12)),
    brands=(
        _b("Yamaha", 0.25, 0.8, 1.0, "4957812",
           S("Guitare classique C{code}", 0.3), S("Piano numérique P-{code}", 1.3),
           S("Clavier PSR-E{code}", 0.5), S("Batterie électronique DTX{code}", 1.4),
           S("Saxophone alto YAS-{code}", 2.5)),
        _b("Fender", 0.18, 1.6, 0.9, "0885978",
           S("Stratocaster Player ({year})", 1.0), S("Telecaster Player ({year})", 1.0),
           S("Jazz Bass ({year})", 1.1), S("Precision Bass ({year})", 1.1),
           S("Ampli Mustang {code}", 0.3)),
        _b("Gibson", 0.06, 4.5, 0.6, "0711106",
           S("Les Paul Standard ({year})", 1.0), S("SG Standard ({year})", 0.7),
           S("ES-335 ({year})", 1.3)),
        _b("Epiphone", 0.1, 0.9, 1.0, "0711107", S("Les Paul ({year})", 1.0), S("SG", 0.8)),
        _b("Ibanez", 0.1, 0.9, 1.0, "4515110", S("RG{code}", 1.0), S("SR{code}", 1.0)),
        _b("Roland", 0.12, 1.4, 0.95, "4957054",
           S("Piano numérique FP-{code}", 1.0), S("Batterie TD-{code}", 1.2),
           S("Synthétiseur Juno-{code}", 1.1)),
        _b("Korg", 0.06, 1.1, 1.0, "4959112", S("Minilogue", 1.0), S("Kronos ({year})", 4.0)),
        _b("Casio", 0.08, 0.7, 1.1, "4971850", S("Privia PX-{code}", 1.0)),
        _b("Pearl", 0.05, 1.3, 0.9, "4582174", S("Batterie Export ({year})", 1.0)),
    ),
)

JEWELLERY = CategoryProfile(
    code="jewellery", share=0.06, demand=0.7,
    median_price=280, price_sigma=0.6, low_price=29, high_price=9999,
    yearly_depreciation=0.005, value_floor=0.92,
    grade_factors=(0.82, 0.74, 0.64, 0.50), grade_mix=(0.20, 0.45, 0.30, 0.05),
    noise_sigma=0.15, season=JEWELLERY_SEASON, shelf_days=35, interest_half_life=30,
    gtin_share=0.1,
    variants=((" or 18 carats", 1.0), (" or 9 carats", 0.5), (" or blanc 18 carats", 1.05),
              (" argent 925", 0.15)),
    brands=(
        _b("Sans marque", 0.7, 1.0, 1.0, "",
           S("Bague", 0.8), S("Alliance", 0.9), S("Chaîne", 1.3), S("Collier", 1.5),
           S("Bracelet", 1.2), S("Pendentif", 0.6), S("Boucles d'oreilles", 0.7),
           S("Gourmette", 1.4), S("Chevalière", 1.1), S("Médaille", 0.5)),
        _b("Pandora", 0.12, 0.35, 1.1, "5700302",
           S("Bracelet Moments", 1.0, variants=SILVER), S("Charm", 0.4, variants=SILVER),
           S("Bague", 0.6, variants=SILVER)),
        _b("Histoire d'Or", 0.1, 0.7, 1.0, "3609540",
           S("Bague solitaire", 1.2), S("Créoles", 0.7), S("Chaîne maille forçat", 1.0)),
        _b("Cartier", 0.03, 8.0, 0.5, "3662264",
           S("Bracelet Love", 1.0, variants=GOLD), S("Bague Trinity", 0.4, variants=GOLD),
           S("Juste un Clou", 1.1, variants=GOLD)),
        _b("Maty", 0.05, 0.6, 1.0, "3664950", S("Bague", 1.0), S("Collier", 1.2)),
    ),
)
# fmt: on

CATEGORY_PROFILES: dict[str, CategoryProfile] = {
    p.code: p
    for p in (
        PHONES,
        CONSOLES,
        VIDEO_GAMES,
        LAPTOPS,
        TABLETS,
        TVS,
        AUDIO,
        TOOLS,
        APPLIANCES,
        INSTRUMENTS,
        JEWELLERY,
    )
}
_DEMO_CATEGORY_CODES = tuple(code for code, _name, _precious, _grades in CATEGORIES)
if set(CATEGORY_PROFILES) != set(_DEMO_CATEGORY_CODES):  # pragma: no cover - a data error
    raise RuntimeError("the synthetic catalogue must cover exactly the demo's categories")


def synthetic_catalogue(seed: int, articles: int = 5000) -> list[Article]:
    """A catalogue of `articles` articles: the demo's articles first, then made-up ones.

    Keeping the demo articles (with their fixed ids) lets a guide trained on this history quote
    the demo catalogue from its own sales. The made-up articles are spread over the demo's
    categories, with real brands, product lines and configurations, a reference new price drawn
    log-normally within the category's range, a release date between 2010 and 2024 and, for most
    of them, a valid EAN-13.
    """
    if articles < 0:
        raise ValueError("the number of articles cannot be negative")
    rng = random.Random(f"recommerce-synthetic-catalogue-{seed}")
    catalogue = demo_articles()[:articles]
    names = {a.name for a in catalogue}
    gtins = {a.gtin for a in catalogue if a.gtin is not None}
    profiles = list(CATEGORY_PROFILES.values())
    shares = [p.share for p in profiles]
    for index in range(len(catalogue), articles):
        profile = rng.choices(profiles, weights=shares)[0]
        catalogue.append(_made_up_article(rng, profile, seed, index, names, gtins))
    return catalogue


def _made_up_article(
    rng: random.Random,
    profile: CategoryProfile,
    seed: int,
    index: int,
    names: set[str],
    gtins: set[str],
) -> Article:
    brand = rng.choices(profile.brands, weights=[b.weight for b in profile.brands])[0]
    for attempt in range(30):
        series = rng.choice(brand.series)
        year = rng.randint(max(series.first, FIRST_RELEASE_YEAR), series.last)
        variant, variant_level = rng.choice(series.variants or profile.variants)
        model = series.pattern.format(
            n=year - series.origin, year=year, next=(year + 1) % 100, code=rng.randint(100, 999)
        )
        model += variant
        if profile is VIDEO_GAMES:
            platforms = [
                name
                for name, first, last in PLATFORMS
                if first <= year <= last and (not brand.platforms or name in brand.platforms)
            ]
            if not platforms:
                continue
            model += f" ({rng.choice(platforms)})"
        if attempt >= 20:  # a rare clash: the catalogue's own reference tells them apart
            model += f" réf. {rng.randint(1000, 9999)}"
        name = f"{brand.name} {model}"
        if name not in names:
            break
    else:  # pragma: no cover - 30 clashes in a row do not happen with these lists
        raise RuntimeError(f"could not name a new {profile.code} article of {brand.name}")
    names.add(name)
    released = date(year, 1, 1) + timedelta(days=rng.randrange(365))
    median = profile.median_price * brand.level * series.level * variant_level
    euros = math.exp(rng.gauss(math.log(median), profile.price_sigma))
    euros = min(profile.high_price, max(profile.low_price, euros))
    gtin = None
    if brand.gtin_prefix and rng.random() < profile.gtin_share:
        gtin = _new_gtin(rng, brand.gtin_prefix, gtins)
    return Article(
        id=str(uuid.uuid5(SYNTHETIC_ARTICLE_NAMESPACE, f"{seed}/{index}")),
        category_code=profile.code,
        brand=brand.name,
        model=model,
        name=name,
        reference_new_price=_shelf_price_new(euros),
        gtin=gtin,
        released_on=released,
    )


def _new_gtin(rng: random.Random, prefix: str, taken: set[str]) -> str:
    while True:
        body = prefix + "".join(str(rng.randrange(10)) for _ in range(12 - len(prefix)))
        gtin = body + ean.calc_check_digit(body)
        if gtin not in taken:
            taken.add(gtin)
            return gtin


def _shelf_price_new(euros: float) -> Money:
    """A new price as shops write it: 899.00 above 100 EUR, 59.99 below."""
    if euros >= 100:
        return Money((int(euros / 10 + 0.5) * 10 - 1) * 100)
    return Money(max(2, int(euros + 0.5)) * 100 - 1)


# --------------------------------------------------------------------------- the sales


@dataclass(frozen=True, slots=True)
class SaleRecord:
    """One item sold in one store: what the argus learns from."""

    sold_on: date
    store_number: int
    region: str
    article_id: str
    category_code: str
    brand: str
    grade: Grade
    released_on: date | None
    reference_new_price_cents: int
    price_cents: int  # the resale price paid by the customer
    days_in_stock: int
    purchase_price_cents: int  # what the store paid the seller


class _Plan:
    """Everything the generator needs about one article, worked out once."""

    __slots__ = (
        "article",
        "base",
        "decay",
        "floor",
        "grade_factors",
        "log_keeping_per_day",
        "noise",
        "profile",
        "released",
        "released_iso",
        "season",
        "shelf_days",
        "thresholds",
    )

    def __init__(self, article: Article) -> None:
        profile = CATEGORY_PROFILES.get(article.category_code)
        if profile is None:
            raise ValueError(f"no sales profile for category {article.category_code!r}")
        keeping = _brand_keeping(profile, article.brand)
        yearly = min(0.95, profile.yearly_depreciation * keeping)
        self.article = article
        self.profile = profile
        self.base = article.reference_new_price.cents * _article_appeal(article.id)
        self.floor = profile.value_floor
        self.log_keeping_per_day = math.log(1 - yearly) / DAYS_PER_YEAR
        self.decay = math.log(2) / (profile.interest_half_life * DAYS_PER_YEAR)
        self.grade_factors = profile.grade_factors
        self.noise = profile.noise_sigma
        self.season = profile.season
        self.shelf_days = profile.shelf_days
        a, b, c, _d = profile.grade_mix
        self.thresholds = (a, a + b, a + b + c)
        self.released = article.released_on.toordinal() if article.released_on else 0
        self.released_iso = article.released_on.isoformat() if article.released_on else ""

    def depreciation(self, age_days: int) -> float:
        """The share of the like-for-like value left `age_days` after release."""
        if not self.released:
            return 1.0
        return self.floor + (1 - self.floor) * math.exp(age_days * self.log_keeping_per_day)


def _brand_keeping(profile: CategoryProfile, brand: str) -> float:
    for candidate in profile.brands:
        if candidate.name == brand:
            return candidate.value_keeping
    return 1.0  # a brand the profiles do not know depreciates as its category does


_STANDARD_NORMAL = NormalDist()


def _article_appeal(article_id: str) -> float:
    """The article's own price factor (log-normal around 1), fixed by its id."""
    digest = hashlib.blake2b(article_id.encode(), digest_size=8).digest()
    quantile = (int.from_bytes(digest, "big") + 0.5) / 2**64
    return math.exp(ARTICLE_APPEAL_SIGMA * _STANDARD_NORMAL.inv_cdf(quantile))


def typical_price_cents(article: Article, grade: Grade, *, sold_on: date, region: str) -> float:
    """The middle resale price of the article in this grade, region and month, before noise.

    It is what a perfect argus would answer; sales scatter log-normally around it and are
    then rounded to a label price.
    """
    plan = _Plan(article)
    age = max(0, sold_on.toordinal() - plan.released)
    return (
        plan.base
        * plan.grade_factors[GRADES.index(grade)]
        * plan.depreciation(age)
        * REGION_FACTORS[region]
        * plan.season[sold_on.month - 1]
    )


def label_price_cents(value_cents: float) -> int:
    """A resale price as the store labels it: whole euros, ending in 9 or 0 from 20 EUR."""
    euros = value_cents / 100
    if euros < 19.5:
        return max(1, int(euros + 0.5)) * 100
    tens = int(euros // 10) * 10
    rest = euros - tens
    if rest < 4.5:
        return tens * 100
    if rest < 9.5:
        return (tens + 9) * 100
    return (tens + 10) * 100


def synthetic_sales(
    catalogue: Sequence[Article],
    *,
    seed: int,
    sales: int,
    stores: int = 60,
    start: date,
    end: date,
) -> Iterator[SaleRecord]:
    """Stream `sales` sales of the catalogue's articles in `stores` stores, day by day.

    Every open day between `start` and `end` gets its share of the sales by weekday and month
    (Saturdays and December are busy; 1 January, 1 May and Christmas Day are closed). An article
    sells only from its release date, at a pace set by its popularity rank (Zipf) that fades as
    it ages. Deterministic by seed.
    """
    if sales < 0:
        raise ValueError("the number of sales cannot be negative")
    if start > end:
        raise ValueError("the history starts after it ends")
    plans = sorted((_Plan(a) for a in catalogue), key=lambda p: p.released)
    if sales and (not plans or plans[0].released > end.toordinal()):
        raise ValueError("no article of the catalogue is released before the history ends")
    return _stream(
        plans, seed=seed, sales=sales, stores=synthetic_stores(stores), start=start, end=end
    )


def _popularity(plans: list[_Plan], rng: random.Random) -> list[float]:
    """Each article's sales weight: its category's demand over its rank (Zipf-Mandelbrot).

    Ranks are shuffled; the demo's articles are among the chain's best sellers.
    """
    ranks = list(range(1, len(plans) + 1))
    rng.shuffle(ranks)
    demo_ids = {a.id for a in demo_articles()}
    weights = []
    for plan, rank in zip(plans, ranks, strict=True):
        if plan.article.id in demo_ids:
            rank = 1 + rank // 20
        weights.append(plan.profile.demand / (rank + ZIPF_OFFSET) ** ZIPF_EXPONENT)
    return weights


def _daily_counts(
    plans: list[_Plan], sales: int, start: date, end: date
) -> list[tuple[int, int, int]]:
    """(day ordinal, articles released by then, sales that day) for each day with sales."""
    days: list[tuple[int, int, float]] = []
    released = 0
    for ordinal in range(start.toordinal(), end.toordinal() + 1):
        while released < len(plans) and plans[released].released <= ordinal:
            released += 1
        day = date.fromordinal(ordinal)
        closed = (day.month, day.day) in CLOSED_ON or released == 0
        weight = 0.0 if closed else WEEKDAY_TRAFFIC[day.weekday()] * MONTH_TRAFFIC[day.month - 1]
        days.append((ordinal, released, weight))
    total = sum(w for _o, _r, w in days)
    if sales and total == 0:
        raise ValueError("the chain is closed on every day of the history")
    counts = []
    running, assigned = 0.0, 0
    for ordinal, released_by_then, weight in days:
        running += weight
        due = int(sales * running / total + 0.5) if total else 0
        if due > assigned:
            counts.append((ordinal, released_by_then, due - assigned))
            assigned = due
    return counts


def _stream(
    plans: list[_Plan],
    *,
    seed: int,
    sales: int,
    stores: list[SyntheticStore],
    start: date,
    end: date,
) -> Iterator[SaleRecord]:
    rng = random.Random(f"recommerce-synthetic-sales-{seed}")
    uniform, gauss, exp = rng.random, rng.gauss, math.exp
    cumulative: list[float] = []
    running = 0.0
    for weight in _popularity(plans, rng):
        running += weight
        cumulative.append(running)
    store_cumulative: list[float] = []
    running = 0.0
    for store in stores:
        running += store.footfall
        store_cumulative.append(running)
    store_total = running
    region_factors = [REGION_FACTORS[s.region] for s in stores]
    wear_per_day = WEAR_PER_YEAR / DAYS_PER_YEAR
    for ordinal, released, count in _daily_counts(plans, sales, start, end):
        sold_on = date.fromordinal(ordinal)
        month = sold_on.month - 1
        pool_total = cumulative[released - 1]
        for _ in range(count):
            s = bisect(store_cumulative, uniform() * store_total)
            store = stores[s]
            while True:
                plan = plans[bisect(cumulative, uniform() * pool_total, 0, released - 1)]
                age = ordinal - plan.released
                if uniform() < max(MIN_INTEREST, exp(-age * plan.decay)):
                    break
            shift = min(MAX_WEAR_SHIFT, age * wear_per_day) if plan.released else 0.0
            u = shift + uniform() * (1 - shift)
            t_a, t_b, t_c = plan.thresholds
            g = 0 if u < t_a else 1 if u < t_b else 2 if u < t_c else 3
            typical = (
                plan.base
                * plan.grade_factors[g]
                * plan.depreciation(age)
                * region_factors[s]
                * plan.season[month]
            )
            price = label_price_cents(typical * exp(gauss(0.0, plan.noise)))
            days = int(
                plan.shelf_days
                * (price / typical) ** SHELF_PRICE_ELASTICITY
                * exp(gauss(0.0, SHELF_NOISE_SIGMA))
            )
            if plan.released:
                days = min(days, age)
            margin = MARGIN_LOW + (MARGIN_HIGH - MARGIN_LOW) * uniform()
            article = plan.article
            yield SaleRecord(
                sold_on=sold_on,
                store_number=store.number,
                region=store.region,
                article_id=article.id,
                category_code=article.category_code,
                brand=article.brand,
                grade=GRADES[g],
                released_on=article.released_on,
                reference_new_price_cents=article.reference_new_price.cents,
                price_cents=price,
                days_in_stock=min(MAX_DAYS_IN_STOCK, days),
                purchase_price_cents=int(price * (1 - margin) / BUY_STEP_CENTS + 0.5)
                * BUY_STEP_CENTS,
            )


# --------------------------------------------------------------------------- the CSV file

SALES_CSV_HEADER: tuple[str, ...] = (
    "sold_on",
    "store_number",
    "region",
    "article_id",
    "category_code",
    "brand",
    "grade",
    "released_on",
    "reference_new_price_cents",
    "price_cents",
    "days_in_stock",
    "purchase_price_cents",
)


def write_csv(records: Iterable[SaleRecord], path: str | Path) -> int:
    """Write the sales as UTF-8 CSV (ISO dates, integer cents, grade letters); returns the count.

    The records are consumed as they come, so a generator of a million sales is fine.
    """
    written = 0
    last_day: date | None = None
    last_day_iso = ""
    release_isos: dict[date, str] = {}
    with Path(path).open("w", encoding="utf-8", newline="") as file:
        writer = csv.writer(file, lineterminator="\n")
        writer.writerow(SALES_CSV_HEADER)
        write = writer.writerow
        for r in records:
            if r.sold_on != last_day:
                last_day, last_day_iso = r.sold_on, r.sold_on.isoformat()
            released = ""
            if r.released_on is not None:
                released = release_isos.get(r.released_on) or release_isos.setdefault(
                    r.released_on, r.released_on.isoformat()
                )
            write(
                (
                    last_day_iso,
                    r.store_number,
                    r.region,
                    r.article_id,
                    r.category_code,
                    r.brand,
                    r.grade.value,
                    released,
                    r.reference_new_price_cents,
                    r.price_cents,
                    r.days_in_stock,
                    r.purchase_price_cents,
                )
            )
            written += 1
    return written


def read_csv(path: str | Path) -> Iterator[SaleRecord]:
    """Read back a file written by `write_csv`, one sale at a time."""
    with Path(path).open(encoding="utf-8", newline="") as file:
        reader = csv.reader(file)
        header = tuple(next(reader, ()))
        if header != SALES_CSV_HEADER:
            raise ValueError(f"{path}: not a sales history file (header {header!r})")
        for row in reader:
            (
                sold_on,
                store_number,
                region,
                article_id,
                category_code,
                brand,
                grade,
                released_on,
                reference_cents,
                price_cents,
                days_in_stock,
                purchase_cents,
            ) = row
            yield SaleRecord(
                sold_on=date.fromisoformat(sold_on),
                store_number=int(store_number),
                region=region,
                article_id=article_id,
                category_code=category_code,
                brand=brand,
                grade=Grade(grade),
                released_on=date.fromisoformat(released_on) if released_on else None,
                reference_new_price_cents=int(reference_cents),
                price_cents=int(price_cents),
                days_in_stock=int(days_in_stock),
                purchase_price_cents=int(purchase_cents),
            )
