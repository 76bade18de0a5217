import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal

from apps.core.money import ZERO
from apps.sales.models import Order


@dataclass
class CustomerData:
    platform_buyer_id: str = ""
    email: str = ""
    name: str = ""
    country: str = ""


@dataclass
class LineData:
    platform_sku: str
    quantity: int
    unit_price: Decimal
    line_total: Decimal
    title: str = ""
    platform_line_id: str = ""

    @property
    def key(self) -> str:
        return self.platform_line_id or f"sku:{self.platform_sku}"


@dataclass
class OrderData:
    """A cleaned order in our terms: amounts in the order currency, aware datetimes, ISO codes."""

    platform_order_id: str
    ordered_at: dt.datetime
    currency: str
    status: str
    total_amount: Decimal
    lines: list[LineData] = field(default_factory=list)
    order_number: str = ""
    platform_status: str = ""
    fulfillment_channel: str = Order.FulfillmentChannel.MERCHANT
    buyer_country: str = ""
    items_amount: Decimal = ZERO
    shipping_amount: Decimal = ZERO
    tax_amount: Decimal = ZERO
    discount_amount: Decimal = ZERO
    platform_fee: Decimal = ZERO
    refund_amount: Decimal = ZERO
    paid_at: dt.datetime | None = None
    shipped_at: dt.datetime | None = None
    delivered_at: dt.datetime | None = None
    cancelled_at: dt.datetime | None = None
    platform_updated_at: dt.datetime | None = None
    customer: CustomerData | None = None


@dataclass
class UpsertResult:
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    rejected: list[tuple[OrderData, str]] = field(default_factory=list)
    order_ids: list[int] = field(default_factory=list)
    # What follows from the batch, done already unless the caller deferred it (`defer_effects`):
    # business days whose rollups changed, and orders whose lines may take goods out of stock.
    rollup_days: set[dt.date] = field(default_factory=set)
    leaving_order_ids: list[int] = field(default_factory=list)

    def merge(self, other: "UpsertResult") -> None:
        self.created += other.created
        self.updated += other.updated
        self.unchanged += other.unchanged
        self.rejected.extend(other.rejected)
        self.order_ids.extend(other.order_ids)
        self.rollup_days |= other.rollup_days
        self.leaving_order_ids.extend(other.leaving_order_ids)


@dataclass
class BatchTurn:
    """Lets a batch be stored while the batch before it is still being stored in another transaction
    (collection pipelines its pages). `known_customers`: the buyers the batch before found or created
    (key -> id; some not committed yet, which is why this batch must commit after it) and
    `known_counted` their counted orders so far (id -> count; 2 may stand for more); `resolved`
    hands this batch's buyers and counts on to the next; `shared` blocks until the batch before has
    committed, and runs before this batch writes rows other batches write too (stock, rollups,
    first orders)."""

    known_customers: dict
    resolved: Callable[[dict, dict], None]
    shared: Callable[[], None]
    known_counted: dict = field(default_factory=dict)
