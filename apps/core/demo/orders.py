"""Eighteen months of orders, generated day by day in chunks: customers (repeat buyers per shop),
orders with 1–4 lines, status timelines, amounts in the shop's currency and in base currency at
the day's rate. Each day's shipments, returns and reservations are handed to the stock simulator."""
import datetime as dt
from bisect import bisect
from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal

from apps.core.money import ZERO, quantize_money
from apps.inventory.models import Shipment, ShipmentLine
from apps.sales.models import Customer, Order, OrderLine
from apps.sales.services import COUNTED_ORDER_STATUSES, order_amounts_to_base

from .context import DemoContext, quantize_to
from .customers import CustomerPool
from .shops import ShopInfo
from .stock import StockSimulator
from .volume import HourTables, shop_weights
from .writer import Draft, FastTable

S = Order.Status
UTC = dt.UTC
HOUR = dt.timedelta(hours=1)
SHIPPED = {S.SHIPPED, S.DELIVERED, S.PARTIALLY_REFUNDED, S.REFUNDED}
COUNTED = set(COUNTED_ORDER_STATUSES)
LINE_COUNTS, LINE_CUM = [1, 2, 3, 4], [0.2, 0.5, 0.8, 1.0]
QUANTITIES, QUANTITY_CUM = [1, 2, 3], [0.8, 0.95, 1.0]

# Our status -> the platform's own status string.
PLATFORM_STATUS = {
    "amazon": {S.PENDING: "Pending", S.PAID: "Unshipped", S.SHIPPED: "Shipped", S.DELIVERED: "Shipped",
               S.CANCELLED: "Canceled", S.PARTIALLY_REFUNDED: "Shipped", S.REFUNDED: "Shipped"},
    "ebay": {S.PENDING: "PENDING", S.PAID: "NOT_STARTED", S.SHIPPED: "IN_PROGRESS", S.DELIVERED: "FULFILLED",
             S.CANCELLED: "CANCELLED", S.PARTIALLY_REFUNDED: "PARTIALLY_REFUNDED", S.REFUNDED: "FULLY_REFUNDED"},
    "shopify": {S.PENDING: "pending", S.PAID: "paid", S.SHIPPED: "fulfilled", S.DELIVERED: "fulfilled",
                S.CANCELLED: "voided", S.PARTIALLY_REFUNDED: "partially_refunded", S.REFUNDED: "refunded"},
    "woocommerce": {S.PENDING: "pending", S.PAID: "processing", S.SHIPPED: "completed", S.DELIVERED: "completed",
                    S.CANCELLED: "cancelled", S.PARTIALLY_REFUNDED: "completed", S.REFUNDED: "refunded"},
    "shopee": {S.PENDING: "UNPAID", S.PAID: "READY_TO_SHIP", S.SHIPPED: "SHIPPED", S.DELIVERED: "COMPLETED",
               S.CANCELLED: "CANCELLED", S.PARTIALLY_REFUNDED: "COMPLETED", S.REFUNDED: "TO_RETURN"},
    "tiktok": {S.PENDING: "UNPAID", S.PAID: "AWAITING_SHIPMENT", S.SHIPPED: "IN_TRANSIT", S.DELIVERED: "DELIVERED",
               S.CANCELLED: "CANCELLED", S.PARTIALLY_REFUNDED: "COMPLETED", S.REFUNDED: "COMPLETED"},
    "aliexpress": {S.PENDING: "PLACE_ORDER_SUCCESS", S.PAID: "WAIT_SELLER_SEND_GOODS",
                   S.SHIPPED: "WAIT_BUYER_ACCEPT_GOODS", S.DELIVERED: "FINISH", S.CANCELLED: "IN_CANCEL",
                   S.PARTIALLY_REFUNDED: "FINISH", S.REFUNDED: "FINISH"},
    "walmart": {S.PENDING: "Created", S.PAID: "Acknowledged", S.SHIPPED: "Shipped", S.DELIVERED: "Delivered",
                S.CANCELLED: "Cancelled", S.PARTIALLY_REFUNDED: "Delivered", S.REFUNDED: "Delivered"},
}
CARRIERS = {"own": ["云途物流", "燕文物流", "4PX 递四方"], "overseas": ["UPS", "USPS", "DHL", "FedEx"]}


