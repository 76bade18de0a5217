"""What every part of the demo generator shares: options, the date range, random streams."""
import datetime as dt
import random
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from zoneinfo import ZoneInfo

from django.conf import settings

from apps.finance.selectors import RateTable

MONTHS_OF_HISTORY = 18


@dataclass(frozen=True)
class DemoOptions:
    orders: int = 20_000
    seed: int = 42
    end_date: dt.date | None = None
    batch_size: int = 2_000
    months: int = MONTHS_OF_HISTORY


def months_before(day: dt.date, months: int) -> dt.date:
    """The same day `months` earlier (clamped to the month's last day)."""
    month_index = day.year * 12 + day.month - 1 - months
    year, month = divmod(month_index, 12)
    month += 1
    next_month = dt.date(year + month // 12, month % 12 + 1, 1)
    last_day = (next_month - dt.timedelta(days=1)).day
    return dt.date(year, month, min(day.day, last_day))


def month_start(day: dt.date) -> dt.date:
    return day.replace(day=1)


def month_end(day: dt.date) -> dt.date:
    following = (day.replace(day=28) + dt.timedelta(days=4)).replace(day=1)
    return following - dt.timedelta(days=1)


def quantize_to(amount: Decimal, quantum: Decimal) -> Decimal:
    """Rounds to a currency's smallest unit (0.01, or 1 for JPY), kept with two decimal places."""
    return amount.quantize(quantum, rounding=ROUND_HALF_UP).quantize(Decimal("0.01"))


@dataclass
class DemoContext:
    options: DemoOptions
    start: dt.date
    end: dt.date
    tz: ZoneInfo
    base_currency: str
    # The demo's "now": the end of the end date in the business time zone.
    as_of: dt.datetime
    days: list[dt.date] = field(default_factory=list)
    rates: RateTable | None = None  # set once the demo's rates are written

    @classmethod
    def create(cls, options: DemoOptions, today: dt.date) -> "DemoContext":
        tz = ZoneInfo(settings.TIME_ZONE)
        end = options.end_date or today
        start = months_before(end, options.months) + dt.timedelta(days=1)
        days = [start + dt.timedelta(days=n) for n in range((end - start).days + 1)]
        return cls(
            options=options,
            start=start,
            end=end,
            tz=tz,
            base_currency=settings.BASE_CURRENCY,
            as_of=cls.local(tz, end + dt.timedelta(days=1)),
            days=days,
        )

    @staticmethod
    def local(tz: ZoneInfo, day: dt.date, hour: int = 0, minute: int = 0, second: int = 0) -> dt.datetime:
        return dt.datetime(day.year, day.month, day.day, hour, minute, second, tzinfo=tz)

    def at(self, day: dt.date, hour: int = 0, minute: int = 0, second: int = 0) -> dt.datetime:
        """An instant on a business day, in the business time zone."""
        return self.local(self.tz, day, hour, minute, second)

    def rng(self, stream: str) -> random.Random:
        """An independent, reproducible random stream per part, so one part's changes leave the
        others' data unchanged."""
        return random.Random(f"{self.options.seed}:{stream}")

    @property
    def batch_size(self) -> int:
        return self.options.batch_size

    def months(self) -> list[dt.date]:
        """First days of every month touched by the range."""
        months, day = [], month_start(self.start)
        while day <= self.end:
            months.append(day)
            day = month_end(day) + dt.timedelta(days=1)
        return months
