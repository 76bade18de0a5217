"""Stock writes. Every change of on-hand goes through `_post_movement`, inside a transaction
that locks the stock rows in primary-key order; reservations change `reserved` only."""
import datetime as dt
import operator
from collections.abc import Iterable
from dataclasses import dataclass
from functools import reduce

from django.db import connection, transaction
from django.db.models import Q
from django.utils import timezone

from apps.core.exceptions import DomainError, InsufficientStock, InvalidStateTransition

from .models import (
    InventoryItem,
    Product,
    PurchaseOrder,
    PurchaseOrderLine,
    Shipment,
    ShipmentLine,
    StockAdjustment,
    StockMovement,
    StockTransfer,
    Warehouse,
)

MovementType = StockMovement.MovementType


def _lock_items(pairs: Iterable[tuple[int, int]]) -> dict[tuple[int, int], InventoryItem]:
    """Creates missing stock rows, then locks all of them in a stable (pk) order: two queries
    whatever the number of rows (a row created meanwhile by another transaction is left alone)."""
    wanted = sorted(set(pairs))
    InventoryItem.objects.bulk_create(
        [InventoryItem(product_id=p, warehouse_id=w) for p, w in wanted], ignore_conflicts=True
    )
    products_by_warehouse: dict[int, list[int]] = {}
    for product_id, warehouse_id in wanted:
        products_by_warehouse.setdefault(warehouse_id, []).append(product_id)
    # one condition per warehouse (a few), not per stock row (hundreds in an import chunk)
    match = reduce(operator.or_, (Q(warehouse_id=w, product_id__in=ps) for w, ps in products_by_warehouse.items()))
    items = InventoryItem.objects.select_for_update().filter(match).order_by("pk")
    return {(item.product_id, item.warehouse_id): item for item in items}


def _post_movement(
    *,
    item: InventoryItem,
    movement_type: str,
    quantity: int,
    reference: str = "",
    note: str = "",
    occurred_at: dt.datetime | None = None,
    user=None,
    idempotency_key: str | None = None,
    release_reserved: int = 0,
) -> StockMovement:
    """Applies one signed quantity to a locked stock row and writes its ledger line."""
    if quantity == 0:
        raise DomainError("数量不能为 0。", field="quantity")
    new_on_hand = item.on_hand + quantity
    new_reserved = item.reserved - release_reserved
    if new_on_hand < 0:
        raise InsufficientStock(
            f"库存不足：商品 {item.product_id} 在仓库 {item.warehouse_id} 在库 {item.on_hand}，"
            f"无法出库 {-quantity}。",
            field="quantity",
        )
    if new_reserved > new_on_hand:
        raise InsufficientStock(
            f"可用库存不足：商品 {item.product_id} 在仓库 {item.warehouse_id} 可用 "
            f"{item.on_hand - item.reserved}，无法出库 {-quantity}。",
            field="quantity",
        )
    item.on_hand = new_on_hand
    item.reserved = new_reserved
    item.save(update_fields=["on_hand", "reserved", "updated_at"])
    return StockMovement.objects.create(
        product_id=item.product_id,
        warehouse_id=item.warehouse_id,
        movement_type=movement_type,
        quantity=quantity,
        balance_after=new_on_hand,
        reference=reference,
        note=note,
        occurred_at=occurred_at or timezone.now(),
        created_by=user,
        idempotency_key=idempotency_key,
    )


@transaction.atomic
def stock_movement_record(
    *,
    product: Product,
    warehouse: Warehouse,
    movement_type: str,
    quantity: int,
    reference: str = "",
    note: str = "",
    occurred_at: dt.datetime | None = None,
    user=None,
    idempotency_key: str | None = None,
) -> StockMovement:
    """Moves stock once: a repeated `idempotency_key` returns the first movement unchanged."""
    if idempotency_key:
        existing = StockMovement.objects.filter(idempotency_key=idempotency_key).first()
        if existing is not None:
            return existing
    item = _lock_items([(product.pk, warehouse.pk)])[(product.pk, warehouse.pk)]
    return _post_movement(
        item=item,
        movement_type=movement_type,
        quantity=quantity,
        reference=reference,
        note=note,
        occurred_at=occurred_at,
        user=user,
        idempotency_key=idempotency_key,
    )


