"""File-level defects as a source system's files suffer them: duplicated and late files,
truncated, wrong-header and empty ones (corrected by the next day's re-delivery), stray files,
and the no-silent-loss defects (missing and header-only files, spoiled re-deliveries, copies
under another date) with what a lost file would have carried."""

from __future__ import annotations

import hashlib
from datetime import date, timedelta
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from simulation import world as w
from simulation.defects import FAR_FUTURE_YEAR, GARBAGE_LINE, FileFaults, late_day_offsets
from simulation.money import round_half_up

if TYPE_CHECKING:
    from simulation.deliver import Deliverer


def apply_loss_fault(
    dlv: Deliverer,
    fault: str,
    extract,
    day: int,
    path: Path,
    content: bytes,
    frame: pd.DataFrame | list[dict],
) -> bool:
    """Apply a no-silent-loss file defect; False (and the defect passed on to the extract's
    next free file) when this file cannot take it: it has no data rows, or another defect
    names it (a copy or a loss would then hide or repeat that defect)."""
    relative = dlv.writer.relative(path)
    rows = len(frame)
    if rows == 0 or dlv.plan.referenced(relative):
        dlv.plan.defer(fault, extract.name, day)
        return False
    rng = dlv.plan.loss_rng
    business_date = dlv.config.day(day)
    delivery = date.fromisoformat(path.parent.name)
    base = {"business_date": business_date.isoformat(), "rows": rows}
    if fault in ("bad_redelivery_empty", "bad_redelivery_garbage"):
        dlv.writer.write_bytes(path, content)
        later = delivery + timedelta(days=int(rng.integers(1, 4)))
        header = content.partition(b"\n")[0] + b"\n"
        bad = header if fault == "bad_redelivery_empty" else GARBAGE_LINE
        redelivered = dlv.writer.write_bytes(
            dlv.writer.path_for(extract, business_date, later, sequence=2), bad
        )
        dlv.plan.record_loss(
            fault,
            extract.system,
            extract.name,
            redelivered,
            original_file=relative,
            business_date=business_date.isoformat(),
            original_delivered=delivery.isoformat(),
            delivered=later.isoformat(),
            rows_of_original=rows,
            content=bad.decode(),
        )
    elif fault in ("missing_daily_file", "header_only_daily_file"):
        if fault == "header_only_daily_file":
            header = b"" if extract.file_format == "jsonl" else content.partition(b"\n")[0]
            dlv.writer.write_bytes(path, header + b"\n" if header else b"")
        dlv.plan.record_loss(
            fault,
            extract.system,
            extract.name,
            relative,
            delivered=delivery.isoformat() if fault == "header_only_daily_file" else None,
            **base,
            **lost_impact(dlv, extract.name, frame),
        )
    elif fault == "far_future_business_date":
        dlv.writer.write_bytes(path, content)
        named = business_date + timedelta(days=400)
        if named <= dlv.config.end_date + timedelta(days=30) or rng.random() < 0.5:
            named = date(FAR_FUTURE_YEAR, business_date.month, min(business_date.day, 28))
        copy = dlv.writer.write_bytes(dlv.writer.path_for(extract, named, delivery), content)
        dlv.plan.record_loss(
            fault,
            extract.system,
            extract.name,
            copy,
            name_date=named.isoformat(),
            real_date=business_date.isoformat(),
            copy_of=relative,
            delivered=delivery.isoformat(),
            rows=rows,
        )
    elif fault == "duplicate_content_other_date":
        dlv.writer.write_bytes(path, content)
        other = day + dlv.plan.copy_offset[(extract.name, day)]
        other_date = dlv.config.day(other)
        copy = dlv.writer.write_bytes(
            dlv.writer.path_for(extract, other_date, dlv.config.day(other + 1), sequence=2),
            content,
        )
        own = dlv.writer.relative(dlv.writer.path_for(extract, other_date, other_date))
        dlv.plan.record_loss(
            fault,
            extract.system,
            extract.name,
            copy,
            copy_of=relative,
            content_date=business_date.isoformat(),
            name_date=other_date.isoformat(),
            delivered=dlv.config.day(other + 1).isoformat(),
            own_file=own,
            sha256=hashlib.sha256(content).hexdigest(),
            rows=rows,
        )
    else:
        raise ValueError(f"unknown no-silent-loss defect {fault!r}")
    return True


