"""What the warehouse caught of the defects the simulator injected (truth/defects.csv).

Each injected defect of a kind a person must see is caught when the exception queue
(marts.mart_exceptions) shows it: the exception types that show each kind, and how one defect
is matched to its exceptions, are defined here once, for the tests (tests/python/
test_controls.py) and for the run summary (`python -m orchestration.run` on a simulated world).
Kinds that ingestion and staging absorb by design (a file or line sent twice, events out of
order) raise no exception and are counted apart.
"""

from __future__ import annotations

import csv
import hashlib
import json
import re
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import duckdb
import pandas as pd

from ingestion.pii import pii_salt
from simulation.delivery.webshop import customer_email

# The defect kinds the controls can see, and the exception types that show each one.
DETECTED_KINDS = {
    "gl_batch_late": {"late_event", "sales_gl_break", "channel_orders_break", "inventory_gl_break"},
    "gl_batch_missing": {"sales_gl_break", "channel_orders_break", "inventory_gl_break"},
    "wms_count_difference": {"on_hand_wms_break"},
    "duplicate_supplier_invoice": {"duplicate_supplier_invoice", "three_way_match_break"},
    "pos_price_mismatch": {"pos_price_mismatch"},
    "late_receipt": {
        "late_event",
        "on_hand_wms_break",
        "inventory_gl_break",
        "negative_available_stock",
    },
    "unknown_item_code": {
        "unresolved_item_code",
        "inventory_gl_break",
        "negative_available_stock",
    },
    "unparseable_value": {
        "quarantined_row",
        "sales_gl_break",
        "channel_orders_break",
        "inventory_gl_break",
        "negative_available_stock",
    },
    "negative_quantity": {
        "quarantined_row",
        "sales_gl_break",
        "channel_orders_break",
        "inventory_gl_break",
        "negative_available_stock",
    },
    "overlong_value": {
        "quarantined_row",
        "sales_gl_break",
        "channel_orders_break",
        "inventory_gl_break",
        "negative_available_stock",
    },
    # a freight or duty line keyed twice: flagged, and kept out of landed cost
    "duplicate_freight_invoice": {"duplicate_supplier_invoice"},
    # a day's sales file that never arrives or arrives empty: the completeness exception, and
    # the day's sales missing against the ERP's GL, and the stock they would have moved
    "missing_daily_file": {
        "missing_delivery",
        "sales_gl_break",
        "channel_orders_break",
        "inventory_gl_break",
        "negative_available_stock",
    },
    "header_only_daily_file": {
        "missing_delivery",
        "sales_gl_break",
        "channel_orders_break",
        "inventory_gl_break",
        "negative_available_stock",
    },
}
# The operational anomalies (simulation/anomalies.py) and the detector that must find each; a
# half-empty file also loses its rows' sales like a lost file.
ANOMALY_KINDS = {
    "return_rate_outlier": "return_rate_outlier",
    "sku_return_rate_outlier": "sku_return_rate_outlier",
    "customer_return_rate_outlier": "customer_return_rate_outlier",
    "systematic_underpricing": "systematic_underpricing",
    "stock_imbalance": "stock_imbalance",
    "stock_out_risk": "stock_out_risk",
    "shrink_spike": "shrink_spike",
    "supplier_cost_creep": "supplier_cost_creep",
    "volume_break": "volume_break",
}
DETECTED_KINDS.update({kind: {exception_type} for kind, exception_type in ANOMALY_KINDS.items()})
DETECTED_KINDS["volume_break"] |= {
    "sales_gl_break",
    "inventory_gl_break",
    "negative_available_stock",
}
# Rows ingestion quarantines: each is a row missing from every figure.
QUARANTINED_KINDS = ("unparseable_value", "negative_quantity", "overlong_value")
LOST_FILE_KINDS = ("missing_daily_file", "header_only_daily_file")
# Kinds whose sales rows never reach the warehouse (a lost file, or a file short of rows).
LOST_ROWS_KINDS = (*LOST_FILE_KINDS, "volume_break")
# Bad deliveries ingestion refuses while the live file stays: held (a re-delivery that would
# erase rows) or rejected (a garbage re-delivery, a far-future date, another date's copy); each
# stays open in the queue, keyed by its file, and changes no figure.
REFUSED_KINDS = {
    "bad_redelivery_empty": "held_redelivery",
    "bad_redelivery_garbage": "rejected_file",
    "far_future_business_date": "rejected_file",
    "duplicate_content_other_date": "rejected_file",
}
# Whole-file defects: ingestion loads nothing of the file (or it arrives late), and the
# completeness controls show it as the exception type, keyed by the file's extract and date
# (missing_delivery) or by its path (rejected_file); resolved once the corrected or late file
# arrived, except a stray unknown file, which nothing corrects.
FILE_KINDS = {
    "late_file": "missing_delivery",
    "truncated_file": "rejected_file",
    "wrong_header": "rejected_file",
    "empty_file": "rejected_file",
    "unknown_file": "rejected_file",
}
# Defects the ingestion and staging layers absorb: they must raise no exception at all.
ABSORBED_KINDS = {
    "duplicate_file",
    "duplicate_line",
    "out_of_order_webshop_event",
}