@transaction.atomic
def stock_adjustment_create(
    *, product: Product, warehouse: Warehouse, quantity_change: int, reason: str, note: str = "", user=None
) -> StockAdjustment:
    """Corrects stock by a signed quantity (盘点/报损/期初)."""
    adjustment = StockAdjustment.objects.create(
        product=product, warehouse=warehouse, quantity_change=quantity_change, reason=reason, note=note,
        created_by=user,
    )
    stock_movement_record(
        product=product, warehouse=warehouse, movement_type=MovementType.ADJUSTMENT, quantity=quantity_change,
        reference=f"ADJ-{adjustment.pk}", note=note or adjustment.get_reason_display(), user=user,
    )
    return adjustment


@transaction.atomic
def stock_level_set(
    *, product: Product, warehouse: Warehouse, on_hand: int, reason: str = StockAdjustment.Reason.STOCKTAKE,
    note: str = "", user=None,
) -> StockAdjustment | None:
    """Brings on-hand to a counted figure with one adjustment; None when it already matches."""
    if on_hand < 0:
        raise DomainError("在库数量不能为负数。", field="on_hand")
    item = _lock_items([(product.pk, warehouse.pk)])[(product.pk, warehouse.pk)]
    delta = on_hand - item.on_hand
    if delta == 0:
        return None
    return stock_adjustment_create(
        product=product, warehouse=warehouse, quantity_change=delta, reason=reason, note=note, user=user
    )


@transaction.atomic
def stock_transfer_create(
    *, product: Product, from_warehouse: Warehouse, to_warehouse: Warehouse, quantity: int, note: str = "",
    user=None,
) -> StockTransfer:
    """Moves available stock from one warehouse to another (two movements, one transaction)."""
    if from_warehouse.pk == to_warehouse.pk:
        raise DomainError("调出仓与调入仓不能相同。", field="to_warehouse")
    if quantity <= 0:
        raise DomainError("调拨数量必须大于 0。", field="quantity")
    transfer = StockTransfer.objects.create(
        product=product, from_warehouse=from_warehouse, to_warehouse=to_warehouse, quantity=quantity, note=note,
        created_by=user,
    )
    items = _lock_items([(product.pk, from_warehouse.pk), (product.pk, to_warehouse.pk)])
    reference = f"TRF-{transfer.pk}"
    _post_movement(
        item=items[(product.pk, from_warehouse.pk)], movement_type=MovementType.TRANSFER_OUT, quantity=-quantity,
        reference=reference, note=note, user=user,
    )
    _post_movement(
        item=items[(product.pk, to_warehouse.pk)], movement_type=MovementType.TRANSFER_IN, quantity=quantity,
        reference=reference, note=note, user=user,
    )
    return transfer


@transaction.atomic
def stock_return_receive(
    *, product: Product, warehouse: Warehouse, quantity: int, reference: str = "", note: str = "", user=None,
    idempotency_key: str | None = None,
) -> StockMovement:
    """Puts returned goods back on hand."""
    if quantity <= 0:
        raise DomainError("退货数量必须大于 0。", field="quantity")
    return stock_movement_record(
        product=product, warehouse=warehouse, movement_type=MovementType.RETURN, quantity=quantity,
        reference=reference, note=note, user=user, idempotency_key=idempotency_key,
    )


