"""Business day numbers in SQL agree with zoneinfo, at day boundaries and across DST changes."""
import datetime as dt
from zoneinfo import ZoneInfo

import pytest
from django.db.models import F

from apps.core.daynumber import EPOCH, BusinessDayNumber, bucket_number, offset_stretches
from apps.sales.models import Customer
from apps.sales.tests.factories import CustomerFactory

NEW_YORK = ZoneInfo("America/New_York")
SHANGHAI = ZoneInfo("Asia/Shanghai")
UTC = dt.UTC


def test_a_zone_without_dst_has_one_stretch():
    since = dt.datetime(2025, 1, 1, tzinfo=SHANGHAI)
    assert offset_stretches(SHANGHAI, since, since + dt.timedelta(days=400)) == [
        (since.astimezone(UTC), dt.timedelta(hours=8))]


def test_dst_changes_start_new_stretches_at_the_exact_second():
    since = dt.datetime(2025, 1, 1, tzinfo=NEW_YORK)
    stretches = offset_stretches(NEW_YORK, since, dt.datetime(2026, 1, 1, tzinfo=NEW_YORK))
    assert stretches == [
        (since.astimezone(UTC), dt.timedelta(hours=-5)),
        (dt.datetime(2025, 3, 9, 7, 0, tzinfo=UTC), dt.timedelta(hours=-4)),
        (dt.datetime(2025, 11, 2, 6, 0, tzinfo=UTC), dt.timedelta(hours=-5)),
    ]


INSTANTS = [  # around New York's day boundaries and both DST changes of 2025
    dt.datetime(2025, 3, 9, 4, 59, 59, tzinfo=UTC), dt.datetime(2025, 3, 9, 5, 0, tzinfo=UTC),
    dt.datetime(2025, 3, 9, 6, 59, 59, tzinfo=UTC), dt.datetime(2025, 3, 9, 7, 0, tzinfo=UTC),
    dt.datetime(2025, 3, 10, 3, 59, 59, tzinfo=UTC), dt.datetime(2025, 3, 10, 4, 0, tzinfo=UTC),
    dt.datetime(2025, 11, 2, 3, 59, 59, tzinfo=UTC), dt.datetime(2025, 11, 2, 4, 0, tzinfo=UTC),
    dt.datetime(2025, 11, 2, 5, 59, 59, tzinfo=UTC), dt.datetime(2025, 11, 2, 6, 0, tzinfo=UTC),
    dt.datetime(2025, 11, 3, 4, 59, 59, tzinfo=UTC), dt.datetime(2025, 11, 3, 5, 0, tzinfo=UTC),
    dt.datetime(2025, 12, 31, 23, 30, tzinfo=UTC),
]


@pytest.mark.django_db
@pytest.mark.parametrize("zone", [NEW_YORK, SHANGHAI], ids=str)
@pytest.mark.parametrize("interval", ["day", "week", "month"])
def test_day_and_bucket_numbers_match_the_local_calendar(zone, interval):
    since, until = dt.datetime(2025, 3, 1, tzinfo=zone), dt.datetime(2026, 1, 1, tzinfo=zone)
    inside = [instant for instant in INSTANTS if since <= instant < until]
    for instant in inside:
        CustomerFactory(first_ordered_at=instant)
    month_starts = [dt.date(2025, month, 1) for month in range(3, 13)]
    day = BusinessDayNumber(F("first_ordered_at"), zone=zone, since=since, until=until)
    rows = Customer.objects.annotate(day=day, bucket=bucket_number(day, interval, month_starts)).values_list(
        "first_ordered_at", "day", "bucket")

    for instant, day_number, bucket in rows:
        local = instant.astimezone(zone).date()
        assert EPOCH + dt.timedelta(days=day_number) == local, instant
        expected = {
            "day": local,
            "week": local - dt.timedelta(days=local.weekday()),
            "month": local.replace(day=1),
        }[interval]
        assert EPOCH + dt.timedelta(days=bucket) == expected, (instant, interval)
    assert len(rows) == len(inside) >= len(INSTANTS) - 1
