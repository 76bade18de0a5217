"""The business day of a stored instant as an integer (days since 1970-01-01), computed in SQL over
many rows. Integers make sums, means, comparisons and buckets of days plain arithmetic.

On PostgreSQL a named time zone (`AT TIME ZONE 'Asia/Shanghai'`) costs about a microsecond per
row, several times the rest of a scan of an index. Within a period a zone has one UTC offset, or a
few with DST: those stretches are found here in Python (zoneinfo), and the SQL adds the offset of
the row's stretch to the UTC instant, which costs next to nothing. The answer is the same as the
named zone's. Other databases use their own conversion."""
import datetime as dt
from zoneinfo import ZoneInfo

from django.db.models import Func, IntegerField
from django.db.models.functions import TruncDate

EPOCH = dt.date(1970, 1, 1)
_DAY = dt.timedelta(days=1)


def offset_stretches(zone: ZoneInfo, since: dt.datetime, until: dt.datetime) -> list[tuple[dt.datetime, dt.timedelta]]:
    """(first instant, UTC offset) of each stretch of [since, until) that keeps one offset, in order;
    the first stretch starts at `since`."""
    since, until = since.astimezone(dt.UTC), until.astimezone(dt.UTC)
    stretches = [(since, since.astimezone(zone).utcoffset())]
    probe = since
    while probe < until:
        following = min(probe + _DAY, until)
        offset = following.astimezone(zone).utcoffset()
        if offset != stretches[-1][1]:
            stretches.append((_first_instant_with(zone, offset, probe, following), offset))
        probe = following
    return stretches


def _first_instant_with(zone: ZoneInfo, offset: dt.timedelta, before: dt.datetime, at: dt.datetime) -> dt.datetime:
    """The first whole second in (before, at] whose offset is `offset` (the offset changes once in it)."""
    low, high = before, at
    while high - low > dt.timedelta(seconds=1):
        middle = low + (high - low) / 2
        middle = middle.replace(microsecond=0)
        if middle.astimezone(zone).utcoffset() == offset:
            high = middle
        else:
            low = middle
    return high


class BusinessDayNumber(Func):
    """Days since 1970-01-01 of the business day (in `zone`) of a datetime column whose values lie in
    [since, until)."""

    output_field = IntegerField()

    def __init__(self, expression, *, zone: ZoneInfo, since: dt.datetime, until: dt.datetime):
        super().__init__(expression)
        self.zone, self.since, self.until = zone, since, until

    def as_sql(self, compiler, connection, **extra):  # SQLite: its own conversion of the time zone
        return compiler.compile(DateDayNumber(TruncDate(self.source_expressions[0], tzinfo=self.zone)))

    def as_postgresql(self, compiler, connection, **extra):
        # Django's PostgreSQL connections run in UTC (USE_TZ), so ::date of an instant moved by the
        # offset is the local date.
        column, params = compiler.compile(self.source_expressions[0])
        stretches = offset_stretches(self.zone, self.since, self.until)
        if len(stretches) == 1:
            offset_sql, offset_params = "%s::interval", [stretches[0][1]]
        else:
            whens, offset_params = [], []
            for starts, offset in reversed(stretches[1:]):
                whens.append(f"WHEN {column} >= %s THEN %s::interval")
                offset_params += [*params, starts, offset]
            offset_sql = f"CASE {' '.join(whens)} ELSE %s::interval END"
            offset_params.append(stretches[0][1])
        return (f"(({column} + {offset_sql})::date - DATE '1970-01-01')", (*params, *offset_params))


class DateDayNumber(Func):
    """Days since 1970-01-01 of a date column (a rollup's business day)."""

    output_field = IntegerField()

    def as_sql(self, compiler, connection, **extra):
        sql, params = compiler.compile(self.source_expressions[0])
        return f"CAST(julianday({sql}) - 2440587.5 AS INTEGER)", params

    def as_postgresql(self, compiler, connection, **extra):
        sql, params = compiler.compile(self.source_expressions[0])
        return f"({sql} - DATE '1970-01-01')", params


def bucket_number(day_number, interval: str, bucket_starts: list[dt.date]):
    """The day number of the first day of the day/week/month bucket of `day_number` (an expression),
    given the first days of every bucket it can fall in (in order)."""
    if interval == "day":
        return day_number
    if interval == "week":
        # 1970-01-01 was a Thursday: (n + 3) % 7 days have passed since Monday.
        return BucketOf(day_number, week=True)
    return BucketOf(day_number, starts=[(start - EPOCH).days for start in bucket_starts])


class BucketOf(Func):
    """The week's Monday (`week`), or `CASE WHEN n >= s_k THEN s_k … END` over the bucket starts."""

    output_field = IntegerField()

    def __init__(self, expression, *, starts: list[int] | None = None, week: bool = False):
        super().__init__(expression)
        self.starts, self.week = starts, week

    def as_sql(self, compiler, connection, **extra):
        sql, params = compiler.compile(self.source_expressions[0])
        if self.week:
            return f"(({sql}) - ((({sql}) + 3) %% 7))", (*params, *params)
        first, later = int(self.starts[0]), [int(start) for start in self.starts[1:]]
        if not later:
            return str(first), ()
        whens = " ".join(f"WHEN ({sql}) >= {start} THEN {start}" for start in reversed(later))
        return f"CASE {whens} ELSE {first} END", [param for _ in later for param in params]

