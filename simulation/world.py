"""Static master data of the simulated retailer, its planned master-data changes, and the
locations' time zones (the ERP's exchange rates are in simulation/fx.py)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import numpy as np
import pandas as pd

from simulation import precision
from simulation.config import WorldConfig

REPORTING_CURRENCY = "USD"
CURRENCIES = ("USD", "EUR", "GBP")
MARKETPLACE_CURRENCY = "EUR"

ENTITIES = pd.DataFrame(
    [
        ("US01", "Concord Retail Inc.", "USD", "US"),
        ("DE01", "Concord Handel GmbH", "EUR", "DE"),
        ("GB01", "Concord Retail Ltd", "GBP", "GB"),
    ],
    columns=["entity_code", "entity_name", "functional_currency_code", "country_code"],
)

# location_id, name, type, entity, time zone, pos code, wms code, opening hour, closing hour,
# sales tax rate, replenished from
LOCATIONS = pd.DataFrame(
    [
        (
            "S101",
            "New York Fifth Avenue",
            "store",
            "US01",
            "America/New_York",
            "NY01",
            None,
            9,
            22,
            0.08875,
            "DC1",
        ),
        (
            "S102",
            "Chicago State Street",
            "store",
            "US01",
            "America/Chicago",
            "CH01",
            None,
            9,
            21,
            0.1025,
            "DC1",
        ),
        (
            "S103",
            "Los Angeles Grove",
            "store",
            "US01",
            "America/Los_Angeles",
            "LA01",
            None,
            8,
            23,
            0.095,
            "DC1",
        ),
        (
            "DC1",
            "Joliet Distribution Centre",
            "dc",
            "US01",
            "America/Chicago",
            None,
            "USJ",
            6,
            20,
            0.07,
            None,
        ),
        (
            "S201",
            "Berlin Kurfuerstendamm",
            "store",
            "DE01",
            "Europe/Berlin",
            "BE01",
            None,
            9,
            20,
            0.19,
            "DC2",
        ),
        (
            "S202",
            "Muenchen Kaufingerstrasse",
            "store",
            "DE01",
            "Europe/Berlin",
            "MU01",
            None,
            9,
            20,
            0.19,
            "DC2",
        ),
        (
            "DC2",
            "Hamburg Distribution Centre",
            "dc",
            "DE01",
            "Europe/Berlin",
            None,
            "DEH",
            6,
            20,
            0.19,
            None,
        ),
        (
            "S301",
            "London Oxford Street",
            "store",
            "GB01",
            "Europe/London",
            "LO01",
            None,
            9,
            21,
            0.20,
            "DC2",
        ),
        (
            "S302",
            "Manchester Market Street",
            "store",
            "GB01",
            "Europe/London",
            "MA01",
            None,
            9,
            20,
            0.20,
            "DC2",
        ),
        (
            "MP1",
            "Marketplace Fulfilment Centre",
            "virtual",
            "GB01",
            "Europe/London",
            None,
            None,
            8,
            22,
            0.20,
            "DC2",
        ),
    ],
    columns=[
        "location_id",
        "location_name",
        "location_type",
        "entity_code",
        "time_zone",
        "pos_store_code",
        "wms_site_code",
        "open_hour",
        "close_hour",
        "tax_rate",
        "replenished_from",
    ],
)
LOCATION_INDEX = {loc: i for i, loc in enumerate(LOCATIONS["location_id"])}
STORES = LOCATIONS.index[LOCATIONS["location_type"] == "store"].to_numpy()
DCS = LOCATIONS.index[LOCATIONS["location_type"] == "dc"].to_numpy()
MARKETPLACE_LOCATION = LOCATION_INDEX["MP1"]
WEBSHOP_DCS = {"US01": LOCATION_INDEX["DC1"], "DE01": LOCATION_INDEX["DC2"]}

SUPPLIERS = pd.DataFrame(
    [
        ("V100", "Atlantic Home Goods", "goods", "US", "USD", 30),
        ("V101", "Shenzhen Bright Electronics", "goods", "CN", "USD", 60),
        ("V200", "Rheinland Waren GmbH", "goods", "DE", "EUR", 30),
        ("V201", "Ningbo Textile Export", "goods", "CN", "EUR", 60),
        ("V300", "Pennine Wholesale Ltd", "goods", "GB", "GBP", 30),
        ("F100", "Midwest Freight Lines", "freight", "US", "USD", 30),
        ("F200", "Hanse Spedition", "freight", "DE", "EUR", 30),
        ("F300", "Thames Haulage", "freight", "GB", "GBP", 30),
        ("C100", "US Customs Brokerage", "customs", "US", "USD", 15),
        ("C200", "Zollagentur Hamburg", "customs", "DE", "EUR", 15),
        ("C300", "UK Customs Clearing", "customs", "GB", "GBP", 15),
    ],
    columns=[
        "supplier_id",
        "supplier_name",
        "supplier_type",
        "country_code",
        "currency_code",
        "payment_terms_days",
    ],
)
# Goods suppliers per buying entity; freight and customs broker per entity.
ENTITY_SUPPLIERS = {"US01": ("V100", "V101"), "DE01": ("V200", "V201"), "GB01": ("V300",)}
ENTITY_FREIGHT = {"US01": "F100", "DE01": "F200", "GB01": "F300"}
ENTITY_CUSTOMS = {"US01": "C100", "DE01": "C200", "GB01": "C300"}
SUPPLIER_COUNTRY = dict(zip(SUPPLIERS["supplier_id"], SUPPLIERS["country_code"], strict=True))
ENTITY_COUNTRY = dict(zip(ENTITIES["entity_code"], ENTITIES["country_code"], strict=True))
ENTITY_CURRENCY = dict(
    zip(ENTITIES["entity_code"], ENTITIES["functional_currency_code"], strict=True)
)
FREIGHT_RATE = 0.03
DUTY_RATE = 0.06

HIERARCHY = {
    "Apparel": {"Tops": ["T-Shirts", "Shirts"], "Bottoms": ["Jeans", "Shorts"]},
    "Home": {"Kitchen": ["Cookware", "Utensils"], "Living": ["Cushions", "Lighting"]},
    "Electronics": {"Audio": ["Headphones", "Speakers"], "Accessories": ["Cables", "Chargers"]},
    "Beauty": {"Skin": ["Creams", "Cleansers"], "Hair": ["Shampoo", "Styling"]},
    "Sports": {"Outdoor": ["Camping", "Hiking"], "Fitness": ["Yoga", "Weights"]},
}
BRANDS = ["Northwind", "Bluebird", "Kestrel", "Oakline", "Meridian", "Solace", "Tundra", "Vireo"]
CASE_PACKS = np.array([1, 4, 6, 12, 24])
ENTITY_PRICE_FACTOR = {"US01": 1.0, "DE01": 0.95, "GB01": 0.82}  # local price per USD price


@dataclass(frozen=True)
class MasterChanges:
    """Changes of master data during the simulated period (effective business dates)."""

    price_change_date: date
    price_change_skus: np.ndarray  # sku indices whose list price rises 8%
    category_move_date: date
    category_move_sku: int
    category_move_to: tuple[str, str, str]  # department, category, subcategory
    new_barcode_date: date
    new_barcode_skus: np.ndarray


def build_products(config: WorldConfig, rng: np.random.Generator) -> pd.DataFrame:
    n = config.n_skus
    idx = np.arange(n)
    departments = list(HIERARCHY)
    leaves = [(d, c, s) for d in departments for c in HIERARCHY[d] for s in HIERARCHY[d][c]]
    leaf = rng.integers(0, len(leaves), n)
    base_cost = np.round(np.exp(rng.normal(np.log(12.0), 0.8, n)), 2).clip(1.0, 400.0)
    markup = rng.uniform(1.8, 2.6, n)
    popularity = rng.zipf(1.6, n).astype(float).clip(1, 60) * rng.uniform(0.5, 1.5, n)
    popularity /= popularity.sum()
    products = pd.DataFrame(
        {
            "sku": [f"SKU{i + 1:06d}" for i in idx],
            "department": [leaves[k][0] for k in leaf],
            "category": [leaves[k][1] for k in leaf],
            "subcategory": [leaves[k][2] for k in leaf],
            "brand": rng.choice(BRANDS, n),
            "case_pack_units": rng.choice(CASE_PACKS, n),
            "base_cost_usd": base_cost,
            "base_price_usd": np.round(base_cost * markup, 0) - 0.01,
            "popularity": popularity,
            "barcode": [f"{400638000000 + 7919 * (i + 1):013d}" for i in idx],
            "variant_sku": [f"WEB-{i + 1:05d}-STD" for i in idx],
            "marketplace_item_code": [f"MKT{(i + 1) * 7717 % 9999991:07d}" for i in idx],
            "wms_item_code": [f"W{(i + 1):07d}" for i in idx],
            "reported_in_cases": rng.random(n) < 0.5,
        }
    )
    products["product_name"] = (
        products["brand"] + " " + products["subcategory"] + " " + (idx + 1).astype(str)
    )
    # some list prices and US01 quotes below a whole cent (own stream: simulation/precision.py)
    products["price_below_cent"], products["us_cost_below_cent"] = precision.offsets(config.seed, n)
    return products


def plan_master_changes(
    config: WorldConfig, products: pd.DataFrame, rng: np.random.Generator
) -> MasterChanges:
    n = len(products)
    # Weekly snapshots are delivered on days 0, 7, 14, ...: a category move takes effect on a
    # snapshot date so that the successive extracts show it.
    weeks = max(1, (config.days - 1) // 7)
    move_week = max(1, weeks // 2)
    moved = int(rng.integers(0, n))
    current = tuple(products.loc[moved, ["department", "category", "subcategory"]])
    other = [
        (d, c, s)
        for d in HIERARCHY
        for c in HIERARCHY[d]
        for s in HIERARCHY[d][c]
        if (d, c, s) != current and d == current[0]
    ]
    bestsellers = np.argsort(-products["popularity"].to_numpy(), kind="stable")[: max(1, n // 4)]
    return MasterChanges(
        price_change_date=config.day(config.days // 3),
        price_change_skus=rng.choice(n, size=max(2, n // 20), replace=False),
        category_move_date=config.day(move_week * 7),
        category_move_sku=moved,
        category_move_to=other[int(rng.integers(0, len(other)))],
        new_barcode_date=config.day((2 * config.days) // 3),
        # among the best sellers, so that tills scan the new barcodes in every world
        new_barcode_skus=bestsellers[
            rng.choice(len(bestsellers), size=max(1, n // 50), replace=False)
        ],
    )


def new_barcode(sku_index: int) -> str:
    return f"{200000000000 + 104729 * (sku_index + 1):013d}"


def unit_prices(products: pd.DataFrame, changes: MasterChanges, on: date) -> np.ndarray:
    """List price per [entity, sku] valid on a date (entity order of ENTITIES)."""
    usd = products["base_price_usd"].to_numpy().copy()
    if on >= changes.price_change_date:
        usd[changes.price_change_skus] = np.round(usd[changes.price_change_skus] * 1.08, 0) - 0.01
    whole_cents = np.vstack(
        [
            np.round(usd * ENTITY_PRICE_FACTOR[e], 0) - 0.01 if e != "US01" else usd
            for e in ENTITIES["entity_code"]
        ]
    )
    return precision.at_source_precision(whole_cents, products["price_below_cent"].to_numpy())


def price_list(products: pd.DataFrame, changes: MasterChanges) -> pd.DataFrame:
    """The ERP price list with validity: the initial prices and the planned price change."""
    before = unit_prices(products, changes, changes.price_change_date - timedelta(days=1))
    after = unit_prices(products, changes, changes.price_change_date)
    rows = []
    changed = set(changes.price_change_skus.tolist())
    for e, entity in enumerate(ENTITIES["entity_code"]):
        currency = ENTITY_CURRENCY[entity]
        for i, sku in enumerate(products["sku"]):
            if i in changed:
                rows.append(
                    (
                        entity,
                        sku,
                        currency,
                        before[e, i],
                        None,
                        changes.price_change_date - timedelta(days=1),
                    )
                )
                rows.append((entity, sku, currency, after[e, i], changes.price_change_date, None))
            else:
                rows.append((entity, sku, currency, before[e, i], None, None))
    frame = pd.DataFrame(
        rows,
        columns=[
            "entity_code",
            "sku",
            "currency_code",
            "unit_price",
            "valid_from_date",
            "valid_to_date",
        ],
    )
    return frame


def unit_costs(products: pd.DataFrame) -> np.ndarray:
    """Purchase cost per [entity, sku] in the entity's currency (4 decimals)."""
    usd = products["base_cost_usd"].to_numpy()
    return np.vstack(
        [
            np.round(usd * ENTITY_PRICE_FACTOR[e] * 0.97, 4)
            if e != "US01"
            else precision.at_source_precision(usd, products["us_cost_below_cent"].to_numpy())
            for e in ENTITIES["entity_code"]
        ]
    )


