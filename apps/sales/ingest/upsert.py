"""Bulk upsert of orders for one shop. A batch costs a fixed number of queries, not one per order.

Stored orders and lines are read as value tuples and compared with what the batch says; what is new
or changed is written by a row writer (`fastwrite`: COPY on PostgreSQL, the ORM's bulk statements
elsewhere). The decisions below are made once, whichever writer writes them."""
import datetime as dt
import operator
from collections.abc import Sequence
from decimal import ROUND_HALF_UP
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from apps.core.exceptions import MissingExchangeRate
from apps.core.money import CENT, ZERO, quantize_money
from apps.finance.models import Currency
from apps.finance.selectors import RateTable
from apps.inventory.models import Product
from apps.platforms.models import Listing, Shop
from apps.sales.models import Customer, Order, OrderLine
from apps.sales.services import (
    COUNTED_ORDER_STATUSES,
    RollupDelta,
    customers_first_order_advance,
    sales_rollups_add,
    sales_rollups_rebuild,
)

from .effects import finance_records_write, lines_post_stock, may_leave_stock
from .fastwrite import ValuesIn, deferred_checks_run, row_writer
from .lines import LineMatch, StoredLine, lines_match
from .types import BatchTurn, CustomerData, OrderData, UpsertResult
from .validation import order_data_problem

# Fields compared to decide whether a stored order changed (and written when it did).
_ORDER_FIELDS = (
    "order_number", "status", "platform_status", "fulfillment_channel", "buyer_country", "currency_id",
    "items_amount", "shipping_amount", "tax_amount", "discount_amount", "platform_fee", "refund_amount",
    "total_amount", "exchange_rate", "items_amount_base", "shipping_amount_base", "tax_amount_base",
    "discount_amount_base", "platform_fee_base", "refund_amount_base", "total_amount_base", "ordered_at",
    "paid_at", "shipped_at", "delivered_at", "cancelled_at", "platform_updated_at", "customer_id",
)
_ORDERED_AT = _ORDER_FIELDS.index("ordered_at")
_CUSTOMER_ID = _ORDER_FIELDS.index("customer_id")
_LINE_FIELDS = ("platform_sku", "title", "quantity", "unit_price", "line_total", "line_total_base")
_QUANTITY, _LINE_TOTAL_BASE = _LINE_FIELDS.index("quantity"), _LINE_FIELDS.index("line_total_base")
_NEW_LINE_FIELDS = ("order_id", "platform_line_id", "listing_id", "product_id", "unit_cost_base", *_LINE_FIELDS)
_CUSTOMER_FIELDS = ("shop_id", "platform_buyer_id", "email", "name", "country", "first_ordered_at")


class _OrderRow:
    """An order as the upsert holds it: the attributes that base-amount conversion, finance records
    and the stock filter read from an Order, without a model instance per order."""

    __slots__ = ("pk", "shop_id", "platform_order_id", "repeat_buyer", *_ORDER_FIELDS)

    def values(self) -> tuple:
        """The values of _ORDER_FIELDS, in that order."""
        return _order_values(self)


_order_values = operator.attrgetter(*_ORDER_FIELDS)


def _customer_key(data: CustomerData | None) -> tuple[str, str] | None:
    if data is None:
        return None
    if data.platform_buyer_id:
        return ("id", data.platform_buyer_id)
    if data.email:
        return ("email", data.email.strip().lower())
    return None


