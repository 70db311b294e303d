"""What a minimal single-entity ERP retailer sends, as switches of the simulated world.

* ``--single-currency``: every entity, supplier and the marketplace keep their books and settle
  in the reporting currency (USD). The engine's amounts are unchanged numbers; every currency
  label the sources write (and the truth) is USD, every rate the engine applies is 1, and the
  ERP sends no FX extract (there is no rate to send).
* ``--no-supplier-invoices``: the ERP sends no supplier invoice extract. Receipts are valued at
  the purchase order's cost: there is no freight or duty invoice to add landed cost from.
* ``--sparse-master``: the master data leaves the attributes the contract marks optional empty
  for a fixed share of its rows, always the same rows (their own random stream): brand, the
  lower levels of the merchandise hierarchy, the case pack of SKUs sold by the each (case pack
  1, the contract's default, so that WMS case conversions stay true), a supplier's payment
  terms and country.
"""

from __future__ import annotations

from datetime import date

import numpy as np
import pandas as pd

from simulation import world as w
from simulation.config import WorldConfig
from simulation.fx import RateBook

# The random stream of sparse master data (docs: new behaviour draws from its own stream).
SPARSE_MASTER_STREAM = 1301
SPARSE_SHARE = 0.25

NOT_SENT_SINGLE_CURRENCY = frozenset({"erp_fx_rates"})
NOT_SENT_WITHOUT_INVOICES = frozenset({"erp_supplier_invoices"})


class IdentityRates(RateBook):
    """Rates of a single-currency world: every amount is already in the reporting currency."""

    def __init__(self) -> None:
        super().__init__(pd.DataFrame(columns=["rate_date", "from_currency_code"]))

    def rate(self, on: date, from_currency: str, to_currency: str) -> float:
        return 1.0


def rate_book(config: WorldConfig, fx: pd.DataFrame) -> RateBook:
    """The rates the engine converts with (the FX frame is drawn either way, so that the main
    random stream does not move)."""
    return IdentityRates() if config.single_currency else RateBook(fx)


def is_sent(config: WorldConfig, extract_name: str) -> bool:
    """Whether the world's sources deliver this extract at all."""
    if config.single_currency and extract_name in NOT_SENT_SINGLE_CURRENCY:
        return False
    return config.supplier_invoices or extract_name not in NOT_SENT_WITHOUT_INVOICES


def _relabel(value: object) -> object:
    if isinstance(value, dict):
        return {
            k: (w.REPORTING_CURRENCY if k.endswith("currency_code") else _relabel(v))
            for k, v in value.items()
        }
    if isinstance(value, list):
        return [_relabel(v) for v in value]
    return value


def in_reporting_currency(
    config: WorldConfig, frame: pd.DataFrame | list[dict]
) -> pd.DataFrame | list[dict]:
    """A frame or list of JSON records with every currency code the reporting currency, in a
    single-currency world; unchanged otherwise."""
    if not config.single_currency:
        return frame
    if isinstance(frame, list):
        return _relabel(frame)  # type: ignore[return-value]
    codes = [c for c in frame.columns if str(c).endswith("currency_code")]
    return frame.assign(**{c: w.REPORTING_CURRENCY for c in codes}) if codes else frame


def _sparse_rows(config: WorldConfig, n: int, salt: int) -> np.ndarray:
    """The same rows on every snapshot: a draw of its own stream per attribute."""
    rng = np.random.default_rng([config.seed, SPARSE_MASTER_STREAM, salt])
    return rng.random(n) < SPARSE_SHARE


def sparse_master(
    config: WorldConfig, extract_name: str, frame: pd.DataFrame | list[dict]
) -> pd.DataFrame | list[dict]:
    """The master snapshot with its optional attributes left empty on some rows."""
    if not config.sparse_master or not isinstance(frame, pd.DataFrame):
        return frame
    if extract_name == "erp_products":
        frame = frame.copy()
        n = len(frame)
        frame["brand"] = frame["brand"].where(~_sparse_rows(config, n, 1), None)
        no_subcategory = _sparse_rows(config, n, 2)
        frame["subcategory"] = frame["subcategory"].where(~no_subcategory, None)
        # a product without a category has no subcategory either
        no_category = no_subcategory & _sparse_rows(config, n, 3)
        frame["category"] = frame["category"].where(~no_category, None)
        by_the_each = frame["case_pack_units"].to_numpy() == 1
        frame["case_pack_units"] = frame["case_pack_units"].astype(object)
        frame.loc[by_the_each & _sparse_rows(config, n, 4), "case_pack_units"] = None
        return frame
    if extract_name == "erp_suppliers":
        frame = frame.copy()
        n = len(frame)
        frame["payment_terms_days"] = frame["payment_terms_days"].astype(object)
        frame.loc[_sparse_rows(config, n, 5), "payment_terms_days"] = None
        frame["country_code"] = frame["country_code"].where(~_sparse_rows(config, n, 6), None)
        return frame
    return frame


def as_delivered(
    config: WorldConfig, extract_name: str, frame: pd.DataFrame | list[dict]
) -> pd.DataFrame | list[dict] | None:
    """What the sources write for an extract's frame: None when the extract is not sent."""
    if not is_sent(config, extract_name):
        return None
    return sparse_master(config, extract_name, in_reporting_currency(config, frame))