def _order_ids(rng, platform: str, seq: int, day: dt.date) -> tuple[str, str]:
    """(platform order id, displayed number); the per-shop sequence keeps ids unique."""
    if platform == "amazon":
        oid = f"{rng.randint(111, 114)}-{(seq * 7919 + 1_234_567) % 10**7:07d}-{rng.randrange(10**7):07d}"
        return oid, oid
    if platform == "ebay":
        oid = f"{rng.randint(10, 27)}-{seq:05d}-{rng.randrange(10**5):05d}"
        return oid, oid
    if platform == "shopify":
        return str(5_400_000_000_000 + seq * 37 + rng.randrange(37)), f"#{1000 + seq}"
    if platform == "woocommerce":
        return str(10_000 + seq), f"#{10_000 + seq}"
    if platform == "shopee":
        oid = f"{day:%y%m%d}{seq:06d}{''.join(rng.choice('ABCDEFGHJKMNPQRSTVWXY') for _ in range(2))}"
        return oid, oid
    if platform == "tiktok":
        oid = str(576_000_000_000_000_000 + seq * 1009 + rng.randrange(1009))
        return oid, oid
    if platform == "aliexpress":
        oid = str(8_180_000_000_000_000 + seq * 997 + rng.randrange(997))
        return oid, oid
    oid = str(108_000_000_000_000 + seq * 101 + rng.randrange(101))
    return oid, oid


@dataclass
class OrderTotals:
    """What the finance part and the targets need from the orders."""

    # (shop index, business day) -> [total, refund, platform fee] of counted orders, shop currency
    by_shop_day: dict = field(default_factory=lambda: defaultdict(lambda: [ZERO, ZERO, ZERO]))
    # (salesperson index, month) -> gross sales in base currency
    by_salesperson_month: dict = field(default_factory=lambda: defaultdict(lambda: ZERO))