@transaction.atomic
def stock_platform_sync(
    *, product: Product, warehouse: Warehouse, platform_on_hand: int, reference: str = "", user=None
) -> StockMovement | None:
    """Reconciles a platform-held warehouse (e.g. FBA) to the platform's figure through the ledger."""
    if platform_on_hand < 0:
        raise DomainError("平台库存不能为负数。", field="platform_on_hand")
    item = _lock_items([(product.pk, warehouse.pk)])[(product.pk, warehouse.pk)]
    delta = platform_on_hand - item.on_hand
    if delta == 0:
        return None
    return _post_movement(
        item=item, movement_type=MovementType.PLATFORM_SYNC, quantity=delta, reference=reference,
        note="平台库存同步", user=user,
    )


# Purchase orders -------------------------------------------------------------------------------

@transaction.atomic
def purchase_order_create(*, lines: list[dict], **fields) -> PurchaseOrder:
    """Creates a draft purchase order with its lines (`product`, `quantity_ordered`, `unit_cost`)."""
    po = PurchaseOrder.objects.create(status=PurchaseOrder.Status.DRAFT, **fields)
    PurchaseOrderLine.objects.bulk_create(PurchaseOrderLine(purchase_order=po, **line) for line in lines)
    return po


@transaction.atomic
def purchase_order_update(*, purchase_order: PurchaseOrder, lines: list[dict] | None = None, **fields) -> PurchaseOrder:
    """Edits a draft; once approved, an order only changes through receive and cancel."""
    po = PurchaseOrder.objects.select_for_update().get(pk=purchase_order.pk)
    if po.status != PurchaseOrder.Status.DRAFT:
        raise InvalidStateTransition(f"采购单 {po.number} 已{po.get_status_display()}，只有草稿可以修改。")
    for name, value in fields.items():
        setattr(po, name, value)
    po.save()
    if lines is not None:
        po.lines.all().delete()
        PurchaseOrderLine.objects.bulk_create(PurchaseOrderLine(purchase_order=po, **line) for line in lines)
    return po


@transaction.atomic
def purchase_order_approve(*, purchase_order: PurchaseOrder, user=None) -> PurchaseOrder:
    """Approves a draft purchase order so it can be received."""
    po = PurchaseOrder.objects.select_for_update().get(pk=purchase_order.pk)
    if po.status != PurchaseOrder.Status.DRAFT:
        raise InvalidStateTransition(f"采购单 {po.number} 当前状态为「{po.get_status_display()}」，只有草稿可以审批。")
    if not po.lines.exists():
        raise DomainError(f"采购单 {po.number} 没有明细，不能审批。", field="lines")
    po.status = PurchaseOrder.Status.APPROVED
    po.approved_by = user
    po.approved_at = timezone.now()
    po.save(update_fields=["status", "approved_by", "approved_at", "updated_at"])
    return po


@dataclass(frozen=True)
class ReceiptLine:
    line_id: int
    quantity: int


@transaction.atomic
def purchase_order_receive(
    *, purchase_order: PurchaseOrder, lines: list[ReceiptLine], user=None, occurred_at: dt.datetime | None = None
) -> PurchaseOrder:
    """Receives some or all of an approved order; stock rises through purchase-receipt movements."""
    po = PurchaseOrder.objects.select_for_update().get(pk=purchase_order.pk)
    if po.status not in (PurchaseOrder.Status.APPROVED, PurchaseOrder.Status.PARTIALLY_RECEIVED):
        raise InvalidStateTransition(f"采购单 {po.number} 当前状态为「{po.get_status_display()}」，不能收货。")
    if not lines:
        raise DomainError("请至少填写一行收货数量。", field="lines")
    po_lines = {line.pk: line for line in po.lines.select_for_update().order_by("pk")}
    for receipt in lines:
        line = po_lines.get(receipt.line_id)
        if line is None:
            raise DomainError(f"明细 {receipt.line_id} 不属于采购单 {po.number}。", field="lines")
        if receipt.quantity <= 0:
            raise DomainError("收货数量必须大于 0。", field="lines")
        outstanding = line.quantity_ordered - line.quantity_received
        if receipt.quantity > outstanding:
            raise DomainError(
                f"商品 {line.product_id} 最多还能收 {outstanding} 件，本次 {receipt.quantity} 件超出采购数量。",
                field="lines",
            )
    items = _lock_items((po_lines[r.line_id].product_id, po.warehouse_id) for r in lines)
    for receipt in lines:
        line = po_lines[receipt.line_id]
        line.quantity_received += receipt.quantity
        line.save(update_fields=["quantity_received"])
        _post_movement(
            item=items[(line.product_id, po.warehouse_id)], movement_type=MovementType.PURCHASE_RECEIPT,
            quantity=receipt.quantity, reference=po.number, user=user, occurred_at=occurred_at,
        )
    fully = all(line.quantity_received == line.quantity_ordered for line in po_lines.values())
    po.status = PurchaseOrder.Status.RECEIVED if fully else PurchaseOrder.Status.PARTIALLY_RECEIVED
    po.save(update_fields=["status", "updated_at"])
    return po