@dataclass(frozen=True)
class Defect:
    defect_id: str
    kind: str
    file: str
    detail: dict


def manifest(truth: Path) -> list[Defect]:
    """The injected defects of a simulated world (its truth folder's defects.csv)."""
    with (truth / "defects.csv").open() as handle:
        return [
            Defect(row["defect_id"], row["kind"], row["file"], json.loads(row["detail"]))
            for row in csv.DictReader(handle)
        ]


def delivery_stem(file: str) -> str:
    """A landing file's extract and business date, without its re-delivery number: a file
    that failed as a whole is re-delivered as <prefix>_<YYYYMMDD>_<n>, spoiled rows included."""
    return (
        re.sub(r"_\d+$", "", Path(file).stem)
        if re.search(r"_\d{8}_\d+$", Path(file).stem)
        else Path(file).stem
    )


def file_date(file: str) -> date:
    """The business date in a landing file's name (<prefix>_<YYYYMMDD>[_<n>].<ext>)."""
    digits = next(p for p in Path(file).stem.split("_") if p.isdigit() and len(p) == 8)
    return date(int(digits[:4]), int(digits[4:6]), int(digits[6:]))


@dataclass
class Queue:
    """The exception queue and the lookups that place a defect's rows."""

    exceptions: pd.DataFrame
    entity_of_location: dict[str, str]
    entity_of_store: dict[str, str]
    three_way: pd.DataFrame
    location_of_store: dict[str, str]

    def of_type(self, exception_type: str) -> pd.DataFrame:
        return self.exceptions[self.exceptions["exception_type"] == exception_type]

    def keyed(self, exception_type: str, natural_key: str) -> pd.DataFrame:
        frame = self.of_type(exception_type)
        return frame[frame["natural_key"] == natural_key]

    def episodes(self, exception_type: str, prefix: str, day: date) -> pd.DataFrame:
        """Balance breaks of a series (natural key prefix) whose episode covers day."""
        frame = self.of_type(exception_type)
        return frame[
            frame["natural_key"].str.startswith(prefix)
            & (frame["first_seen_date"] <= day)
            & (frame["last_seen_date"] >= day)
        ]

    def since(self, exception_type: str, prefix: str, day: date) -> pd.DataFrame:
        """Balance breaks of a series that started on or after day (a lasting effect)."""
        frame = self.of_type(exception_type)
        return frame[frame["natural_key"].str.startswith(prefix) & (frame["last_seen_date"] >= day)]


def query(con: duckdb.DuckDBPyConnection, sql: str) -> pd.DataFrame:
    """A query's rows, with *_date columns as dates."""
    frame = con.execute(sql).df()
    for column in frame.columns:
        if column.endswith("_date"):
            frame[column] = pd.to_datetime(frame[column]).dt.date
    return frame


def load_queue(con: duckdb.DuckDBPyConnection) -> Queue:
    """The queue from the public marts (a build warehouse or a served copy)."""
    locations = query(con, "select * from marts.dim_location")
    stores = locations[locations["pos_store_code"].fillna("") != ""]
    return Queue(
        exceptions=query(con, "select * from marts.mart_exceptions"),
        entity_of_location=dict(
            zip(locations["location_id"], locations["entity_code"], strict=True)
        ),
        entity_of_store=dict(zip(stores["pos_store_code"], stores["entity_code"], strict=True)),
        three_way=query(con, "select * from marts.mart_reconciliation_three_way_match"),
        location_of_store=dict(zip(stores["pos_store_code"], stores["location_id"], strict=True)),
    )


def spoiled_row(defect: Defect) -> dict:
    """The row a row-level defect spoiled, as it was before the spoiling."""
    return defect.detail.get("row") or defect.detail.get("original_row") or {}


def extract_of(file: str) -> str:
    """The extract of a landing file, from its name."""
    return re.sub(r"_\d{8}$", "", delivery_stem(file))


