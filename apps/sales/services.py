"""Sales writes: base-currency amounts of an order and the daily sales rollups."""
import datetime as dt
from collections.abc import Iterable
from decimal import Decimal
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db import connection, transaction
from django.db.models import Case, Count, DecimalField, F, Lookup, OuterRef, Subquery, Sum, Value, When
from django.db.models.functions import Coalesce, TruncDate
from django.utils.dateparse import parse_datetime

from apps.core.exceptions import InvalidStateTransition
from apps.core.money import MONEY_DECIMAL_PLACES, MONEY_MAX_DIGITS, ZERO, money_from_sql, quantize_money
from apps.users.models import AuditLog

from .models import Customer, Order, OrderLine, SalesDaily, SalesTarget, SkuSalesDaily

# Orders that count as sales: paid at some point and not cancelled (refunds are reported apart).
COUNTED_ORDER_STATUSES = tuple(
    status for status in Order.Status.values if status not in (Order.Status.PENDING, Order.Status.CANCELLED)
)

BASE_AMOUNT_FIELDS = (
    ("items_amount", "items_amount_base"),
    ("shipping_amount", "shipping_amount_base"),
    ("tax_amount", "tax_amount_base"),
    ("discount_amount", "discount_amount_base"),
    ("platform_fee", "platform_fee_base"),
    ("refund_amount", "refund_amount_base"),
    ("total_amount", "total_amount_base"),
)

# Rollups are rebuilt a window at a time so memory stays bounded however long the range.
_REBUILD_WINDOW_DAYS = 31


def order_amounts_to_base(*, order: Order, rate: Decimal, lines: Iterable[OrderLine] = ()) -> None:
    """Sets the order's rate and every base-currency amount (and its lines' totals); saves nothing."""
    order.exchange_rate = rate
    for amount_field, base_field in BASE_AMOUNT_FIELDS:
        setattr(order, base_field, quantize_money(getattr(order, amount_field) * rate))
    for line in lines:
        line.line_total_base = quantize_money(line.line_total * rate)


def _money_output() -> DecimalField:
    return DecimalField(max_digits=MONEY_MAX_DIGITS, decimal_places=MONEY_DECIMAL_PLACES)


def _line_cost():
    """Quantity × unit cost of a line; a line without a known cost costs 0."""
    return Sum(
        F("quantity") * Coalesce("unit_cost_base", Value(ZERO), output_field=_money_output()),
        output_field=_money_output(),
    )


def _business_bounds(start: dt.date, end: dt.date, tz: ZoneInfo) -> tuple[dt.datetime, dt.datetime]:
    """The UTC instants of `start` 00:00 and `end + 1` 00:00 in the business time zone."""
    return (
        dt.datetime.combine(start, dt.time.min, tzinfo=tz),
        dt.datetime.combine(end + dt.timedelta(days=1), dt.time.min, tzinfo=tz),
    )


class _InIdsOf(Lookup):
    """`lhs IN (ids a queryset selects)`. On PostgreSQL written `lhs = ANY(ARRAY(subquery))`: the
    ids are computed first and the lines are probed through their order index, where a plain IN is
    planned as a hash join over every line of the table (each page's rebuild would grow with it)."""

    lookup_name = "in_ids_of"  # not registered on any field: used directly
    prepare_rhs = False

    def get_prep_lookup(self):
        return self.rhs

    def _subquery(self, compiler):
        sql, params = compiler.compile(self.rhs)  # a resolved subquery compiles to "(SELECT …)"
        if not (sql.startswith("(") and sql.endswith(")")):
            sql = f"({sql})"
        return sql, params

    def as_sql(self, compiler, connection):
        lhs, lhs_params = self.process_lhs(compiler, connection)
        sub_sql, sub_params = self._subquery(compiler)
        return f"{lhs} IN {sub_sql}", (*lhs_params, *sub_params)

    def as_postgresql(self, compiler, connection):
        lhs, lhs_params = self.process_lhs(compiler, connection)
        sub_sql, sub_params = self._subquery(compiler)
        return f"{lhs} = ANY(ARRAY{sub_sql})", (*lhs_params, *sub_params)


