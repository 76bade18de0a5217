"""Exchange-rate look-ups and base-currency conversion."""
import datetime as dt
from collections import defaultdict
from decimal import Decimal

from django.conf import settings

from apps.core.exceptions import MissingExchangeRate
from apps.core.money import quantize_money

from .models import ExchangeRate

ONE = Decimal("1")


def _missing(currency: str, on_date: dt.date) -> MissingExchangeRate:
    return MissingExchangeRate(
        f"缺少 {currency} → {settings.BASE_CURRENCY} 在 {on_date.isoformat()} 的汇率"
        f"（含此前 {settings.EXCHANGE_RATE_MAX_AGE_DAYS} 天内均无记录），请先维护汇率。",
        field="currency",
    )


def exchange_rate_get(*, currency: str, on_date: dt.date) -> Decimal:
    """The rate of `currency` to the base currency on `on_date`, or the latest within the allowed age."""
    if currency == settings.BASE_CURRENCY:
        return ONE
    oldest = on_date - dt.timedelta(days=settings.EXCHANGE_RATE_MAX_AGE_DAYS)
    rate = (
        ExchangeRate.objects.filter(
            currency_id=currency,
            base_currency_id=settings.BASE_CURRENCY,
            rate_date__lte=on_date,
            rate_date__gte=oldest,
        )
        .order_by("-rate_date")
        .values_list("rate", flat=True)
        .first()
    )
    if rate is None:
        raise _missing(currency, on_date)
    return rate


def to_base(*, amount: Decimal, currency: str, on_date: dt.date) -> tuple[Decimal, Decimal]:
    """Converts `amount` to the base currency at the day's rate; returns (amount_base, rate)."""
    rate = exchange_rate_get(currency=currency, on_date=on_date)
    return quantize_money(Decimal(amount) * rate), rate


class RateTable:
    """Rates for a date range held in memory, for bulk work (imports, demo data, collection).
    Same rule as `exchange_rate_get`: the day's rate, else the latest within the allowed age."""

    def __init__(self, *, start: dt.date, end: dt.date, currencies: set[str] | None = None):
        self.max_age = dt.timedelta(days=settings.EXCHANGE_RATE_MAX_AGE_DAYS)
        rows = ExchangeRate.objects.filter(
            base_currency_id=settings.BASE_CURRENCY,
            rate_date__gte=start - self.max_age,
            rate_date__lte=end,
        )
        if currencies is not None:
            rows = rows.filter(currency_id__in=currencies)
        self._rates: dict[str, dict[dt.date, Decimal]] = defaultdict(dict)
        for currency, rate_date, rate in rows.values_list("currency_id", "rate_date", "rate"):
            self._rates[currency][rate_date] = rate

    def rate(self, currency: str, on_date: dt.date) -> Decimal:
        if currency == settings.BASE_CURRENCY:
            return ONE
        by_day = self._rates.get(currency, {})
        day = on_date
        while on_date - day <= self.max_age:
            if day in by_day:
                return by_day[day]
            day -= dt.timedelta(days=1)
        raise _missing(currency, on_date)