def lost_file_entities(queue: Queue, defect: Defect) -> set[str]:
    """The entities whose sales a lost daily sales file carried."""
    if "per_store" in defect.detail:
        return {queue.entity_of_location[s["location_id"]] for s in defect.detail["per_store"]}
    return {queue.entity_of_location["MP1"]}


def row_entity(queue: Queue, defect: Defect) -> str:
    """The entity of a spoiled POS or marketplace row."""
    row = spoiled_row(defect)
    if "pos_store_code" in row:
        return queue.entity_of_store[row["pos_store_code"]]
    return queue.entity_of_location["MP1"]


def matches(queue: Queue, defect: Defect) -> pd.DataFrame:
    """The exceptions that show one injected defect."""
    d = defect.detail
    parts: list[pd.DataFrame] = []
    if defect.kind in ("gl_batch_late", "gl_batch_missing"):
        entity, day = d["entity_code"], date.fromisoformat(d["source_business_date"])
        if defect.kind == "gl_batch_late":
            parts.append(queue.keyed("late_event", f"erp_gl_journal|{d['journal_number']}"))
        if d["batch_type"] == "sales":
            parts.append(queue.keyed("sales_gl_break", f"{entity}|{day}"))
        else:
            parts.append(queue.episodes("inventory_gl_break", f"{entity}|", day))
    elif defect.kind == "wms_count_difference":
        day = date.fromisoformat(d["snapshot_date"])
        parts.append(queue.episodes("on_hand_wms_break", f"{d['location_id']}|{d['sku']}|", day))
    elif defect.kind == "duplicate_supplier_invoice":
        parts.append(
            queue.keyed("duplicate_supplier_invoice", f"{d['supplier_id']}|{d['invoice_number']}")
        )
    elif defect.kind == "pos_price_mismatch":
        key = f"pos:{d['pos_store_code']}:{d['receipt_number']}:{d['receipt_line_number']}"
        parts.append(queue.keyed("pos_price_mismatch", key))
    elif defect.kind == "late_receipt":
        parts.append(
            queue.keyed("late_event", f"erp_goods_receipt|{d['receipt_number']}|{d['sku']}")
        )
        day = date.fromisoformat(d["physical_date"])
        parts.append(queue.episodes("on_hand_wms_break", f"{d['location_id']}|{d['sku']}|", day))
        # stock issued before the receipt was booked can go below zero meanwhile
        negative = queue.of_type("negative_available_stock")
        parts.append(
            negative[
                negative["natural_key"].str.startswith(f"{d['location_id']}|{d['sku']}|")
                & (negative["first_seen_date"] >= day)
                & (negative["first_seen_date"] < date.fromisoformat(d["recorded_date"]))
            ]
        )
    elif defect.kind == "unknown_item_code":
        system = "pos" if d["column"] == "barcode" else "marketplace"
        parts.append(queue.keyed("unresolved_item_code", f"{system}|{d['value']}"))
    elif defect.kind == "duplicate_freight_invoice":
        parts.append(
            queue.keyed("duplicate_supplier_invoice", f"{d['supplier_id']}|{d['invoice_number']}")
        )
    elif defect.kind in LOST_FILE_KINDS:
        day = d["business_date"]
        parts.append(queue.keyed("missing_delivery", f"{extract_of(defect.file)}|{day}"))
        for entity in sorted(lost_file_entities(queue, defect)):
            parts.append(queue.keyed("sales_gl_break", f"{entity}|{day}"))
    elif defect.kind in ANOMALY_KINDS:
        parts.append(anomaly_matches(queue, defect))
        if defect.kind == "volume_break":
            for entity in sorted(lost_file_entities(queue, defect)):
                parts.append(queue.keyed("sales_gl_break", f"{entity}|{d['business_date']}"))
    elif defect.kind in QUARANTINED_KINDS:
        quarantined = queue.of_type("quarantined_row")
        parts.append(
            quarantined[
                quarantined["natural_key"].map(
                    lambda key: (
                        delivery_stem(key.split("|")[0]) == delivery_stem(defect.file)
                        and key.split("|")[1] == str(d["row_number"])
                    )
                )
            ]
        )
        entity, day = row_entity(queue, defect), file_date(defect.file)
        parts.append(queue.keyed("sales_gl_break", f"{entity}|{day}"))
    return pd.concat(parts) if parts else queue.exceptions.iloc[0:0]


def customer_hash(customer_id: str) -> str:
    """A webshop customer's hash as the warehouse holds it (macro hash_pii: SHA-256 of the
    salt, '|' and the normalised e-mail address), with this environment's salt."""
    email = customer_email(pd.Series([customer_id]))[0]
    return hashlib.sha256(f"{pii_salt()}|{email.strip().lower()}".encode()).hexdigest()