def _insert_select(model, columns: dict[str, str], select: str, params) -> None:
    """INSERT INTO model's table (fields, the keys of `columns`) SELECT the `columns` values FROM `select`."""
    quote = connection.ops.quote_name
    targets = ", ".join(quote(model._meta.get_field(name).column) for name in columns)
    values = ", ".join(columns.values())
    with connection.cursor() as cursor:
        cursor.execute(f"INSERT INTO {quote(model._meta.db_table)} ({targets}) SELECT {values} {select}", params)


def _rebuild_window(*, start: dt.date, end: dt.date, shop_ids: list[int] | None) -> None:
    """Writes the SalesDaily and SkuSalesDaily rows of these days' counted orders (of the shops);
    the caller has deleted the rows of those days and shops first."""
    tz = ZoneInfo(settings.TIME_ZONE)
    since, until = _business_bounds(start, end, tz)
    orders = Order.objects.filter(status__in=COUNTED_ORDER_STATUSES, ordered_at__gte=since, ordered_at__lt=until)
    if shop_ids is not None:
        orders = orders.filter(shop_id__in=shop_ids)
    lines = OrderLine.objects.filter(_InIdsOf(F("order_id"), orders.order_by().values("pk")))

    # The database groups and inserts; no row passes through Python. Each order's units and cost are
    # sums of its own lines, read by an index probe per order (joining lines directly would repeat the
    # order's amounts once per line). Probes keep the cost linear whatever the planner believes: right
    # after a bulk load in the same transaction it takes the shop to have no orders, and a join of the
    # order rows with grouped lines was then planned as a loop re-grouping every line for each order.
    lines_of = OrderLine.objects.filter(order_id=OuterRef("pk")).order_by().values("order_id")
    per_order = orders.values(
        r_day=TruncDate("ordered_at", tzinfo=tz), r_shop=F("shop_id"),
        r_platform=F("shop__platform_id"), r_country=F("buyer_country"), r_gross=F("total_amount_base"),
        r_refunds=F("refund_amount_base"), r_fees=F("platform_fee_base"),
        r_single=Case(When(customer__isnull=False, repeat_buyer=False, then=Value(1)), default=Value(0)),
        r_guest=Case(When(customer__isnull=True, then=Value(1)), default=Value(0)),
        r_units=Subquery(lines_of.annotate(units=Sum("quantity")).values("units")),
        r_cogs=Subquery(lines_of.annotate(cost=_line_cost()).values("cost"), output_field=_money_output()),
    ).order_by()
    order_sql, order_params = per_order.query.sql_with_params()
    # Amounts are whole cents already; ROUND only clears the float noise of SQLite's sums.
    _insert_select(
        SalesDaily,
        {
            "date": "o.r_day", "shop": "o.r_shop", "platform": "o.r_platform", "buyer_country": "o.r_country",
            "orders_count": "COUNT(*)", "units": "COALESCE(SUM(o.r_units), 0)",
            "gross_sales_base": "ROUND(SUM(o.r_gross), 2)", "refunds_base": "ROUND(SUM(o.r_refunds), 2)",
            "platform_fees_base": "ROUND(SUM(o.r_fees), 2)", "cogs_base": "ROUND(COALESCE(SUM(o.r_cogs), 0), 2)",
            "single_orders": "SUM(o.r_single)", "guest_orders": "SUM(o.r_guest)",
            "single_net_base": "ROUND(SUM(CASE WHEN o.r_single = 1 THEN o.r_gross - o.r_refunds ELSE 0 END), 2)",
        },
        f"FROM ({order_sql}) o GROUP BY o.r_day, o.r_shop, o.r_platform, o.r_country",
        order_params,
    )

    sku_groups = (
        lines.filter(product__isnull=False)
        .values(r_day=TruncDate("order__ordered_at", tzinfo=tz), r_shop=F("order__shop_id"), r_product=F("product_id"))
        .annotate(
            r_orders=Count("order_id", distinct=True), r_units=Sum("quantity"), r_gross=Sum("line_total_base"),
            r_cogs=_line_cost(),
        )
        .order_by()
    )
    sku_sql, sku_params = sku_groups.query.sql_with_params()
    _insert_select(
        SkuSalesDaily,
        {
            "date": "s.r_day", "shop": "s.r_shop", "product": "s.r_product", "orders_count": "s.r_orders",
            "units": "COALESCE(s.r_units, 0)", "gross_sales_base": "ROUND(COALESCE(s.r_gross, 0), 2)",
            "cogs_base": "ROUND(COALESCE(s.r_cogs, 0), 2)",
        },
        f"FROM ({sku_sql}) s",
        sku_params,
    )