def _resolve_customers(shop: Shop, orders: Sequence[OrderData], writer, known: dict[tuple[str, str], int],
                       counted: dict[int, int]) -> dict[tuple[str, str], int]:
    """Finds or creates each buyer once per shop: by platform buyer id, else by e-mail. `known` are
    buyers already found (the customers of the batch's stored orders): they are not looked up again.
    `counted` is given the stored counted orders of each buyer looked up (see _count_stored)."""
    wanted: dict[tuple[str, str], CustomerData] = {}
    # A new buyer is written with their first order of the batch, which the rollup step (a rebuild,
    # or customers_first_order_advance) would otherwise set with a second write of every new row.
    first_counted: dict[tuple[str, str], dt.datetime] = {}
    for order in orders:
        key = _customer_key(order.customer)
        if key is not None and key not in known:
            wanted.setdefault(key, order.customer)
            if order.status in COUNTED_ORDER_STATUSES and (key not in first_counted
                                                           or order.ordered_at < first_counted[key]):
                first_counted[key] = order.ordered_at
    if not wanted:
        return dict(known)
    ids = [v for kind, v in wanted if kind == "id"]
    # Only buyers known by e-mail alone are matched by e-mail (a buyer id always wins).
    emails = [v for kind, v in wanted if kind == "email"]
    found: dict[tuple[str, str], int] = dict(known)
    by_email: dict[str, int] = {}
    # Two look-ups in one query, each on its own index (an OR of both would scan the shop's customers);
    # `exclude(platform_buyer_id="")` repeats the unique index's condition so that index can be used.
    fields = ("pk", "platform_buyer_id", "email", "repeat_buyer", "first_ordered_at")
    of_shop = Customer.objects.filter(shop=shop).order_by()
    with_ids = of_shop.filter(ValuesIn(F("platform_buyer_id"), ids)).exclude(platform_buyer_id="").values_list(*fields)
    with_emails = of_shop.filter(ValuesIn(F("email"), emails)).values_list(*fields)
    for pk, buyer_id, email, repeat, first_ordered_at in with_ids.union(with_emails):
        _count_stored(counted, pk, repeat, first_ordered_at)
        if buyer_id:
            found[("id", buyer_id)] = pk
        if email:
            by_email.setdefault(email, pk)
    new_keys, new_rows = [], []
    for key, data in wanted.items():
        if key in found:
            continue
        email = data.email.strip().lower()
        if email in by_email and key[0] == "email":
            found[key] = by_email[email]
            continue
        new_keys.append(key)
        new_rows.append((shop.pk, data.platform_buyer_id, email, data.name[:200], (data.country or "")[:2].upper(),
                         first_counted.get(key)))
    if new_rows:
        found.update(zip(new_keys, writer.insert(Customer, _CUSTOMER_FIELDS, new_rows, return_ids=True)))
    return found


def _count_stored(counted: dict[int, int], customer_id: int, repeat_buyer: bool,
                  first_ordered_at: dt.datetime | None) -> None:
    """Records a customer's counted orders as their row tells (0, 1, or 2 for two or more), unless
    `counted` knows of more already (from the batch before, not committed yet)."""
    stored = 2 if repeat_buyer else (1 if first_ordered_at is not None else 0)
    counted[customer_id] = max(counted.get(customer_id, 0), stored)


def _resolve_listings(shop: Shop, orders: Sequence[OrderData],
                      known: dict[str, tuple[int, int | None]] | None = None) -> dict[str, tuple[int, int | None]]:
    """(listing id, product id) of the shop's listing for every SKU; unknown SKUs become listings,
    mapped when a master SKU of the same code exists, else unmapped (the pairing queue). `known`:
    listings found by earlier batches of the same transaction; it is given the ones found now."""
    titles: dict[str, str] = {}
    for order in orders:
        for line in order.lines:
            titles.setdefault(line.platform_sku, line.title)
    if known is not None:
        titles = {sku: title for sku, title in titles.items() if sku not in known}
        if not titles:
            return known

    def stored(skus) -> dict[str, tuple[int, int | None]]:
        return {
            sku: (pk, product_id)
            for sku, pk, product_id in Listing.objects.filter(ValuesIn(F("platform_sku"), list(skus)), shop=shop)
            .order_by().values_list("platform_sku", "pk", "product_id")
        }

    listings = stored(titles)
    missing = [sku for sku in titles if sku not in listings]
    if missing:
        same_sku = dict(Product.objects.filter(sku__in=missing).values_list("sku", "pk"))
        Listing.objects.bulk_create(
            [
                Listing(shop=shop, platform_sku=sku, title=titles[sku][:500], product_id=same_sku.get(sku),
                        currency_id=shop.currency_id)
                for sku in missing
            ],
            ignore_conflicts=True,
        )
        listings.update(stored(missing))
    if known is not None:
        known.update(listings)
        return known
    return listings


