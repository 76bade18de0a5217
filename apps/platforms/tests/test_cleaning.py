"""The converters every connector cleans with."""
import datetime as dt
from decimal import Decimal

import pytest

from apps.platforms.connectors import cleaning
from apps.platforms.connectors.errors import CleaningError


@pytest.mark.parametrize("raw, amount", [("12.5", "12.50"), (" 7.125 ", "7.12"), (3, "3.00"), ("0", "0.00")])
def test_an_amount_is_a_decimal_in_cents(raw, amount):
    assert cleaning.money(raw, "total") == Decimal(amount)
    assert cleaning.money(raw, "total") == Decimal(amount)  # the second time from the cache of amounts


@pytest.mark.parametrize("raw", ["abc", "NaN", "Infinity", "1e40", "12,50"])
def test_an_amount_that_is_not_one_is_a_cleaning_error_every_time(raw):
    for _ in range(2):
        with pytest.raises(CleaningError):
            cleaning.money(raw, "total")


def test_a_missing_amount_is_an_error_only_when_required():
    assert cleaning.money("", "tax", required=False) == Decimal("0.00")
    with pytest.raises(CleaningError):
        cleaning.money(None, "total")


def test_the_cache_of_amounts_stays_bounded(monkeypatch):
    monkeypatch.setattr(cleaning, "_AMOUNTS_KEPT", 10)
    monkeypatch.setattr(cleaning, "_AMOUNTS", {})
    for cents in range(25):
        assert cleaning.money(f"{cents / 100:.2f}", "price") == Decimal(cents) / 100
    assert len(cleaning._AMOUNTS) <= 10


@pytest.mark.parametrize("raw", ["2024-04-25T16:15:47-04:00", "2024-04-25T20:15:47Z", "2024-04-25T20:15:47+00:00",
                                 1714076147])
def test_a_timestamp_is_aware_utc(raw):
    assert cleaning.timestamp(raw, "created_at") == dt.datetime(2024, 4, 25, 20, 15, 47, tzinfo=dt.UTC)


@pytest.mark.parametrize("raw", ["not-a-date", "2024-04-25T16:15:47"])
def test_a_timestamp_without_a_zone_or_not_one_is_a_cleaning_error(raw):
    with pytest.raises(CleaningError):
        cleaning.timestamp(raw, "created_at")
