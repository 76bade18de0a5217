"""Purchase orders of the demo: placed at the reorder point, received after the supplier's lead
time (sometimes in two parts), a few cancelled; the ones still open at the end stay open."""
import datetime as dt
import math
from dataclasses import dataclass, field
from decimal import Decimal

from apps.inventory.models import PurchaseOrder, PurchaseOrderLine

from .catalogue import ProductSpec
from .context import DemoContext


@dataclass
class PurchaseDraft:
    number: str
    supplier_id: int
    order_date: dt.date
    expected_date: dt.date
    # product id -> [ordered, received, unit cost]
    lines: dict[int, list] = field(default_factory=dict)
    cancelled: bool = False
    last_receipt_at: dt.datetime | None = None

    def status(self, today: dt.date) -> str:
        if self.cancelled:
            return PurchaseOrder.Status.CANCELLED
        received = [line[1] for line in self.lines.values()]
        if all(line[1] == line[0] for line in self.lines.values()):
            return PurchaseOrder.Status.RECEIVED
        if any(received):
            return PurchaseOrder.Status.PARTIALLY_RECEIVED
        if self.order_date >= today - dt.timedelta(days=1):
            return PurchaseOrder.Status.DRAFT
        return PurchaseOrder.Status.APPROVED

    def received_value(self) -> Decimal:
        return sum((Decimal(line[1]) * line[2] for line in self.lines.values()), Decimal("0.00"))


@dataclass(slots=True)
class Inbound:
    """One purchase line's quantity on its way to the hub."""

    arrival: int  # date ordinal
    quantity: int
    draft: PurchaseDraft
    product_id: int