@transaction.atomic
def purchase_order_cancel(*, purchase_order: PurchaseOrder, user=None) -> PurchaseOrder:
    """Cancels an order that has not received anything."""
    po = PurchaseOrder.objects.select_for_update().get(pk=purchase_order.pk)
    if po.status not in (PurchaseOrder.Status.DRAFT, PurchaseOrder.Status.APPROVED):
        raise InvalidStateTransition(f"采购单 {po.number} 当前状态为「{po.get_status_display()}」，不能取消。")
    po.status = PurchaseOrder.Status.CANCELLED
    po.save(update_fields=["status", "updated_at"])
    return po


# Shipments (outbound) --------------------------------------------------------------------------

@dataclass(frozen=True)
class ShipmentLineInput:
    product: Product
    quantity: int


@transaction.atomic
def shipment_create(
    *, number: str, warehouse: Warehouse, lines: list[ShipmentLineInput], order=None, carrier: str = "",
    user=None,
) -> Shipment:
    """Creates an outbound document and reserves its stock."""
    if not lines:
        raise DomainError("出库单至少需要一行明细。", field="lines")
    merged: dict[int, int] = {}
    for line in lines:
        if line.quantity <= 0:
            raise DomainError("出库数量必须大于 0。", field="lines")
        merged[line.product.pk] = merged.get(line.product.pk, 0) + line.quantity
    shipment = Shipment.objects.create(
        number=number, warehouse=warehouse, order=order, carrier=carrier, created_by=user
    )
    items = _lock_items((product_id, warehouse.pk) for product_id in merged)
    for product_id, quantity in sorted(merged.items()):
        item = items[(product_id, warehouse.pk)]
        if item.on_hand - item.reserved < quantity:
            raise InsufficientStock(
                f"可用库存不足：商品 {product_id} 在仓库 {warehouse.code} 可用 {item.on_hand - item.reserved}，"
                f"需要 {quantity}。",
                field="lines",
            )
        item.reserved += quantity
        item.save(update_fields=["reserved", "updated_at"])
        ShipmentLine.objects.create(shipment=shipment, product_id=product_id, quantity=quantity)
    return shipment


@transaction.atomic
def shipment_ship(
    *, shipment: Shipment, tracking_number: str = "", user=None, shipped_at: dt.datetime | None = None
) -> Shipment:
    """Consumes the reserved stock (sale movements) and marks the shipment shipped."""
    shipment = Shipment.objects.select_for_update().get(pk=shipment.pk)
    if shipment.status != Shipment.Status.RESERVED:
        raise InvalidStateTransition(f"出库单 {shipment.number} 当前状态为「{shipment.get_status_display()}」，不能发货。")
    lines = list(shipment.lines.all())
    items = _lock_items((line.product_id, shipment.warehouse_id) for line in lines)
    shipped_at = shipped_at or timezone.now()
    for line in lines:
        _post_movement(
            item=items[(line.product_id, shipment.warehouse_id)], movement_type=MovementType.SALE,
            quantity=-line.quantity, release_reserved=line.quantity, reference=shipment.number, user=user,
            occurred_at=shipped_at,
        )
    shipment.status = Shipment.Status.SHIPPED
    shipment.tracking_number = tracking_number or shipment.tracking_number
    shipment.shipped_at = shipped_at
    shipment.save(update_fields=["status", "tracking_number", "shipped_at", "updated_at"])
    return shipment


