"""The ERP's general ledger: each business date's sales and inventory journals per entity,
posted the next day (some batches late or missing)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import pandas as pd

from simulation import world as w
from simulation.defects import late_day_offsets
from simulation.kits import production_journal
from simulation.money import round_half_up

if TYPE_CHECKING:
    from simulation.deliver import Deliverer
    from simulation.engine import DayOutput

# General ledger accounts by role, from the chart of accounts seed (one definition of the chart).
CHART_OF_ACCOUNTS = Path(__file__).resolve().parents[2] / "seeds" / "chart_of_accounts.csv"
ACCOUNT = dict(
    pd.read_csv(CHART_OF_ACCOUNTS, dtype=str)[["account_role", "account_code"]].itertuples(
        index=False
    )
)
# The clearing account role of each sales channel, from the channels seed (one definition).
CHANNELS = CHART_OF_ACCOUNTS.parent / "channels.csv"
CLEARING = dict(
    pd.read_csv(CHANNELS, dtype=str)[["channel", "clearing_account_role"]].itertuples(index=False)
)


def gl_journal_lines(dlv: Deliverer, d: int, out: DayOutput) -> None:
    """The ERP posts each business date's sales and inventory batches the next day."""
    if d > 0:
        post_batches(dlv, d - 1)
    rows = dlv.later["gl_rows"].pop(d, [])
    columns = dlv.writer.contract["erp_gl_journal_lines"].column_names
    dlv.write_file("erp_gl_journal_lines", d, pd.DataFrame(rows, columns=columns))
    dlv.later["gl_source"][d] = [
        out.sales_frame(),
        out.valued,
        dlv.frames(out, "goods_receipts"),
    ]


def post_batches(dlv: Deliverer, source_day: int) -> None:
    sales, valued, receipts = dlv.later["gl_source"].pop(source_day)
    source = dlv.config.day(source_day)
    batches = {}
    for entity in w.ENTITIES["entity_code"]:
        batches[(entity, "sales")] = sales_journal(dlv, entity, sales)
        batches[(entity, "inventory")] = inventory_journal(dlv, entity, valued, receipts)
    spoiled: dict[tuple[str, str], str] = {}
    for kind in ("gl_batch_late", "gl_batch_missing"):
        free = sorted(k for k, v in batches.items() if v and k not in spoiled)
        n = dlv.plan.take(kind, source_day, len(free))
        for i in sorted(dlv.plan.rng.choice(len(free), size=n, replace=False).tolist()):
            spoiled[free[i]] = kind
    for (entity, batch), lines in sorted(batches.items()):
        if not lines:
            continue
        journal = f"JE-{entity}-{source:%Y%m%d}-{batch.upper()}"
        detail = {
            "journal_number": journal,
            "entity_code": entity,
            "batch_type": batch,
            "source_business_date": source.isoformat(),
            "debit_total": round(sum(x[1] for x in lines), 2),
        }
        post_day = source_day + 1
        if spoiled.get((entity, batch)) == "gl_batch_missing":
            dlv.plan.record("gl_batch_missing", "erp", "erp_gl_journal_lines", "", **detail)
            continue
        if spoiled.get((entity, batch)) == "gl_batch_late":
            post_day += late_day_offsets(dlv.plan.rng)
            file = dlv.writer.path_for(
                dlv.writer.contract["erp_gl_journal_lines"],
                dlv.config.day(post_day),
                dlv.config.day(post_day),
            )
            dlv.plan.record(
                "gl_batch_late",
                "erp",
                "erp_gl_journal_lines",
                dlv.writer.relative(file),
                posting_date=dlv.config.day(post_day).isoformat(),
                **detail,
            )
        currency = w.ENTITY_CURRENCY[entity]
        dlv.later["gl_rows"][post_day].extend(
            (
                journal,
                n,
                entity,
                dlv.config.day(post_day),
                source,
                batch,
                ACCOUNT[account],
                debit,
                credit,
                currency,
            )
            for n, (account, debit, credit) in enumerate(lines, 1)
        )


def journal_line(account: str, amount: float) -> tuple[str, float, float]:
    """A journal line for a signed amount: positive debits the account, negative credits."""
    amount = float(round_half_up(amount))
    return (account, amount, 0.0) if amount >= 0 else (account, 0.0, -amount)


def sales_journal(dlv: Deliverer, entity: str, sales: pd.DataFrame) -> list:
    if sales.empty:
        return []
    mine = sales[sales["entity_code"] == entity]
    lines = []
    for channel, g in mine.groupby("channel", sort=True):
        sold, ret = g[~g["is_return"]], g[g["is_return"]]
        gross, disc = sold["gross"].sum(), sold["discount"].sum()
        returns = (ret["gross"] - ret["discount"]).sum()
        tax = sold["tax"].sum() - ret["tax"].sum()
        fees = g["fee"].sum()
        charged = gross - disc - returns + tax
        lines += [
            journal_line(CLEARING[channel], charged),
            journal_line("revenue", -gross),
            journal_line("discounts", disc),
            journal_line("returns", returns),
            journal_line("sales_tax_payable", -tax),
        ]
        if fees:
            lines += [
                journal_line("marketplace_fees", fees),
                journal_line("marketplace_receivable", -fees),
            ]
    return [x for x in lines if x[1] or x[2]]


def inventory_journal(
    dlv: Deliverer, entity: str, valued: pd.DataFrame, receipts: pd.DataFrame
) -> list:
    if valued is None or valued.empty:
        return []
    v = valued[valued["entity_code"] == entity]
    issue = v.loc[v["event_type"] == "issue", "amount"].sum()
    back = v.loc[v["event_type"] == "return_restock", "amount"].sum()
    received = v.loc[v["event_type"] == "receipt", "amount"].sum()
    opened = v.loc[v["event_type"] == "opening_balance", "amount"].sum()
    adjust = v.loc[v["event_type"].isin(["adjustment", "adjustment_at_cost"]), "amount"].sum()
    sent = v.loc[(v["event_type"] == "transfer_out") & (v["amount"] != 0), "amount"].sum()
    came = v.loc[(v["event_type"] == "transfer_in") & (v["amount"] != 0), "amount"].sum()
    goods = 0.0
    if not receipts.empty:
        r = receipts[receipts["entity_code"] == entity]
        goods = float(round_half_up(r["received_units"] * r["unit_cost"]).sum())
    lines = [
        journal_line("inventory", opened),
        journal_line("opening_balance_equity", -opened),
        journal_line("cogs", issue - back),
        journal_line("inventory", -(issue - back)),
        journal_line("inventory", received),
        journal_line("grni", -goods),
        journal_line("landed_cost_accrual", -(round(received, 2) - goods)),
        journal_line("shrinkage", -adjust),
        journal_line("inventory", adjust),
        journal_line("intercompany_receivable", sent),
        journal_line("inventory", -sent),
        journal_line("inventory", came),
        journal_line("intercompany_payable", -came),
        *(journal_line(account, amount) for account, amount in production_journal(v, dlv.sim)),
    ]
    return [x for x in lines if x[1] or x[2]]