def lost_impact(dlv: Deliverer, extract_name: str, frame: pd.DataFrame | list[dict]) -> dict:
    """What a file that never (usefully) arrived would have carried: units and sales per
    store for the POS, per file for the marketplace, events and orders for the webshop.
    Money is in the file's currency: gross less discounts, less returns (gross less their
    discounts), as the truth's net sales."""
    if extract_name == "webshop_order_events":
        events = pd.DataFrame(frame)
        placed = [e for e in frame if e["event_type"] == "placed"]
        return {
            "events": len(frame),
            "events_by_type": events["event_type"].value_counts().sort_index().to_dict(),
            "order_ids": sorted(events["order_id"].unique().tolist()),
            "units_ordered": int(sum(x["quantity"] for e in placed for x in e["lines"])),
        }
    assert isinstance(frame, pd.DataFrame)
    if extract_name == "pos_sales":
        lines = pd.DataFrame(
            {
                "pos_store_code": frame["pos_store_code"],
                "currency_code": frame["currency_code"],
                "sold": frame["transaction_type"] == "sale",
                "units": frame["quantity"].astype(int),
                "gross": round_half_up(frame["quantity"] * frame["unit_price"]),
                "discount": frame["discount_amount"].astype(float),
            }
        )
        key = ["pos_store_code", "currency_code"]
    else:
        items = frame[frame["row_type"] == "item"]
        promotions = frame[frame["row_type"] == "promotion"]
        lines = pd.concat(
            [
                pd.DataFrame(
                    {
                        "sold": items["transaction_type"] == "order",
                        "units": items["quantity"].astype(int),
                        "gross": items["item_price_amount"].astype(float),
                        "discount": items["promotion_amount"].astype(float),
                    }
                ),
                pd.DataFrame(
                    {
                        "sold": promotions["transaction_type"] == "order",
                        "units": 0,
                        "gross": 0.0,
                        "discount": promotions["promotion_amount"].astype(float),
                    }
                ),
            ],
            ignore_index=True,
        ).assign(currency_code=frame["currency_code"].iloc[0])
        key = ["currency_code"]
    sold = lines["sold"]
    lines = lines.assign(
        units_sold=np.where(sold, lines["units"], 0),
        units_returned=np.where(sold, 0, lines["units"]),
        gross_sales=np.where(sold, lines["gross"], 0.0),
        discounts=np.where(sold, lines["discount"], 0.0),
        returns=np.where(sold, 0.0, lines["gross"] - lines["discount"]),
    )
    totals = lines.groupby(key, as_index=False)[
        ["units_sold", "units_returned", "gross_sales", "discounts", "returns"]
    ].sum()
    totals["net_sales"] = totals["gross_sales"] - totals["discounts"] - totals["returns"]
    for c in ("gross_sales", "discounts", "returns", "net_sales"):
        totals[c] = round_half_up(totals[c])
    if extract_name == "pos_sales":
        code_to_location = dict(
            zip(w.LOCATIONS["pos_store_code"], w.LOCATIONS["location_id"], strict=True)
        )
        totals.insert(1, "location_id", totals["pos_store_code"].map(code_to_location))
        return {"per_store": totals.to_dict("records")}
    return {"location_id": dlv.loc_ids[w.MARKETPLACE_LOCATION], **totals.iloc[0].to_dict()}


def apply_file_fault(
    dlv: Deliverer,
    fault: str,
    extract,
    business_date: date,
    delivery: date,
    path: Path,
    content: bytes,
) -> None:
    relative = dlv.writer.relative(path)
    next_day = delivery + timedelta(days=1)
    redelivery = dlv.writer.path_for(extract, business_date, next_day, sequence=2)
    if fault == "duplicate_file":
        dlv.writer.write_bytes(path, content)
        copy = dlv.writer.write_bytes(redelivery, content)
        dlv.plan.record(fault, extract.system, extract.name, copy, duplicate_of=relative)
    elif fault == "late_file":
        late = delivery + timedelta(days=late_day_offsets(dlv.plan.rng))
        moved = dlv.writer.write_bytes(dlv.writer.path_for(extract, business_date, late), content)
        dlv.plan.record(
            fault,
            extract.system,
            extract.name,
            moved,
            business_date=business_date.isoformat(),
            delivered=late.isoformat(),
        )
    elif fault in ("truncated_file", "wrong_header", "empty_file"):
        detail: dict = {}
        if fault == "truncated_file":
            bad = FileFaults.truncate(content)
            detail = {"bytes_written": len(bad), "bytes_expected": len(content)}
        elif fault == "wrong_header":
            bad, original, wrong = FileFaults.wrong_header(content, extract.column_names)
            detail = {"column": original, "header_value": wrong}
        else:
            bad = b""
        dlv.writer.write_bytes(path, bad)
        fixed = dlv.writer.write_bytes(redelivery, content)
        dlv.plan.record(fault, extract.system, extract.name, relative, corrected_by=fixed, **detail)
    elif fault == "unknown_file":
        dlv.writer.write_bytes(path, content)
        stray = path.parent / f"{extract.system}_export_{business_date:%Y%m%d}.xlsx"
        stray_rel = dlv.writer.write_bytes(stray, b"PK\x03\x04 not an extract\n")
        dlv.plan.record(fault, extract.system, "", stray_rel, near=relative)