def anomaly_matches(queue: Queue, defect: Defect) -> pd.DataFrame:
    """The exceptions of an anomaly's own detector that point at it: its store, SKU, supplier
    or feed, seen on or after the anomaly began."""
    d = defect.detail
    found = queue.of_type(ANOMALY_KINDS[defect.kind])
    if defect.kind == "shrink_spike":
        return found[found["natural_key"] == f"{d['location_id']}|{d['business_date']}"]
    if defect.kind == "volume_break":
        return found[found["natural_key"] == f"pos_sales|{d['business_date']}"]
    prefix = {
        "return_rate_outlier": lambda: f"{d['location_id']}|",
        "sku_return_rate_outlier": lambda: f"{d['sku']}|",
        "customer_return_rate_outlier": lambda: f"{customer_hash(d['customer_id'])}|",
        "systematic_underpricing": lambda: f"{d['location_id']}|",
        "stock_imbalance": lambda: f"{d['out_of_stock_location_id']}|{d['sku']}|",
        "supplier_cost_creep": lambda: f"{d['supplier_id']}|",
        "stock_out_risk": lambda: f"{d['entity_code']}|{d['sku']}|",
    }[defect.kind]()
    return found[
        found["natural_key"].str.startswith(prefix)
        & (found["last_seen_date"] >= date.fromisoformat(d["from_date"]))
    ]


def file_exception_key(defect: Defect) -> str:
    """The natural key of the completeness exception that shows a whole-file defect."""
    if FILE_KINDS[defect.kind] == "missing_delivery":
        extract = re.sub(r"_\d{8}$", "", delivery_stem(defect.file))
        return f"{extract}|{file_date(defect.file)}"
    return defect.file


def shown_with_impact(found: pd.DataFrame) -> bool:
    """A defect of a detected kind is caught when an exception shows it with a value at stake."""
    return bool((found["affected_value_reporting"].fillna(0).astype(float).abs() > 0).any())


def is_caught(queue: Queue, defect: Defect) -> bool:
    """Whether the queue shows an injected defect as its kind requires."""
    if defect.kind in FILE_KINDS:
        return not queue.keyed(FILE_KINDS[defect.kind], file_exception_key(defect)).empty
    if defect.kind in REFUSED_KINDS:
        return not queue.keyed(REFUSED_KINDS[defect.kind], defect.file).empty
    if defect.kind in ANOMALY_KINDS:  # its own detector must show it
        return shown_with_impact(anomaly_matches(queue, defect))
    return shown_with_impact(matches(queue, defect))


@dataclass(frozen=True)
class Audit:
    """Injected defects by kind: caught, missed, and absorbed by design."""

    caught: dict[str, int]
    missed: list[Defect]
    absorbed: dict[str, int]
    unaudited: dict[str, int]

    @property
    def injected(self) -> int:
        return sum(self.caught.values()) + len(self.missed)

    def lines(self) -> list[str]:
        caught = sum(self.caught.values())
        out = [
            f"{caught} of {self.injected} injected defects caught, {len(self.missed)} missed "
            "(truth/defects.csv against the exception queue)"
        ]
        if self.absorbed:
            out.append(
                f"{sum(self.absorbed.values())} more absorbed by design, no exception: "
                + ", ".join(f"{kind} {n}" for kind, n in sorted(self.absorbed.items()))
            )
        out += [f"MISSED {d.defect_id} {d.kind}: {d.file}" for d in self.missed]
        if self.unaudited:
            out.append(
                "kinds this audit does not know: "
                + ", ".join(f"{kind} {n}" for kind, n in sorted(self.unaudited.items()))
            )
        return out


def audit(truth: Path, con: duckdb.DuckDBPyConnection) -> Audit:
    """What the warehouse (or served copy) behind `con` caught of the world's defects."""
    queue = load_queue(con)
    caught: dict[str, int] = {}
    missed: list[Defect] = []
    absorbed: dict[str, int] = {}
    unaudited: dict[str, int] = {}
    for defect in manifest(truth):
        if defect.kind in ABSORBED_KINDS:
            absorbed[defect.kind] = absorbed.get(defect.kind, 0) + 1
        elif defect.kind not in (*DETECTED_KINDS, *FILE_KINDS, *REFUSED_KINDS):
            unaudited[defect.kind] = unaudited.get(defect.kind, 0) + 1
        elif is_caught(queue, defect):
            caught[defect.kind] = caught.get(defect.kind, 0) + 1
        else:
            missed.append(defect)
    return Audit(caught, missed, absorbed, unaudited)