class RollupDelta:
    """The rollup figures of orders that are in no rollup yet, grouped as SalesDaily and SkuSalesDaily
    rows, for sales_rollups_add. A writer that has just created orders knows their figures: adding
    them costs one statement per table, where a rebuild re-reads every order of their days."""

    def __init__(self):
        # (day, shop, country) -> [platform, orders, units, gross, refunds, fees, cogs, single orders,
        # their net, guest orders]
        self.daily: dict[tuple, list] = {}
        self.sku: dict[tuple, list] = {}  # (day, shop, product) -> [orders, units, gross, cogs]

    def add_order(self, *, day: dt.date, shop_id: int, platform_id: int, country: str, status: str, gross: Decimal,
                  refunds: Decimal, fees: Decimal, lines: Iterable[tuple], has_buyer: bool, repeat: bool) -> None:
        """`lines`: (product id or None, quantity, line total in base currency, unit cost in base
        currency or None) of each line. Amounts are in cents already, so the sums are exact.
        An order with a buyer is added as a single buyer's unless `repeat` (its repeat_buyer flag as
        written): customers_first_order_advance, which checks the flags, moves those it corrects."""
        if status not in COUNTED_ORDER_STATUSES:
            return
        daily = self.daily.setdefault((day, shop_id, country), [platform_id, 0, 0, ZERO, ZERO, ZERO, ZERO, 0, ZERO, 0])
        daily[1] += 1
        daily[3] += gross
        daily[4] += refunds
        daily[5] += fees
        if not has_buyer:
            daily[9] += 1
        elif not repeat:
            daily[7] += 1
            daily[8] += gross - refunds
        products = set()
        for product_id, quantity, total, unit_cost in lines:
            cost = quantity * unit_cost if unit_cost is not None else ZERO
            daily[2] += quantity
            daily[6] += cost
            if product_id is not None:
                sku = self.sku.setdefault((day, shop_id, product_id), [0, 0, ZERO, ZERO])
                if product_id not in products:
                    products.add(product_id)
                    sku[0] += 1
                sku[1] += quantity
                sku[2] += total
                sku[3] += cost


@transaction.atomic(savepoint=False)  # see orders_upsert: no savepoint round trips
def sales_rollups_add(delta: RollupDelta) -> None:
    """Adds the figures of orders that are in no rollup yet (tested equal to a rebuild of their days)."""
    _rows_add(SalesDaily, keys=("date", "shop", "buyer_country"), others=("platform",),
              summed=("orders_count", "units", "gross_sales_base", "refunds_base", "platform_fees_base", "cogs_base",
                      "single_orders", "single_net_base", "guest_orders"),
              rows=[(*key, *figures) for key, figures in delta.daily.items()])
    _rows_add(SkuSalesDaily, keys=("date", "shop", "product"), others=(),
              summed=("orders_count", "units", "gross_sales_base", "cogs_base"),
              rows=[(*key, *figures) for key, figures in delta.sku.items()])


_ROWS_PER_ADD = 500