def repeated_hour(time_zone: str, day: date) -> tuple[int, int] | None:
    """The two UTC epoch seconds of the half past of the hour a zone repeats on a day when its
    clocks go back (first and second occurrence of the same wall time), or None."""
    zone = ZoneInfo(time_zone)
    for hour in range(24):
        first = datetime(day.year, day.month, day.day, hour, 30, tzinfo=zone, fold=0)
        second = datetime(day.year, day.month, day.day, hour, 30, tzinfo=zone, fold=1)
        if first.timestamp() < second.timestamp():  # in a spring gap, fold 1 is earlier
            return int(first.timestamp()), int(second.timestamp())
    return None


def utc_offsets(config: WorldConfig) -> np.ndarray:
    """Seconds to subtract from local time to get UTC, per [location, day] (local noon's offset;
    no event is simulated in the small hours, when offsets change)."""
    offsets = np.zeros((len(LOCATIONS), config.days), dtype=np.int64)
    for li, tz in enumerate(LOCATIONS["time_zone"]):
        zone = ZoneInfo(tz)
        for d in range(config.days):
            day = config.day(d)
            noon = datetime(day.year, day.month, day.day, 12, tzinfo=zone)
            offsets[li, d] = int(noon.utcoffset().total_seconds())
    return offsets