def _aware(moment: dt.datetime | None) -> dt.datetime | None:
    """A naive time read in the default time zone, as the ORM would store it (every writer alike)."""
    if moment is not None and timezone.is_naive(moment):
        return timezone.make_aware(moment)
    return moment


def _order_row(shop: Shop, data: OrderData, *, rate, customer_id) -> _OrderRow:
    row = _OrderRow()
    row.pk = None
    row.repeat_buyer = False
    row.shop_id = shop.pk
    row.platform_order_id = data.platform_order_id
    row.order_number = data.order_number[:64]
    row.status = data.status
    row.platform_status = data.platform_status[:64]
    row.fulfillment_channel = data.fulfillment_channel
    row.buyer_country = data.buyer_country.upper()
    row.currency_id = data.currency
    row.items_amount = data.items_amount
    row.shipping_amount = data.shipping_amount
    row.tax_amount = data.tax_amount
    row.discount_amount = data.discount_amount
    row.platform_fee = data.platform_fee
    row.refund_amount = data.refund_amount
    row.total_amount = data.total_amount
    row.ordered_at = data.ordered_at.astimezone(dt.UTC)
    row.paid_at = _aware(data.paid_at)
    row.shipped_at = _aware(data.shipped_at)
    row.delivered_at = _aware(data.delivered_at)
    row.cancelled_at = _aware(data.cancelled_at)
    row.platform_updated_at = _aware(data.platform_updated_at)
    row.customer_id = customer_id
    # order_amounts_to_base's rule (amount × rate, cents, half up), written out: no getattr/setattr
    # or Decimal() copy per amount, and no multiplication for the amounts that are 0 (most fees, refunds).
    row.exchange_rate = rate
    row.items_amount_base = (row.items_amount * rate).quantize(CENT, ROUND_HALF_UP) if row.items_amount else ZERO
    row.shipping_amount_base = (
        (row.shipping_amount * rate).quantize(CENT, ROUND_HALF_UP) if row.shipping_amount else ZERO)
    row.tax_amount_base = (row.tax_amount * rate).quantize(CENT, ROUND_HALF_UP) if row.tax_amount else ZERO
    row.discount_amount_base = (
        (row.discount_amount * rate).quantize(CENT, ROUND_HALF_UP) if row.discount_amount else ZERO)
    row.platform_fee_base = (row.platform_fee * rate).quantize(CENT, ROUND_HALF_UP) if row.platform_fee else ZERO
    row.refund_amount_base = (row.refund_amount * rate).quantize(CENT, ROUND_HALF_UP) if row.refund_amount else ZERO
    row.total_amount_base = (row.total_amount * rate).quantize(CENT, ROUND_HALF_UP) if row.total_amount else ZERO
    return row


def _line_values(data: OrderData, rate) -> list[tuple]:
    """The values in _LINE_FIELDS order of each line the batch gives for the order."""
    # quantize_money's rule (cents, half up) without its Decimal() copy: a hundred thousand lines a file.
    return [
        (line.platform_sku[:128], line.title[:500], line.quantity, line.unit_price, line.line_total,
         (line.line_total * rate).quantize(CENT, rounding=ROUND_HALF_UP))
        for line in data.lines
    ]


def _match_lines(stored: list[StoredLine], data: OrderData, values: list[tuple]) -> LineMatch:
    return lines_match(stored, [(line.platform_line_id[:64], value[0]) for line, value in zip(data.lines, values)])