def _rows_add(model, *, keys: tuple, others: tuple, summed: tuple, rows: list[tuple]) -> None:
    """INSERT rows (values of keys, others, summed) … ON CONFLICT (keys) DO UPDATE: a row whose key
    is stored already has its `summed` fields increased by the row's."""
    quote = connection.ops.quote_name
    table = quote(model._meta.db_table)
    fields = [model._meta.get_field(name) for name in (*keys, *others, *summed)]
    columns = [quote(field.column) for field in fields]
    conflict = ", ".join(columns[: len(keys)])
    sums = ", ".join(f"{column} = {table}.{column} + EXCLUDED.{column}" for column in columns[len(keys) + len(others):])
    upsert = f" ON CONFLICT ({conflict}) DO UPDATE SET {sums}"
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            if rows:  # a column each: the same short statement for any number of rows
                arrays = ", ".join(f"%s::{field.db_type(connection)}[]" for field in fields)
                cursor.execute(f"INSERT INTO {table} ({', '.join(columns)}) SELECT * FROM unnest({arrays})" + upsert,
                               [[field.get_db_prep_value(value, connection) for value in column]
                                for field, column in zip(fields, zip(*rows))])
            return
        row_sql = "(" + ", ".join(["%s"] * len(columns)) + ")"
        for start in range(0, len(rows), _ROWS_PER_ADD):
            chunk = rows[start:start + _ROWS_PER_ADD]
            cursor.execute(
                f"INSERT INTO {table} ({', '.join(columns)}) VALUES {', '.join([row_sql] * len(chunk))}" + upsert,
                [field.get_db_prep_value(value, connection) for row in chunk for field, value in zip(fields, row)],
            )


@transaction.atomic(savepoint=False)  # see orders_upsert: no savepoint round trips
def customers_first_order_advance(earliest: dict[int, dt.datetime], buyers: Iterable[int] = ()) -> None:
    """After orders were created: sets the first order of each customer (id -> the time of their
    earliest new counted order) to that time where it is earlier than the one stored, or none is:
    all that adding orders can do to a customer's first order. The repeat-buyer flags of those
    customers and of `buyers` (the other buyers of the new orders) are then checked and corrected:
    a writer sets a new order's flag from what it knew of its buyer, which another transaction may
    have changed since."""
    if not earliest and not buyers:
        return
    quote = connection.ops.quote_name
    customers = quote(Customer._meta.db_table)
    where = (f" WHERE {customers}.id = v.id AND ({customers}.first_ordered_at IS NULL"
             f" OR {customers}.first_ordered_at > v.t)")
    _repeat_flags_check(sorted({*earliest, *buyers}))
    if not earliest:
        return
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            # Two arrays: the same short statement for any number of customers (a UNION of one SELECT
            # per customer took ~15 ms a page to plan).
            cursor.execute(
                f"UPDATE {customers} SET first_ordered_at = v.t"
                f" FROM unnest(%s::bigint[], %s::timestamptz[]) AS v(id, t)" + where,
                [list(earliest), list(earliest.values())],
            )
            return
        field = Customer._meta.get_field("first_ordered_at")
        items = list(earliest.items())
        for start in range(0, len(items), _ROWS_PER_ADD):
            chunk = items[start:start + _ROWS_PER_ADD]
            values = " UNION ALL ".join(["SELECT %s AS id, %s AS t"] * len(chunk))
            cursor.execute(
                f"UPDATE {customers} SET first_ordered_at = v.t FROM ({values}) v" + where,
                [value for pk, moment in chunk for value in (pk, field.get_db_prep_value(moment, connection))],
            )


def _is_repeat_buyer(customer_id_sql: str) -> tuple[str, list]:
    """SQL (and its parameters) true when the customer whose id is `customer_id_sql` has two or
    more counted orders. Counted through the customer/time index (it holds the status), so the cost
    stays that of the customers asked about however large the table grows. The status is tested
    inside the sum on purpose: as a condition, a table without statistics yet (a first collection)
    had the planner AND in a scan of the status index, every paid order per customer."""
    orders = connection.ops.quote_name(Order._meta.db_table)
    statuses = ", ".join(["%s"] * len(COUNTED_ORDER_STATUSES))
    return (f"COALESCE((SELECT SUM(CASE WHEN o.status IN ({statuses}) THEN 1 ELSE 0 END)"
            f" FROM {orders} o WHERE o.customer_id = {customer_id_sql}), 0) >= 2", list(COUNTED_ORDER_STATUSES))