@transaction.atomic
def shipment_cancel(*, shipment: Shipment, user=None) -> Shipment:
    """Cancels an unshipped outbound and releases its reservation."""
    shipment = Shipment.objects.select_for_update().get(pk=shipment.pk)
    if shipment.status != Shipment.Status.RESERVED:
        raise InvalidStateTransition(f"出库单 {shipment.number} 当前状态为「{shipment.get_status_display()}」，不能取消。")
    lines = list(shipment.lines.all())
    items = _lock_items((line.product_id, shipment.warehouse_id) for line in lines)
    for line in lines:
        item = items[(line.product_id, shipment.warehouse_id)]
        item.reserved -= line.quantity
        item.save(update_fields=["reserved", "updated_at"])
    shipment.status = Shipment.Status.CANCELLED
    shipment.save(update_fields=["status", "updated_at"])
    return shipment


# Bulk outbound (orders collected by the thousand) -----------------------------------------------

@dataclass(frozen=True)
class OutboundRequest:
    """One business event taking stock out: `parts` are (product_id, warehouse_id, quantity)."""

    key: object
    parts: tuple[tuple[int, int, int], ...]
    reference: str
    occurred_at: dt.datetime
    idempotency_key: str


@transaction.atomic
def stock_outbound_bulk(*, requests: list[OutboundRequest], note: str = "订单出库") -> set:
    """Posts many outbound events with one lock per stock row. An event is posted whole or not at
    all: one whose stock is short (or already posted) is skipped. Returns the keys posted."""
    if not requests:
        return set()
    already = set(
        StockMovement.objects.filter(
            idempotency_key__in=[f"{r.idempotency_key}:{p}" for r in requests for p, _, _ in r.parts]
        ).values_list("idempotency_key", flat=True)
    )
    items = _lock_items((p, w) for r in requests for p, w, _ in r.parts)
    balance = {key: [item.on_hand, item.reserved] for key, item in items.items()}
    movements: list[StockMovement] = []
    posted = set()
    for request in sorted(requests, key=lambda r: r.occurred_at):
        if any(f"{request.idempotency_key}:{p}" in already for p, _, _ in request.parts):
            continue
        if any(balance[(p, w)][0] - balance[(p, w)][1] < qty for p, w, qty in request.parts):
            continue
        for product_id, warehouse_id, qty in request.parts:
            balance[(product_id, warehouse_id)][0] -= qty
            movements.append(
                StockMovement(
                    product_id=product_id, warehouse_id=warehouse_id, movement_type=MovementType.SALE,
                    quantity=-qty, balance_after=balance[(product_id, warehouse_id)][0],
                    reference=request.reference[:64], note=note, occurred_at=request.occurred_at,
                    idempotency_key=f"{request.idempotency_key}:{product_id}",
                )
            )
        posted.add(request.key)
    StockMovement.objects.bulk_create(movements, batch_size=1000)
    changed = [(balance[key][0], item.pk) for key, item in items.items() if balance[key][0] != item.on_hand]
    if changed:
        # One UPDATE per locked row, sent as one batch: bulk_update's CASE over hundreds of rows costs
        # more to build and to run than the rows it changes.
        meta, quote = InventoryItem._meta, connection.ops.quote_name
        stamp = meta.get_field("updated_at").get_db_prep_save(timezone.now(), connection)
        sql = (f"UPDATE {quote(meta.db_table)} SET {quote(meta.get_field('on_hand').column)} = %s, "
               f"{quote(meta.get_field('updated_at').column)} = %s WHERE {quote(meta.pk.column)} = %s")
        with connection.cursor() as cursor:
            cursor.executemany(sql, [(on_hand, stamp, pk) for on_hand, pk in changed])
    return posted
