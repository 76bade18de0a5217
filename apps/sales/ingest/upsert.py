"""Bulk upsert of orders for one shop. A batch costs a fixed number of queries, not one per order."""
import datetime as dt
from collections.abc import Sequence
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db import transaction
from django.db.models import Q

from apps.core.exceptions import MissingExchangeRate
from apps.core.money import quantize_money
from apps.finance.models import Currency
from apps.finance.selectors import RateTable
from apps.inventory.models import Product
from apps.platforms.models import Listing, Shop
from apps.sales.models import Customer, Order, OrderLine
from apps.sales.services import BASE_AMOUNT_FIELDS, order_amounts_to_base, sales_rollups_rebuild

from .effects import order_finance_records_replace, order_lines_post_stock
from .types import CustomerData, OrderData, UpsertResult
from .validation import order_data_problem

# Fields compared to decide whether a stored order changed.
_ORDER_FIELDS = (
    "order_number", "status", "platform_status", "fulfillment_channel", "buyer_country", "currency_id",
    "items_amount", "shipping_amount", "tax_amount", "discount_amount", "platform_fee", "refund_amount",
    "total_amount", "exchange_rate", "items_amount_base", "shipping_amount_base", "tax_amount_base",
    "discount_amount_base", "platform_fee_base", "refund_amount_base", "total_amount_base", "ordered_at",
    "paid_at", "shipped_at", "delivered_at", "cancelled_at", "platform_updated_at", "customer_id",
)
_LINE_FIELDS = ("platform_sku", "title", "quantity", "unit_price", "line_total", "line_total_base")


def _business_day(moment: dt.datetime) -> dt.date:
    return moment.astimezone(ZoneInfo(settings.TIME_ZONE)).date()


def _customer_key(data: CustomerData | None) -> tuple[str, str] | None:
    if data is None:
        return None
    if data.platform_buyer_id:
        return ("id", data.platform_buyer_id)
    if data.email:
        return ("email", data.email.strip().lower())
    return None


def _resolve_customers(shop: Shop, orders: Sequence[OrderData]) -> dict[tuple[str, str], int]:
    """Finds or creates each buyer once per shop: by platform buyer id, else by e-mail."""
    wanted: dict[tuple[str, str], CustomerData] = {}
    for order in orders:
        key = _customer_key(order.customer)
        if key is not None:
            wanted.setdefault(key, order.customer)
    if not wanted:
        return {}
    ids = [v for kind, v in wanted if kind == "id"]
    emails = {d.email.strip().lower() for d in wanted.values() if d.email}
    found: dict[tuple[str, str], int] = {}
    by_email: dict[str, int] = {}
    for pk, buyer_id, email in Customer.objects.filter(
        Q(platform_buyer_id__in=ids) | Q(email__in=emails), shop=shop
    ).values_list("pk", "platform_buyer_id", "email"):
        if buyer_id:
            found[("id", buyer_id)] = pk
        if email:
            by_email.setdefault(email, pk)
    new_customers = []
    for key, data in wanted.items():
        if key in found:
            continue
        email = data.email.strip().lower()
        if email in by_email and key[0] == "email":
            found[key] = by_email[email]
            continue
        new_customers.append(
            Customer(
                shop=shop, platform_buyer_id=data.platform_buyer_id, email=email, name=data.name[:200],
                country=(data.country or "")[:2].upper(),
            )
        )
    if new_customers:
        Customer.objects.bulk_create(new_customers)
        for customer in new_customers:
            key = ("id", customer.platform_buyer_id) if customer.platform_buyer_id else ("email", customer.email)
            found[key] = customer.pk
    return found


def _resolve_listings(shop: Shop, orders: Sequence[OrderData]) -> dict[str, Listing]:
    """The shop's listing for every SKU; unknown SKUs become listings, mapped when a master SKU
    of the same code exists, else unmapped (the pairing queue)."""
    titles: dict[str, str] = {}
    for order in orders:
        for line in order.lines:
            titles.setdefault(line.platform_sku, line.title)
    listings = {item.platform_sku: item for item in Listing.objects.filter(shop=shop, platform_sku__in=titles)}
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
        listings.update(
            {item.platform_sku: item for item in Listing.objects.filter(shop=shop, platform_sku__in=missing)}
        )
    return listings


def _order_values(data: OrderData, *, rate, customer_id) -> dict:
    values = {
        "order_number": data.order_number[:64],
        "status": data.status,
        "platform_status": data.platform_status[:64],
        "fulfillment_channel": data.fulfillment_channel,
        "buyer_country": data.buyer_country.upper(),
        "currency_id": data.currency,
        "items_amount": data.items_amount,
        "shipping_amount": data.shipping_amount,
        "tax_amount": data.tax_amount,
        "discount_amount": data.discount_amount,
        "platform_fee": data.platform_fee,
        "refund_amount": data.refund_amount,
        "total_amount": data.total_amount,
        "ordered_at": data.ordered_at.astimezone(dt.UTC),
        "paid_at": data.paid_at,
        "shipped_at": data.shipped_at,
        "delivered_at": data.delivered_at,
        "cancelled_at": data.cancelled_at,
        "platform_updated_at": data.platform_updated_at,
        "customer_id": customer_id,
    }
    scratch = Order(**values)
    order_amounts_to_base(order=scratch, rate=rate)
    values.update({base_field: getattr(scratch, base_field) for _, base_field in BASE_AMOUNT_FIELDS})
    values["exchange_rate"] = rate
    return values