def _repeat_flags_check(customer_ids: list[int]) -> None:
    """Sets the repeat-buyer flags of these customers and of their orders to what their orders say."""
    if not customer_ids:
        return
    repeat, params = _is_repeat_buyer("c.id")
    if connection.vendor == "postgresql":  # one array: the same short statement for any number
        _repeat_flags_update(f"SELECT c.id, {repeat} FROM unnest(%s::bigint[]) AS c(id)", [*params, customer_ids])
        return
    for start in range(0, len(customer_ids), _ROWS_PER_ADD):
        chunk = customer_ids[start:start + _ROWS_PER_ADD]
        ids = " UNION ALL ".join(["SELECT %s AS id"] * len(chunk))
        _repeat_flags_update(f"SELECT c.id, {repeat} FROM ({ids}) c", [*params, *chunk])


def _repeat_flags_update(truth_sql: str, params: list) -> None:
    """Sets repeat-buyer flags to the truth: `truth_sql` gives (customer id, whether they are a
    repeat buyer) for the customers to set. Their flag and their orders' flags take that value where
    they differ, and the counted orders whose flag changed move into or out of their day rollup's
    single-buyer figures (a day whose rollup row is missing is one being rebuilt, which counts the
    order by its new flag). On PostgreSQL all of it is one statement; elsewhere the changed orders
    come back (RETURNING) and are followed from here."""
    quote = connection.ops.quote_name
    orders, customers = quote(Order._meta.db_table), quote(Customer._meta.db_table)
    returned = ", ".join(f"{orders}.{quote(column)}" for column in (
        "customer_id", "ordered_at", "shop_id", "buyer_country", "status", "total_amount_base",
        "refund_amount_base", "repeat_buyer"))
    if connection.vendor != "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(truth_sql, params)
            truth = {pk: bool(repeat) for pk, repeat in cursor.fetchall()}
            flipped = []
            for flag in (True, False):
                ids = [pk for pk, repeat in truth.items() if repeat is flag]
                for start in range(0, len(ids), _ROWS_PER_ADD):
                    chunk = ids[start:start + _ROWS_PER_ADD]
                    marks = ", ".join(["%s"] * len(chunk))
                    cursor.execute(f"UPDATE {orders} SET repeat_buyer = %s WHERE customer_id IN ({marks})"
                                   f" AND repeat_buyer <> %s RETURNING {returned}", [flag, *chunk, flag])
                    flipped.extend(cursor.fetchall())
                    cursor.execute(f"UPDATE {customers} SET repeat_buyer = %s WHERE id IN ({marks})"
                                   f" AND repeat_buyer <> %s", [flag, *chunk, flag])
        _repeat_flags_follow(flipped)
        return
    daily = quote(SalesDaily._meta.db_table)
    single, single_net, day, shop, country = _single_columns()
    statuses = ", ".join(["%s"] * len(COUNTED_ORDER_STATUSES))
    with connection.cursor() as cursor:
        # Joins, not `= ANY(array)`: as a filter an array is searched element by element for every
        # row (a month's rebuild took 28 s that way); the planner sizes a join by the truth's rows.
        cursor.execute(
            f"WITH truth (customer_id, repeat) AS MATERIALIZED ({truth_sql}),"
            f" flipped (customer_id, ordered_at, shop_id, country, status, gross, refunds, repeat) AS ("
            f"UPDATE {orders} SET repeat_buyer = t.repeat FROM truth t"
            f" WHERE {orders}.customer_id = t.customer_id AND {orders}.repeat_buyer <> t.repeat"
            f" RETURNING {returned}),"
            # The customers by their primary key as well: `id = ANY(ARRAY(...))` is an index condition
            # there, probed once per id (as _InIdsOf does), not a filter; joined alone, a table of some
            # ten thousand customers was hashed whole for a page's 250 (5-7 ms).
            f" followed AS (UPDATE {customers} SET repeat_buyer = t.repeat FROM truth t"
            f" WHERE {customers}.id = ANY(ARRAY(SELECT customer_id FROM truth))"
            f" AND {customers}.id = t.customer_id AND {customers}.repeat_buyer <> t.repeat)"
            f" UPDATE {daily} SET {single} = {daily}.{single} + a.k, {single_net} = {daily}.{single_net} + a.net"
            f" FROM (SELECT (ordered_at AT TIME ZONE %s)::date AS day, shop_id, country,"
            f" SUM(CASE WHEN repeat THEN -1 ELSE 1 END) AS k,"
            f" SUM(CASE WHEN repeat THEN refunds - gross ELSE gross - refunds END) AS net"
            f" FROM flipped WHERE status IN ({statuses}) GROUP BY 1, 2, 3) a"
            f" WHERE {daily}.{day} = a.day AND {daily}.{shop} = a.shop_id AND {daily}.{country} = a.country",
            [*params, settings.TIME_ZONE, *COUNTED_ORDER_STATUSES],
        )


