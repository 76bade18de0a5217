"""The demo's stock ledger, simulated day by day so it holds exactly: every InventoryItem's on-hand
equals the sum of its movements, balances never go negative and reserved never exceeds on-hand.

Within a business day the events of one stock row happen in a fixed order: purchase receipts at
08:00, transfers from the hub at 09:00, stocktake adjustments at 12:00, the day's sales (one
movement per product, warehouse and day, for all orders shipped that day) at 23:00 and returns at
23:30. Overseas and FBA warehouses are refilled from the hub in China, the hub from suppliers."""
import datetime as dt
import math
from collections import defaultdict

from apps.inventory.models import InventoryItem, StockAdjustment, StockMovement, StockTransfer

from .catalogue import ProductSpec
from .context import DemoContext
from .purchasing import Purchasing
from .writer import FastTable

MovementType = StockMovement.MovementType
SMOOTHING = 1 / 30  # daily demand is an exponentially weighted average over about a month
TRANSFER_TRIGGER_DAYS = 14
TRANSFER_COVER_DAYS = 45
PURCHASE_COVER_DAYS = 60


class StockSimulator:
    def __init__(self, ctx: DemoContext, *, products: list[ProductSpec], hub_id: int, user):
        self.ctx = ctx
        self.rng = ctx.rng("stock")
        self.hub_id = hub_id
        self.user_id = user.pk
        self.products = {spec.pk: spec for spec in products}
        self.purchasing = Purchasing(ctx, self.products)
        self.on_hand: dict[tuple[int, int], int] = defaultdict(int)
        self.reserved: dict[tuple[int, int], int] = defaultdict(int)
        self.demand: dict[tuple[int, int], list] = {}  # item -> [daily average, day ordinal]
        self.movements = FastTable(StockMovement, batch_size=ctx.batch_size)
        self.adjustments = FastTable(StockAdjustment, batch_size=ctx.batch_size)
        self.transfers = FastTable(StockTransfer, batch_size=ctx.batch_size)
        self._day_sequence: dict[tuple[int, int], int] = {}

    # Demand forecast -----------------------------------------------------------------------------

    def _daily(self, item, today: int) -> float:
        value, since = self.demand.get(item, (0.0, today))
        return value * (1 - SMOOTHING) ** (today - since)

    def _observe(self, item, quantity: int, today: int) -> float:
        value = self._daily(item, today) + SMOOTHING * quantity
        self.demand[item] = [value, today]
        return value

    # Ledger --------------------------------------------------------------------------------------

    def _move(self, item, movement_type, quantity: int, when: dt.datetime, reference="", note="") -> None:
        sequence = self._day_sequence.get(item, 0)
        self._day_sequence[item] = sequence + 1
        balance = self.on_hand[item] + quantity
        if balance < 0:
            raise RuntimeError(f"demo stock would go negative: {item} {movement_type} {quantity}")
        self.on_hand[item] = balance
        self.movements.add({
            "id": self.movements.allocate_id(), "product_id": item[0], "warehouse_id": item[1],
            "movement_type": movement_type, "quantity": quantity, "balance_after": balance, "reference": reference,
            "note": note, "occurred_at": when + dt.timedelta(seconds=sequence), "created_by_id": self.user_id,
        })

    def _adjust(self, item, quantity: int, reason, note: str, when: dt.datetime) -> None:
        """A stock adjustment document and its ledger line."""
        number = self.adjustments.allocate_id()
        self.adjustments.add({
            "id": number, "product_id": item[0], "warehouse_id": item[1], "quantity_change": quantity,
            "reason": reason, "note": note, "created_by_id": self.user_id, "created_at": when, "updated_at": when,
        })
        self._move(item, MovementType.ADJUSTMENT, quantity, when, reference=f"ADJ-{number}", note=note)

    # Simulation ----------------------------------------------------------------------------------

    def open(self, forecast: dict[tuple[int, int], float]) -> None:
        """Opening balances (盘点期初) the day before the range, sized on the expected demand."""
        day = self.ctx.start - dt.timedelta(days=1)
        when = self.ctx.at(day, 8)
        self._day_sequence = {}
        for item in sorted(forecast):
            daily = forecast[item]
            self.demand[item] = [daily, day.toordinal()]
            days = self.rng.uniform(40, 70) if item[1] == self.hub_id else self.rng.uniform(20, 40)
            quantity = int(math.ceil(daily * days)) + (10 if item[1] == self.hub_id else 2)
            self._adjust(item, quantity, StockAdjustment.Reason.OPENING, "期初库存", when)

    def process_day(self, day: dt.date, *, sales: dict, returns: dict, reservations: dict) -> None:
        """Applies one business day: refills where the day's outflow would cut too deep, then the
        outflow itself. `sales`, `returns`, `reservations`: {(product id, warehouse id): units}."""
        today = day.toordinal()
        self._day_sequence = {}
        self.purchasing.new_day()
        receipts = list(self.purchasing.arrivals(day))

        # Overseas and FBA stock is topped up from the hub.
        transfers: dict[tuple[int, int], int] = {}
        hub_outflow: dict[int, int] = defaultdict(int)
        for item in sorted(set(sales) | set(reservations)):
            outflow = sales.get(item, 0) + reservations.get(item, 0)
            if item[1] == self.hub_id:
                hub_outflow[item[0]] += outflow
                continue
            daily = self._observe(item, outflow, today)
            position = self.on_hand[item] - self.reserved[item] - outflow
            if position < daily * TRANSFER_TRIGGER_DAYS:
                quantity = max(int(math.ceil(daily * TRANSFER_COVER_DAYS)) - position, -position, 2)
                transfers[item] = quantity
                hub_outflow[item[0]] += quantity

        # The hub buys at its reorder point and pulls inbound goods forward when it would run dry.
        arrived_by_product: dict[int, int] = defaultdict(int)
        for product_id, quantity, _ in receipts:
            arrived_by_product[product_id] += quantity
        for product_id in sorted(hub_outflow):
            item = (product_id, self.hub_id)
            outflow = hub_outflow[product_id]
            shortfall = outflow + self.reserved[item] - self.on_hand[item] - arrived_by_product[product_id]
            if shortfall > 0:
                pulled = self.purchasing.expedite(product_id, shortfall, day)
                receipts.extend(pulled)
                arrived_by_product[product_id] += sum(quantity for _, quantity, _ in pulled)
            arrived = arrived_by_product[product_id]
            daily = self._observe(item, outflow, today)
            spec = self.products[product_id]
            on_order = self.purchasing.on_order(product_id)
            position = self.on_hand[item] + arrived - self.reserved[item] - outflow + on_order
            if position < daily * (spec.lead_time_days + 7):
                quantity = self.purchasing.order_quantity(product_id, daily, PURCHASE_COVER_DAYS)
                self.purchasing.place(product_id=product_id, quantity=quantity, day=day)

        for product_id, quantity, number in receipts:
            self._move((product_id, self.hub_id), MovementType.PURCHASE_RECEIPT, quantity, self.ctx.at(day, 8),
                       reference=number, note="采购入库")
        for item in sorted(transfers):
            self._transfer(item, transfers[item], day)
        if day.day == 1:
            self._stocktake(day, sales, reservations)
        for item in sorted(sales):
            self._move(item, MovementType.SALE, -sales[item], self.ctx.at(day, 23),
                       reference=f"SALES-{day:%Y%m%d}", note="当日发货订单按商品汇总")
        for item in sorted(returns):
            self._move(item, MovementType.RETURN, returns[item], self.ctx.at(day, 23, 30),
                       reference=f"RMA-{day:%Y%m%d}", note="退货入库（当日汇总）")
        for item, quantity in reservations.items():
            self.reserved[item] += quantity

    def _transfer(self, item, quantity: int, day: dt.date) -> None:
        when = self.ctx.at(day, 9)
        number = self.transfers.allocate_id()
        self.transfers.add({
            "id": number, "product_id": item[0], "from_warehouse_id": self.hub_id, "to_warehouse_id": item[1],
            "quantity": quantity, "note": "海外仓/FBA 补货", "created_by_id": self.user_id, "created_at": when,
            "updated_at": when,
        })
        reference = f"TRF-{number}"
        hub_item = (item[0], self.hub_id)
        self._move(hub_item, MovementType.TRANSFER_OUT, -quantity, when, reference=reference, note="补货调拨")
        self._move(item, MovementType.TRANSFER_IN, quantity, when, reference=reference, note="补货调拨")

    def _stocktake(self, day: dt.date, sales: dict, reservations: dict) -> None:
        """A monthly cycle count: a few rows are found a little off."""
        when = self.ctx.at(day, 12)
        stocked = sorted(item for item, quantity in self.on_hand.items() if quantity > 0)
        for item in self.rng.sample(stocked, min(8, len(stocked))):
            change = self.rng.choice([-3, -2, -1, -1, 1, 2])
            spare = self.on_hand[item] - self.reserved[item] - sales.get(item, 0) - reservations.get(item, 0)
            if change < 0 and spare < -change:
                continue
            reason = StockAdjustment.Reason.FOUND if change > 0 else self.rng.choice(
                [StockAdjustment.Reason.DAMAGE, StockAdjustment.Reason.LOSS, StockAdjustment.Reason.STOCKTAKE]
            )
            self._adjust(item, change, reason, f"月度循环盘点：{reason.label}", when)

    def finish(self, *, approver) -> list:
        """Writes what is left of the ledger, the stock rows and the purchase orders."""
        for table in (self.adjustments, self.transfers, self.movements):
            table.close()
        today = self.ctx.end.toordinal()
        items = []
        for item in sorted(self.on_hand):
            daily = self._daily(item, today)
            if item[1] == self.hub_id:
                reorder = max(5, round(daily * (self.products[item[0]].lead_time_days + 7)))
            else:
                reorder = max(2, round(daily * TRANSFER_TRIGGER_DAYS))
            items.append(
                InventoryItem(
                    product_id=item[0], warehouse_id=item[1], on_hand=self.on_hand[item],
                    reserved=self.reserved.get(item, 0), reorder_point=reorder,
                )
            )
        InventoryItem.objects.bulk_create(items, batch_size=self.ctx.batch_size)
        return self.purchasing.write(hub_id=self.hub_id, approver=approver)