class OrderGenerator:
    def __init__(self, ctx: DemoContext, shops: list[ShopInfo], stock: StockSimulator, salesperson_index: dict, user):
        self.ctx = ctx
        self.rng = ctx.rng("orders")
        self.shops = shops
        self.stock = stock
        self.salesperson_index = salesperson_index  # shop index -> salesperson index
        self.user = user
        batch = ctx.batch_size
        self.customer_table = FastTable(Customer, batch_size=batch)
        self.order_table = FastTable(Order, batch_size=batch, parents=(self.customer_table,))
        self.line_table = FastTable(OrderLine, batch_size=batch, parents=(self.order_table,))
        self.customers = [CustomerPool(shop, self.customer_table) for shop in shops]
        self.hours = HourTables(ctx)
        self.totals = OrderTotals()
        self.sequence = [0] * len(shops)
        self._sales: dict[int, dict] = defaultdict(lambda: defaultdict(int))
        self._returns: dict[int, dict] = defaultdict(lambda: defaultdict(int))
        self._awaiting: list[tuple[int, int, dict]] = []  # paid merchant orders, for shipments

    def run(self, counts: list[int]) -> OrderTotals:
        """Generates `counts[i]` orders on the i-th day of the range."""
        indexes = list(range(len(self.shops)))
        for day, count in zip(self.ctx.days, counts, strict=True):
            reservations: dict[tuple[int, int], int] = defaultdict(int)
            if count:
                cumulative = [*self._cumulative(shop_weights(self.shops, day))]
                day_start = self.ctx.at(day).astimezone(UTC)
                day_seconds = (self.ctx.at(day + dt.timedelta(days=1)).astimezone(UTC) - day_start).total_seconds()
                rate_cny = self.ctx.rates.rate("CNY", day)
                for _ in range(count):
                    shop_index = indexes[bisect(cumulative, self.rng.random() * cumulative[-1])]
                    self._order(shop_index, day, day_start, day_seconds, rate_cny, reservations)
            ordinal = day.toordinal()
            self.stock.process_day(
                day, sales=self._sales.pop(ordinal, {}), returns=self._returns.pop(ordinal, {}),
                reservations=reservations,
            )
        # Parents before children: customers, orders, then lines.
        for table in (self.customer_table, self.order_table, self.line_table):
            table.close()
        self._write_shipments()
        return self.totals

    @staticmethod
    def _cumulative(weights):
        total = 0.0
        for weight in weights:
            total += weight
            yield total

    def _order(self, shop_index, day, day_start, day_seconds, rate_cny, reservations) -> None:
        rng, shop, ctx = self.rng, self.shops[shop_index], self.ctx
        spec = shop.spec
        self.sequence[shop_index] += 1
        platform_order_id, number = _order_ids(rng, spec.platform, self.sequence[shop_index], day)
        fraction = HourTables.pick(rng, self.hours.table(shop, day))
        ordered_at = day_start + dt.timedelta(seconds=int(fraction * day_seconds))
        customer_id, country = self.customers[shop_index].pick(rng, ordered_at)
        order = Draft(
            id=self.order_table.allocate_id(), shop_id=shop.shop_id, platform_order_id=platform_order_id,
            order_number=number, customer_id=customer_id, buyer_country=country, currency_id=spec.currency,
            warehouse_id=shop.warehouse_id, ordered_at=ordered_at, status=S.PENDING,
            fulfillment_channel=Order.FulfillmentChannel.PLATFORM if shop.fulfilled_by_platform
            else Order.FulfillmentChannel.MERCHANT,
            platform_fee=ZERO, refund_amount=ZERO, paid_at=None, shipped_at=None, delivered_at=None,
            cancelled_at=None, created_at=ordered_at,
        )

        lines, parts, items = [], defaultdict(int), ZERO
        picked = set()
        for _ in range(LINE_COUNTS[bisect(LINE_CUM, rng.random())]):
            listing = shop.listings[bisect(shop.listing_cum_weights, rng.random() * shop.listing_cum_weights[-1])]
            if listing.listing_id in picked:
                continue
            picked.add(listing.listing_id)
            quantity = QUANTITIES[bisect(QUANTITY_CUM, rng.random())]
            line_total = listing.price * quantity
            items += line_total
            lines.append(
                Draft(
                    id=self.line_table.allocate_id(), order_id=order.id,
                    platform_line_id=f"{platform_order_id}-{len(lines) + 1}", listing_id=listing.listing_id,
                    product_id=listing.product_id, platform_sku=listing.platform_sku, title=listing.title,
                    quantity=quantity, unit_price=listing.price, line_total=line_total,
                    unit_cost_base=None if listing.cost_cny is None else quantize_money(listing.cost_cny * rate_cny),
                )
            )
            for product_id, per_unit in listing.stock_parts:
                parts[product_id] += per_unit * quantity

        shipping = ZERO
        if shop.free_shipping_over is not None and items < shop.free_shipping_over:
            shipping = shop.shipping_fee
        tax = quantize_to(items * shop.tax_rate, shop.quantum) if shop.tax_rate else ZERO
        discount = quantize_to(items * Decimal(rng.randint(5, 20)) / 100, shop.quantum) if rng.random() < 0.15 else ZERO
        order.items_amount, order.shipping_amount, order.tax_amount = items, shipping, tax
        order.discount_amount = discount
        order.total_amount = items + shipping + tax - discount

        self._timeline(order, shop, rng)
        status = order.status
        if status not in (S.PENDING, S.CANCELLED):
            order.platform_fee = quantize_to((items + shipping - discount) * shop.fee_rate, shop.quantum)
        if status == S.REFUNDED:
            order.refund_amount = order.total_amount
        elif status == S.PARTIALLY_REFUNDED:
            order.refund_amount = quantize_to(order.total_amount * Decimal(rng.randint(10, 50)) / 100, shop.quantum)
        order.platform_status = PLATFORM_STATUS[spec.platform][status]
        order_amounts_to_base(order=order, rate=ctx.rates.rate(spec.currency, day), lines=lines)

        warehouse_id = shop.warehouse_id
        if status in SHIPPED:
            shipped = self._sales[order.shipped_at.astimezone(ctx.tz).date().toordinal()]
            for product_id, quantity in parts.items():
                shipped[(product_id, warehouse_id)] += quantity
            if status == S.REFUNDED and rng.random() < (0.15 if warehouse_id == self.stock.hub_id else 0.7):
                back = self._returns[order.platform_updated_at.astimezone(ctx.tz).date().toordinal()]
                for product_id, quantity in parts.items():
                    back[(product_id, warehouse_id)] += quantity
        elif status == S.PAID and not shop.fulfilled_by_platform and parts:
            for product_id, quantity in parts.items():
                reservations[(product_id, warehouse_id)] += quantity
            self._awaiting.append((order.id, warehouse_id, dict(parts)))
        if status in COUNTED:
            sums = self.totals.by_shop_day[(shop_index, day)]
            sums[0] += order.total_amount
            sums[1] += order.refund_amount
            sums[2] += order.platform_fee
            self.totals.by_salesperson_month[(self.salesperson_index[shop_index], day.replace(day=1))] += (
                order.total_amount_base
            )
        order.updated_at = order.platform_updated_at
        self.order_table.add(order.__dict__)
        for line in lines:
            self.line_table.add(line.__dict__)

    def _timeline(self, order: Order, shop: ShopInfo, rng) -> None:
        """Status and event times as of the demo's "now": what has not happened yet has not."""
        as_of, ordered = self.ctx.as_of, order.ordered_at
        fate = rng.random()
        order.status = S.PENDING
        if fate < 0.03:  # never paid: the platform cancels unpaid orders after two days
            cancelled = ordered + 48 * HOUR
            if cancelled <= as_of:
                order.status, order.cancelled_at = S.CANCELLED, cancelled
            order.platform_updated_at = order.cancelled_at or ordered
            return
        paid = ordered + dt.timedelta(minutes=rng.randint(1, 90))
        if paid > as_of:
            order.platform_updated_at = ordered
            return
        order.status, order.paid_at, order.platform_updated_at = S.PAID, paid, paid
        if fate < 0.055:  # the buyer cancels before shipment
            cancelled = paid + dt.timedelta(hours=rng.uniform(0.5, 20))
            if cancelled <= as_of:
                order.status, order.cancelled_at, order.platform_updated_at = S.CANCELLED, cancelled, cancelled
            return
        if shop.fulfilled_by_platform:
            handling, transit = rng.uniform(4, 30), rng.uniform(1, 4)
        elif shop.warehouse_id == self.stock.hub_id:
            handling, transit = rng.uniform(20, 72), rng.uniform(7, 20)
        else:
            handling, transit = rng.uniform(12, 48), rng.uniform(2, 6)
        shipped = paid + dt.timedelta(hours=handling)
        if shipped > as_of:
            return
        order.status, order.shipped_at, order.platform_updated_at = S.SHIPPED, shipped, shipped
        delivered = shipped + dt.timedelta(days=transit)
        if delivered > as_of:
            return
        order.status, order.delivered_at, order.platform_updated_at = S.DELIVERED, delivered, delivered
        after = rng.random()
        if after < 0.06:
            refunded = delivered + dt.timedelta(days=rng.uniform(2, 15))
            if refunded <= as_of:
                order.status = S.REFUNDED if after < 0.03 else S.PARTIALLY_REFUNDED
                order.platform_updated_at = refunded

    def _write_shipments(self) -> None:
        """Reserved outbound documents for paid merchant orders: the stock they hold is `reserved`."""
        rng = self.ctx.rng("shipments")
        shipments, lines = [], []
        for number, (order_id, warehouse_id, parts) in enumerate(self._awaiting, start=1):
            kind = "own" if warehouse_id == self.stock.hub_id else "overseas"
            shipment = Shipment(
                number=f"SHP{self.ctx.end:%Y%m%d}-{number:05d}", warehouse_id=warehouse_id, order_id=order_id,
                status=Shipment.Status.RESERVED, carrier=rng.choice(CARRIERS[kind]), created_by=self.user,
            )
            shipments.append(shipment)
            lines.extend(
                ShipmentLine(shipment=shipment, product_id=product_id, quantity=quantity)
                for product_id, quantity in sorted(parts.items())
            )
        Shipment.objects.bulk_create(shipments)
        ShipmentLine.objects.bulk_create(lines, batch_size=self.ctx.batch_size)