def _repeat_flags_follow(flipped: list[tuple]) -> None:
    """_repeat_flags_update's following of the rollups, in Python (SQLite): rows are the changed
    orders' customer, time, shop, country, status, gross, refunds and new flag."""
    tz = ZoneInfo(settings.TIME_ZONE)
    changes: dict[tuple, list] = {}
    for _, ordered_at, shop_id, country, status, gross, refunds, repeat in flipped:
        if status not in COUNTED_ORDER_STATUSES:
            continue
        if isinstance(ordered_at, str):
            ordered_at = parse_datetime(ordered_at)
        if ordered_at.tzinfo is None:  # SQLite stores UTC without an offset
            ordered_at = ordered_at.replace(tzinfo=dt.UTC)
        net = money_from_sql(gross) - money_from_sql(refunds)
        change = changes.setdefault((ordered_at.astimezone(tz).date(), shop_id, country), [0, ZERO])
        sign = -1 if repeat else 1
        change[0] += sign
        change[1] += sign * net
    if not changes:
        return
    table = connection.ops.quote_name(SalesDaily._meta.db_table)
    orders, net, day, shop, country = _single_columns()
    with connection.cursor() as cursor:
        cursor.executemany(
            f"UPDATE {table} SET {orders} = {orders} + %s, {net} = {net} + %s"
            f" WHERE {day} = %s AND {shop} = %s AND {country} = %s",
            [(k, connection.ops.adapt_decimalfield_value(amount, MONEY_MAX_DIGITS, MONEY_DECIMAL_PLACES),
              connection.ops.adapt_datefield_value(key_day), shop_id, key_country)
             for (key_day, shop_id, key_country), (k, amount) in changes.items()],
        )


def _single_columns() -> tuple[str, ...]:
    """SalesDaily's single-buyer columns and its key, quoted: single orders, their net, day, shop, country."""
    return tuple(connection.ops.quote_name(SalesDaily._meta.get_field(name).column)
                 for name in ("single_orders", "single_net_base", "date", "shop", "buyer_country"))


@transaction.atomic
def sales_rollups_rebuild(
    *, start: dt.date, end: dt.date, shop_ids: list[int] | None = None, batch_size: int = 2000,
) -> None:
    """Recomputes SalesDaily and SkuSalesDaily for business days start..end (and the given shops),
    and the first order of the customers those days concern.
    `batch_size` is accepted for existing callers; the database now writes each window in one statement.
    A caller that has only created orders adds them with sales_rollups_add instead."""
    if end < start:
        return
    # The buyers' flags first: the windows count single buyers' orders by them, and the flags this
    # changes on other days move those orders in their days' rows.
    _first_orders_refresh(start=start, end=end, shop_ids=shop_ids)
    stale_daily = SalesDaily.objects.filter(date__gte=start, date__lte=end)
    stale_sku = SkuSalesDaily.objects.filter(date__gte=start, date__lte=end)
    if shop_ids is not None:
        stale_daily = stale_daily.filter(shop_id__in=shop_ids)
        stale_sku = stale_sku.filter(shop_id__in=shop_ids)
    stale_daily.delete()
    stale_sku.delete()

    window_start = start
    while window_start <= end:
        window_end = min(end, window_start + dt.timedelta(days=_REBUILD_WINDOW_DAYS - 1))
        _rebuild_window(start=window_start, end=window_end, shop_ids=shop_ids)
        window_start = window_end + dt.timedelta(days=1)