def _same(order: Order, values: dict) -> bool:
    return all(getattr(order, name) == values[name] for name in _ORDER_FIELDS)


@transaction.atomic
def orders_upsert(*, shop: Shop, orders: Sequence[OrderData]) -> UpsertResult:
    """Stores a batch of one shop's orders exactly once: new ones are created, changed ones updated
    (with their lines, finance records and rollups), identical ones left alone."""
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

    days = [_business_day(d.ordered_at) for d in latest.values()]
    rates = RateTable(start=min(days), end=max(days))
    priced: list[tuple[OrderData, object]] = []
    for data in latest.values():
        try:
            priced.append((data, rates.rate(data.currency, _business_day(data.ordered_at))))
        except MissingExchangeRate as exc:
            result.rejected.append((data, exc.message))
    if not priced:
        return result

    customers = _resolve_customers(shop, [d for d, _ in priced])
    listings = _resolve_listings(shop, [d for d, _ in priced])
    product_ids = {item.product_id for item in listings.values() if item.product_id}
    costs = {
        pk: (cost, currency)
        for pk, cost, currency in Product.objects.filter(pk__in=product_ids).values_list(
            "pk", "cost_price", "cost_currency_id"
        )
    }
    existing = {
        order.platform_order_id: order
        for order in Order.objects.filter(shop=shop, platform_order_id__in=[d.platform_order_id for d, _ in priced])
    }
    existing_lines: dict[int, dict[str, OrderLine]] = {}
    for line in OrderLine.objects.filter(order_id__in=[o.pk for o in existing.values()]):
        existing_lines.setdefault(line.order_id, {})[line.platform_line_id or f"sku:{line.platform_sku}"] = line

    def unit_cost(product_id, day):
        if product_id is None or product_id not in costs:
            return None
        cost, currency = costs[product_id]
        try:
            return quantize_money(cost * rates.rate(currency, day))
        except MissingExchangeRate:
            return None

    new_orders: list[tuple[Order, OrderData]] = []
    changed: list[tuple[Order, OrderData]] = []
    touched_days: set[dt.date] = set()
    for data, rate in priced:
        values = _order_values(data, rate=rate, customer_id=customers.get(_customer_key(data.customer)))
        stored = existing.get(data.platform_order_id)
        if stored is None:
            new_orders.append((Order(shop=shop, platform_order_id=data.platform_order_id, **values), data))
            touched_days.add(_business_day(data.ordered_at))
            continue
        lines_same = _lines_same(existing_lines.get(stored.pk, {}), data, rate)
        if _same(stored, values) and lines_same:
            result.unchanged += 1
            result.order_ids.append(stored.pk)
            continue
        touched_days.update({_business_day(stored.ordered_at), _business_day(data.ordered_at)})
        for name, value in values.items():
            setattr(stored, name, value)
        changed.append((stored, data))

    if new_orders:
        Order.objects.bulk_create([order for order, _ in new_orders], batch_size=500)
    if changed:
        Order.objects.bulk_update([order for order, _ in changed], list(_ORDER_FIELDS) + ["updated_at"], batch_size=500)

    line_creates: list[OrderLine] = []
    line_updates: list[OrderLine] = []
    line_deletes: list[int] = []
    for order, data in new_orders + changed:
        day = _business_day(data.ordered_at)
        current = existing_lines.get(order.pk, {})
        seen = set()
        for line in data.lines:
            listing = listings[line.platform_sku]
            seen.add(line.key)
            values = {
                "platform_sku": line.platform_sku[:128],
                "title": line.title[:500],
                "quantity": line.quantity,
                "unit_price": line.unit_price,
                "line_total": line.line_total,
                "line_total_base": quantize_money(line.line_total * order.exchange_rate),
            }
            stored_line = current.get(line.key)
            if stored_line is None:
                line_creates.append(
                    OrderLine(
                        order=order, platform_line_id=line.platform_line_id[:64], listing=listing,
                        product_id=listing.product_id, unit_cost_base=unit_cost(listing.product_id, day), **values,
                    )
                )
            elif any(getattr(stored_line, k) != v for k, v in values.items()):
                for k, v in values.items():
                    setattr(stored_line, k, v)
                line_updates.append(stored_line)
        line_deletes.extend(line.pk for key, line in current.items() if key not in seen and line.stock_posted_at is None)
    if line_deletes:
        OrderLine.objects.filter(pk__in=line_deletes).delete()
    if line_updates:
        OrderLine.objects.bulk_update(line_updates, list(_LINE_FIELDS), batch_size=500)
    if line_creates:
        OrderLine.objects.bulk_create(line_creates, batch_size=1000)

    affected = [order for order, _ in new_orders + changed]
    if affected:
        order_finance_records_replace(orders=affected)
        order_lines_post_stock(order_ids=[o.pk for o in affected])
        sales_rollups_rebuild(start=min(touched_days), end=max(touched_days), shop_ids=[shop.pk])
    result.created = len(new_orders)
    result.updated = len(changed)
    result.order_ids.extend(o.pk for o in affected)
    return result


def _lines_same(current: dict[str, OrderLine], data: OrderData, rate) -> bool:
    if set(current) != {line.key for line in data.lines}:
        return False
    for line in data.lines:
        stored = current[line.key]
        if (
            stored.platform_sku != line.platform_sku
            or stored.title != line.title[:500]
            or stored.quantity != line.quantity
            or stored.unit_price != line.unit_price
            or stored.line_total != line.line_total
            or stored.line_total_base != quantize_money(line.line_total * rate)
        ):
            return False
    return True