class Purchasing:
    def __init__(self, ctx: DemoContext, products: dict[int, ProductSpec]):
        self.ctx = ctx
        self.rng = ctx.rng("purchasing")
        self.products = products
        self.drafts: list[PurchaseDraft] = []
        self._open_today: dict[tuple[int, dt.date, bool], PurchaseDraft] = {}
        self.by_arrival: dict[int, list[Inbound]] = {}
        self.by_product: dict[int, list[Inbound]] = {}

    def _draft(self, supplier_id: int, order_date: dt.date, lead: int, emergency: bool) -> PurchaseDraft:
        key = (supplier_id, order_date, emergency)
        draft = self._open_today.get(key)
        if draft is None:
            draft = PurchaseDraft(
                number=f"PO{order_date:%Y%m%d}-{len(self.drafts) + 1:05d}", supplier_id=supplier_id,
                order_date=order_date, expected_date=order_date + dt.timedelta(days=lead),
            )
            self.drafts.append(draft)
            self._open_today[key] = draft
        return draft

    def _unit_cost(self, product_id: int) -> Decimal:
        return (self.products[product_id].cost * Decimal(str(round(self.rng.uniform(0.95, 1.05), 3)))).quantize(
            Decimal("0.01")
        )

    def order_quantity(self, product_id: int, daily: float, days: float) -> int:
        """Covers `days` of demand in cartons of ten, never below the supplier's minimum."""
        minimum = 50 if self.products[product_id].cost < 20 else 20
        return max(minimum, int(math.ceil(daily * days / 10.0)) * 10)

    def new_day(self) -> None:
        self._open_today.clear()

    def place(self, *, product_id: int, quantity: int, day: dt.date) -> None:
        """Orders stock today; it arrives after the product's lead time."""
        spec = self.products[product_id]
        draft = self._draft(spec.supplier.pk, day, spec.lead_time_days, emergency=False)
        line = draft.lines.setdefault(product_id, [0, 0, self._unit_cost(product_id)])
        line[0] += quantity
        inbound = Inbound(day.toordinal() + spec.lead_time_days, quantity, draft, product_id)
        self.by_arrival.setdefault(inbound.arrival, []).append(inbound)
        self.by_product.setdefault(product_id, []).append(inbound)
        if self.rng.random() < 0.03:
            # A duplicate order entered by mistake and cancelled the same day.
            twin = PurchaseDraft(
                number=f"PO{day:%Y%m%d}-{len(self.drafts) + 1:05d}", supplier_id=spec.supplier.pk, order_date=day,
                expected_date=draft.expected_date, cancelled=True,
            )
            twin.lines[product_id] = [quantity, 0, line[2]]
            self.drafts.append(twin)

    def on_order(self, product_id: int) -> int:
        return sum(inbound.quantity for inbound in self.by_product.get(product_id, ()))

    def arrivals(self, day: dt.date) -> list[tuple[int, int, str]]:
        """Receipts due today as (product id, quantity, PO number); a tenth arrive short and
        the rest follows five days later."""
        received = []
        for inbound in self.by_arrival.pop(day.toordinal(), []):
            if inbound.quantity == 0:
                continue
            quantity = inbound.quantity
            if quantity >= 10 and self.rng.random() < 0.1:
                quantity = max(1, int(quantity * self.rng.uniform(0.6, 0.9)))
                inbound.arrival = day.toordinal() + 5
                self.by_arrival.setdefault(inbound.arrival, []).append(inbound)
            received.append(self._receive(inbound, quantity, day))
        return received

    def expedite(self, product_id: int, shortfall: int, day: dt.date) -> list[tuple[int, int, str]]:
        """Pulls inbound stock forward (air freight) to cover a shortfall; places an urgent order,
        dated one lead time back, for whatever is still missing."""
        received = []
        for inbound in sorted(self.by_product.get(product_id, ()), key=lambda entry: entry.arrival):
            if shortfall <= 0:
                break
            if inbound.quantity:
                shortfall -= inbound.quantity
                received.append(self._receive(inbound, inbound.quantity, day))
        if shortfall > 0:
            spec = self.products[product_id]
            ordered = day - dt.timedelta(days=spec.lead_time_days)
            draft = self._draft(spec.supplier.pk, ordered, spec.lead_time_days, emergency=True)
            line = draft.lines.setdefault(product_id, [0, 0, self._unit_cost(product_id)])
            line[0] += shortfall
            inbound = Inbound(day.toordinal(), shortfall, draft, product_id)
            self.by_product.setdefault(product_id, []).append(inbound)
            received.append(self._receive(inbound, shortfall, day))
        return received

    def _receive(self, inbound: Inbound, quantity: int, day: dt.date) -> tuple[int, int, str]:
        inbound.quantity -= quantity
        inbound.draft.lines[inbound.product_id][1] += quantity
        inbound.draft.last_receipt_at = self.ctx.at(day, 8)
        if inbound.quantity == 0:
            self.by_product[inbound.product_id].remove(inbound)
        return inbound.product_id, quantity, inbound.draft.number

    def write(self, *, hub_id: int, approver) -> list[PurchaseDraft]:
        ctx = self.ctx
        orders = []
        for draft in self.drafts:
            status = draft.status(ctx.end)
            approved = status not in (PurchaseOrder.Status.DRAFT, PurchaseOrder.Status.CANCELLED)
            orders.append(
                PurchaseOrder(
                    number=draft.number, supplier_id=draft.supplier_id, warehouse_id=hub_id, status=status,
                    currency_id="CNY", order_date=draft.order_date, expected_date=draft.expected_date,
                    approved_by=approver if approved else None,
                    approved_at=ctx.at(draft.order_date, 10) if approved else None,
                    note="演示数据：补货采购" if not draft.cancelled else "重复下单，已取消",
                )
            )
        PurchaseOrder.objects.bulk_create(orders, batch_size=ctx.batch_size)
        PurchaseOrderLine.objects.bulk_create(
            [
                PurchaseOrderLine(
                    purchase_order_id=order.pk, product_id=product_id, quantity_ordered=ordered,
                    quantity_received=received, unit_cost=cost,
                )
                for draft, order in zip(self.drafts, orders, strict=True)
                for product_id, (ordered, received, cost) in draft.lines.items()
            ],
            batch_size=ctx.batch_size,
        )
        return self.drafts