def _first_orders_refresh(*, start: dt.date, end: dt.date, shop_ids: list[int] | None) -> None:
    """Sets Customer.first_ordered_at (the earliest counted order) of every customer whose first
    order may have changed with the orders of these days: those with an order on them, and those
    whose first order was on them (it may have been cancelled, deleted or moved to another buyer).
    Rows already right are not written."""
    since, until = _business_bounds(start, end, ZoneInfo(settings.TIME_ZONE))
    with_orders = Order.objects.filter(ordered_at__gte=since, ordered_at__lt=until, customer__isnull=False)
    first_here = Customer.objects.filter(first_ordered_at__gte=since, first_ordered_at__lt=until)
    if shop_ids is not None:
        with_orders, first_here = with_orders.filter(shop_id__in=shop_ids), first_here.filter(shop_id__in=shop_ids)
    candidates = with_orders.order_by().values("customer_id").union(first_here.order_by().values("pk"))
    # The candidates' ids first, then one primary-key probe each (_InIdsOf): never a scan of every
    # customer, however the planner sizes the candidates.
    among = Customer.objects.filter(_InIdsOf(F("pk"), candidates)).query
    among_sql, among_params = among.where.as_sql(among.get_compiler(connection=connection), connection)
    quote = connection.ops.quote_name
    customers, orders = quote(Customer._meta.db_table), quote(Order._meta.db_table)
    statuses = ", ".join(["%s"] * len(COUNTED_ORDER_STATUSES))
    first = (f"(SELECT MIN(o.ordered_at) FROM {orders} o"
             f" WHERE o.customer_id = {customers}.id AND o.status IN ({statuses}))")
    differs = "IS DISTINCT FROM" if connection.vendor == "postgresql" else "IS NOT"
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {customers} SET first_ordered_at = {first}"
            f" WHERE {among_sql} AND {customers}.first_ordered_at {differs} {first}",
            (*COUNTED_ORDER_STATUSES, *among_params, *COUNTED_ORDER_STATUSES),
        )
    # Both ways here: an order cancelled, deleted or moved to another buyer can end a repeat.
    repeat, repeat_params = _is_repeat_buyer(f"{customers}.id")
    _repeat_flags_update(f"SELECT {customers}.id, {repeat} FROM {customers} WHERE {among_sql}",
                         [*repeat_params, *among_params])


# Orders entered by hand and salespeople -----------------------------------------------------------

@transaction.atomic
def order_delete(*, order: Order, user=None) -> None:
    """Deletes an order whose stock has not moved; its books and rollups follow."""
    if order.lines.filter(stock_posted_at__isnull=False).exists():
        raise InvalidStateTransition("该订单已出库过账，不能删除；请改为取消或退款。")
    day = order.ordered_at.astimezone(ZoneInfo(settings.TIME_ZONE)).date()
    shop_id, pk, label = order.shop_id, order.pk, str(order)
    order.delete()
    sales_rollups_rebuild(start=day, end=day, shop_ids=[shop_id])
    AuditLog.objects.create(user=user, action="order.delete", object_type="sales.order", object_id=str(pk),
                            object_repr=label[:200])


@transaction.atomic
def salesperson_save(*, instance, targets: list[dict] | None = None, **fields):
    """Creates or edits a salesperson; `targets` (month, amount) replace the given months only."""
    for name, value in fields.items():
        setattr(instance, name, value)
    instance.save()
    for target in targets or []:
        SalesTarget.objects.update_or_create(
            salesperson=instance, month=target["month"],
            defaults={"target_amount_base": target["target_amount_base"]},
        )
    return instance
