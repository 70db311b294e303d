"""The ERP's exchange rates: daily rates per ordered pair of currencies on the weekdays the ECB
publishes, and the gap rule the truth converts with (docs/glossary.md)."""

from __future__ import annotations

from datetime import date, timedelta

import numpy as np
import pandas as pd

from simulation.config import WorldConfig
from simulation.world import CURRENCIES

OPENING_RATE_DAYS = 7  # the first FX file also carries the week before the period
FX_MAX_GAP_DAYS = 4  # the gap rule of docs/glossary.md; dbt var fx_max_gap_days must agree


def easter_sunday(year: int) -> date:
    """Gregorian Easter Sunday (the anonymous Gregorian algorithm)."""
    a, b, c = year % 19, year // 100, year % 100
    d, e = b // 4, b % 4
    f = (b + 8) // 25
    g = (b - f + 1) // 3
    h = (19 * a + b - d - g + 15) % 30
    i, k = c // 4, c % 4
    l_ = (32 + 2 * e + 2 * i - h - k) % 7
    m = (a + 11 * h + 22 * l_) // 451
    month = (h + l_ - 7 * m + 114) // 31
    return date(year, month, (h + l_ - 7 * m + 114) % 31 + 1)


def rate_holidays(year: int) -> set[date]:
    """Weekdays on which the ERP publishes no rates (the TARGET closing days of the ECB, whose
    reference rates it takes): New Year, Good Friday, Easter Monday, 1 May, 25 and 26 December.
    Good Friday and Easter Monday make the longest gap of the year: Easter Monday converts at
    Thursday's rates, four days back, exactly the gap rule's limit (FX_MAX_GAP_DAYS)."""
    easter = easter_sunday(year)
    return {
        date(year, 1, 1),
        easter - timedelta(days=2),
        easter + timedelta(days=1),
        date(year, 5, 1),
        date(year, 12, 25),
        date(year, 12, 26),
    }


def fx_rates(config: WorldConfig, rng: np.random.Generator) -> pd.DataFrame:
    """The ERP's daily rates: weekdays that are not rate holidays, every ordered pair of
    currencies, 6 decimals. They start a week before the period so that its first days have a
    rate whatever the weekday."""
    days = [config.day(i) for i in range(-OPENING_RATE_DAYS, config.days)]
    holidays = set().union(*(rate_holidays(y) for y in range(days[0].year, days[-1].year + 1)))
    n = len(days)
    usd_per = {
        "USD": np.ones(n),
        "EUR": 1.08 * np.exp(np.cumsum(rng.normal(0, 0.004, n))),
        "GBP": 1.27 * np.exp(np.cumsum(rng.normal(0, 0.004, n))),
    }
    rows = []
    for i, day in enumerate(days):
        if day.weekday() >= 5 or day in holidays:
            continue
        for a in CURRENCIES:
            for b in CURRENCIES:
                if a != b:
                    rows.append((day, a, b, round(float(usd_per[a][i] / usd_per[b][i]), 6)))
    return pd.DataFrame(
        rows, columns=["rate_date", "from_currency_code", "to_currency_code", "exchange_rate"]
    )


class RateBook:
    """Looks up the ERP rate for a business date with the gap rule of docs/glossary.md."""

    def __init__(self, rates: pd.DataFrame) -> None:
        self._rates = {
            (r.rate_date, r.from_currency_code, r.to_currency_code): r.exchange_rate
            for r in rates.itertuples()
        }

    def rate(self, on: date, from_currency: str, to_currency: str) -> float:
        if from_currency == to_currency:
            return 1.0
        for back in range(FX_MAX_GAP_DAYS + 1):
            key = (on - timedelta(days=back), from_currency, to_currency)
            if key in self._rates:
                return self._rates[key]
        raise LookupError(f"no {from_currency}->{to_currency} rate within gap of {on}")