def _lines_same(match: LineMatch, values: list[tuple]) -> bool:
    return not match.unmatched and not match.adopted_ids and all(
        stored is not None and stored.values == value for stored, value in zip(match.stored_for, values)
    )


# No savepoint inside a caller's transaction: its two round trips (and the savepoints of the services
# it calls, likewise without) are paid by every collected page, several of them in the part the
# pipelined pages take in turn. No caller goes on with its transaction after an error here; the
# error marks that transaction for rollback, so nothing of the batch is kept either way.
@transaction.atomic(savepoint=False)
def orders_upsert(*, shop: Shop, orders: Sequence[OrderData], defer_effects: bool = False,
                  listings_seen: dict | None = None, turn: BatchTurn | None = None) -> UpsertResult:
    """Stores a batch of one shop's orders exactly once: new ones are created, changed ones updated
    (with their lines, finance records, stock effects and rollups), identical ones left alone.

    With `defer_effects` stock is not posted nor rollups rebuilt: the caller (a file import writing
    many batches in one transaction) applies `result.rollup_days` and `result.leaving_order_ids` of
    all its batches once, with `deferred_effects_apply`, before the transaction ends.

    `listings_seen` (a dict the caller keeps, empty at first) carries the shop's listings from one
    batch to the next of the same transaction, so each SKU is looked up once, not once per batch.

    `turn`: this batch is stored while the one before it may still be (see BatchTurn)."""
    result = UpsertResult()
    known_currencies = set(Currency.objects.values_list("code", flat=True))
    latest: dict[str, OrderData] = {}
    for data in orders:
        problem = order_data_problem(data, known_currencies=known_currencies)
        if problem:
            result.rejected.append((data, problem))
            continue
        previous = latest.get(data.platform_order_id)
        if previous is None or (data.platform_updated_at or data.ordered_at) >= (
            previous.platform_updated_at or previous.ordered_at
        ):
            latest[data.platform_order_id] = data
    if not latest:
        return result

    tz = ZoneInfo(settings.TIME_ZONE)
    day_of = {pid: d.ordered_at.astimezone(tz).date() for pid, d in latest.items()}
    rates = RateTable(start=min(day_of.values()), end=max(day_of.values()))
    priced: list[tuple[OrderData, object]] = []
    for pid, data in latest.items():
        try:
            priced.append((data, rates.rate(data.currency, day_of[pid])))
        except MissingExchangeRate as exc:
            result.rejected.append((data, exc.message))
    if not priced:
        return result

    writer = row_writer()
    listings = _resolve_listings(shop, [d for d, _ in priced], listings_seen)
    product_ids = {product_id for _, product_id in listings.values() if product_id}
    costs = {
        pk: (cost, currency)
        for pk, cost, currency in Product.objects.filter(pk__in=product_ids).order_by().values_list(
            "pk", "cost_price", "cost_currency_id"
        )
    } if product_ids else {}
    existing: dict[str, tuple[int, list]] = {}
    # The customers of stored orders, by the key they answer to: read by primary key with their orders,
    # they are not looked up again by buyer id or e-mail.
    known_customers: dict[tuple[str, str], int] = {}
    # Customer id -> their counted orders as far as known (stored: 0, 1, or 2 for two or more; then
    # with the batch's new ones): a new order is written with its repeat-buyer flag from it, and
    # customers_first_order_advance, or the rebuild, corrects what another transaction changed meanwhile.
    counted: dict[int, int] = dict(turn.known_counted) if turn is not None else {}
    for pk, pid, *values in Order.objects.filter(
        ValuesIn(F("platform_order_id"), [d.platform_order_id for d, _ in priced]), shop=shop
    ).order_by().values_list("pk", "platform_order_id", *_ORDER_FIELDS):
        existing[pid] = (pk, values)
    # Their customers by primary key, in a query of their own: joined to the orders, the planner
    # hashed the whole customers table for a page's 250 (8 ms of a 9 ms look-up at 25,000 customers).
    stored_buyers = {values[_CUSTOMER_ID] for _, values in existing.values()} - {None}
    if stored_buyers:
        for customer_id, buyer_id, email, repeat, first_ordered_at in Customer.objects.filter(
            ValuesIn(F("pk"), list(stored_buyers)), shop=shop
        ).order_by().values_list("pk", "platform_buyer_id", "email", "repeat_buyer", "first_ordered_at"):
            _count_stored(counted, customer_id, repeat, first_ordered_at)
            if buyer_id:
                known_customers[("id", buyer_id)] = customer_id
            if email:
                known_customers.setdefault(("email", email), customer_id)
    if turn is not None:
        known_customers = {**turn.known_customers, **known_customers}
    customers = _resolve_customers(shop, [d for d, _ in priced], writer, known_customers, counted)
    for data, _ in priced:
        if data.status in COUNTED_ORDER_STATUSES and data.platform_order_id not in existing:
            customer_id = customers.get(_customer_key(data.customer))
            if customer_id is not None:
                counted[customer_id] = counted.get(customer_id, 0) + 1
    if turn is not None:
        turn.resolved(customers, counted)
    existing_lines: dict[int, list[StoredLine]] = {}
    if existing:
        for pk, order_id, line_id, *values, posted_at in OrderLine.objects.filter(
            ValuesIn(F("order_id"), [pk for pk, _ in existing.values()])
        ).order_by().values_list("pk", "order_id", "platform_line_id", *_LINE_FIELDS, "stock_posted_at"):
            existing_lines.setdefault(order_id, []).append(StoredLine(pk, line_id, values[0], tuple(values), posted_at))

    unit_costs: dict[tuple[int, dt.date], object] = {}

    def unit_cost(product_id, day):
        if product_id is None or product_id not in costs:
            return None
        if (product_id, day) not in unit_costs:
            cost, currency = costs[product_id]
            try:
                unit_costs[product_id, day] = quantize_money(cost * rates.rate(currency, day))
            except MissingExchangeRate:
                unit_costs[product_id, day] = None
        return unit_costs[product_id, day]

    # (row, data, line values) of orders to create and of stored orders that changed
    new_orders: list[tuple[_OrderRow, OrderData, list]] = []
    changed: list[tuple[_OrderRow, OrderData, list]] = []
    matches: dict[int, LineMatch] = {}  # stored order id -> its incoming lines paired with the stored ones
    touched_days: set[dt.date] = set()
    for data, rate in priced:
        row = _order_row(shop, data, rate=rate, customer_id=customers.get(_customer_key(data.customer)))
        lines = _line_values(data, rate)
        stored = existing.get(data.platform_order_id)
        if stored is None:
            row.repeat_buyer = row.customer_id is not None and counted.get(row.customer_id, 0) >= 2
            new_orders.append((row, data, lines))
            touched_days.add(day_of[data.platform_order_id])
            continue
        row.pk, stored_values = stored
        matches[row.pk] = match = _match_lines(existing_lines.get(row.pk, []), data, lines)
        if tuple(stored_values) == row.values() and _lines_same(match, lines):
            result.unchanged += 1
            result.order_ids.append(row.pk)
            continue
        touched_days.update({stored_values[_ORDERED_AT].astimezone(tz).date(), day_of[data.platform_order_id]})
        changed.append((row, data, lines))

    if new_orders:
        ids = writer.insert(
            Order, ("shop_id", "platform_order_id", "repeat_buyer", *_ORDER_FIELDS),
            [(row.shop_id, row.platform_order_id, row.repeat_buyer, *row.values()) for row, _, _ in new_orders],
            return_ids=True,
        )
        for (row, _, _), pk in zip(new_orders, ids):
            row.pk = pk
    writer.update(Order, _ORDER_FIELDS, [(row.pk, *row.values()) for row, _, _ in changed])

    line_creates: list[tuple] = []
    line_updates: list[tuple] = []
    line_ids_adopted: list[tuple] = []
    line_deletes: list[int] = []
    for row, data, lines in new_orders + changed:
        day = day_of[data.platform_order_id]
        match = matches.get(row.pk)
        for index, (line, values) in enumerate(zip(data.lines, lines)):
            stored_line = match.stored_for[index] if match else None
            if stored_line is None:
                listing_id, product_id = listings[line.platform_sku]
                line_creates.append((row.pk, line.platform_line_id[:64], listing_id, product_id,
                                     unit_cost(product_id, day), *values))
            elif stored_line.values != values:
                line_updates.append((stored_line.pk, *values))
        if match:
            line_ids_adopted.extend(match.adopted_ids)
            # A line the order no longer has goes, unless its goods already left the warehouse.
            line_deletes.extend(line.pk for line in match.unmatched if line.stock_posted_at is None)
    if line_deletes:
        OrderLine.objects.filter(pk__in=line_deletes).delete()
    writer.update(OrderLine, _LINE_FIELDS, line_updates)
    writer.update(OrderLine, ("platform_line_id",), line_ids_adopted)
    writer.insert(OrderLine, _NEW_LINE_FIELDS, line_creates)

    affected = [row for row, _, _ in new_orders + changed]
    if affected:
        finance_records_write(orders=affected, fresh_ids={row.pk for row, _, _ in new_orders}, writer=writer)
        # Only orders whose goods have left can post stock; a new one only when a line has a product.
        leaving = [
            row.pk for row, data, _ in new_orders
            if may_leave_stock(row) and any(listings[line.platform_sku][1] for line in data.lines)
        ] + [row.pk for row, _, _ in changed if may_leave_stock(row)]
        if defer_effects:
            result.leaving_order_ids = leaving
        else:
            if turn is not None:
                # This batch's own foreign-key checks now, while the batch before may still be storing,
                # not at the commit, which waits for that batch; those of its orders' buyers (some the
                # batch before created, not committed yet) stay for the commit.
                deferred_checks_run(keep_deferred=[Order._meta.get_field("customer")])
                turn.shared()
            if leaving:
                lines_post_stock(order_ids=leaving)
            if changed:
                sales_rollups_rebuild(start=min(touched_days), end=max(touched_days), shop_ids=[shop.pk])
            else:
                _new_orders_add_to_rollups(shop, new_orders, day_of, listings, unit_cost)
        result.rollup_days = touched_days
    result.created = len(new_orders)
    result.updated = len(changed)
    result.order_ids.extend(row.pk for row in affected)
    return result


