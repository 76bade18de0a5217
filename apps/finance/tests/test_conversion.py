import datetime as dt
from decimal import Decimal

import pytest
from django.test import override_settings

from apps.core.exceptions import MissingExchangeRate
from apps.finance.selectors import RateTable, exchange_rate_get, to_base

from .factories import CurrencyFactory, ExchangeRateFactory, base_currency

pytestmark = pytest.mark.django_db

DAY = dt.date(2025, 3, 10)


@pytest.fixture
def usd_rates():
    usd = CurrencyFactory(code="USD")
    ExchangeRateFactory(currency=usd, rate_date=DAY - dt.timedelta(days=1), rate=Decimal("7.0"))
    ExchangeRateFactory(currency=usd, rate_date=DAY, rate=Decimal("7.2345"))
    return usd


def test_conversion_uses_the_rate_of_the_day(usd_rates):
    amount_base, rate = to_base(amount=Decimal("19.99"), currency="USD", on_date=DAY)
    assert rate == Decimal("7.2345")
    assert amount_base == Decimal("144.62")  # 19.99 × 7.2345 = 144.617655 → half up


def test_base_currency_converts_at_one():
    base_currency()
    assert to_base(amount=Decimal("5.55"), currency="CNY", on_date=DAY) == (Decimal("5.55"), Decimal("1"))


def test_a_weekend_day_takes_the_latest_rate_within_the_allowed_age(usd_rates):
    assert exchange_rate_get(currency="USD", on_date=DAY + dt.timedelta(days=2)) == Decimal("7.2345")


@override_settings(EXCHANGE_RATE_MAX_AGE_DAYS=0)
def test_a_missing_rate_is_a_clear_error_naming_currency_and_date(usd_rates):
    with pytest.raises(MissingExchangeRate) as excinfo:
        to_base(amount=Decimal("1"), currency="USD", on_date=DAY + dt.timedelta(days=1))
    assert "USD" in str(excinfo.value) and "2025-03-11" in str(excinfo.value)


def test_a_currency_without_any_rate_is_an_error():
    CurrencyFactory(code="EUR")
    with pytest.raises(MissingExchangeRate, match="EUR"):
        exchange_rate_get(currency="EUR", on_date=DAY)


def test_rate_table_agrees_with_the_single_lookup(usd_rates):
    table = RateTable(start=DAY - dt.timedelta(days=5), end=DAY + dt.timedelta(days=5))
    for offset in range(-1, 4):
        day = DAY + dt.timedelta(days=offset)
        assert table.rate("USD", day) == exchange_rate_get(currency="USD", on_date=day)
    with pytest.raises(MissingExchangeRate):
        table.rate("USD", DAY - dt.timedelta(days=2))