def _new_orders_add_to_rollups(shop: Shop, new_orders: list, day_of: dict, listings: dict, unit_cost) -> None:
    """A batch that only created orders adds their figures to the rollups and moves their
    customers' first order back where one of them is earlier: figures the batch holds already."""
    delta = RollupDelta()
    earliest: dict[int, dt.datetime] = {}
    buyers = {row.customer_id for row, _, _ in new_orders if row.customer_id is not None}
    for row, data, lines in new_orders:
        day = day_of[data.platform_order_id]
        products = [listings[line.platform_sku][1] for line in data.lines]
        delta.add_order(
            day=day, shop_id=shop.pk, platform_id=shop.platform_id, country=row.buyer_country, status=row.status,
            gross=row.total_amount_base, refunds=row.refund_amount_base, fees=row.platform_fee_base,
            has_buyer=row.customer_id is not None, repeat=row.repeat_buyer,
            lines=[(product_id, values[_QUANTITY], values[_LINE_TOTAL_BASE], unit_cost(product_id, day))
                   for product_id, values in zip(products, lines)],
        )
        if row.customer_id is not None and row.status in COUNTED_ORDER_STATUSES:
            if row.customer_id not in earliest or row.ordered_at < earliest[row.customer_id]:
                earliest[row.customer_id] = row.ordered_at
    sales_rollups_add(delta)
    customers_first_order_advance(earliest, buyers)
