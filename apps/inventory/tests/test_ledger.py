"""The ledger invariant: after every kind of movement, Σ movements == on-hand, nothing negative."""
import pytest
from django.db.models import Sum

from apps.core.exceptions import DomainError, InsufficientStock, InvalidStateTransition
from apps.inventory import services
from apps.inventory.models import InventoryItem, PurchaseOrder, Shipment, StockMovement
from apps.inventory.services import ReceiptLine, ShipmentLineInput

from .factories import ProductFactory, PurchaseOrderFactory, PurchaseOrderLineFactory, WarehouseFactory

pytestmark = pytest.mark.django_db


def assert_ledger_holds():
    for item in InventoryItem.objects.all():
        movements = StockMovement.objects.filter(product=item.product, warehouse=item.warehouse)
        total = movements.aggregate(total=Sum("quantity"))["total"] or 0
        assert total == item.on_hand, f"ledger {total} != on_hand {item.on_hand} for {item}"
        last = movements.order_by("-occurred_at", "-id").first()
        if last is not None:
            assert last.balance_after == item.on_hand
        assert item.on_hand >= 0 and item.reserved >= 0 and item.available == item.on_hand - item.reserved


def stocked(quantity=10):
    product, warehouse = ProductFactory(), WarehouseFactory()
    services.stock_adjustment_create(
        product=product, warehouse=warehouse, quantity_change=quantity, reason="opening"
    )
    return product, warehouse


def on_hand(product, warehouse):
    return InventoryItem.objects.get(product=product, warehouse=warehouse).on_hand


def test_adjustment_writes_one_movement_and_keeps_the_ledger():
    product, warehouse = stocked(10)
    services.stock_adjustment_create(product=product, warehouse=warehouse, quantity_change=-3, reason="damage")
    assert on_hand(product, warehouse) == 7
    assert list(StockMovement.objects.values_list("movement_type", flat=True).order_by("id")) == [
        "adjustment", "adjustment"
    ]
    assert_ledger_holds()


def test_adjustment_below_zero_is_refused_and_writes_nothing():
    product, warehouse = stocked(2)
    with pytest.raises(InsufficientStock):
        services.stock_adjustment_create(product=product, warehouse=warehouse, quantity_change=-3, reason="loss")
    assert on_hand(product, warehouse) == 2
    assert StockMovement.objects.count() == 1
    assert_ledger_holds()


def test_purchase_receipt_in_two_partial_receipts():
    po = PurchaseOrderFactory()
    line = PurchaseOrderLineFactory(purchase_order=po, quantity_ordered=10)
    services.purchase_order_approve(purchase_order=po)
    services.purchase_order_receive(purchase_order=po, lines=[ReceiptLine(line_id=line.pk, quantity=4)])
    po.refresh_from_db()
    assert po.status == PurchaseOrder.Status.PARTIALLY_RECEIVED
    services.purchase_order_receive(purchase_order=po, lines=[ReceiptLine(line_id=line.pk, quantity=6)])
    po.refresh_from_db()
    line.refresh_from_db()
    assert po.status == PurchaseOrder.Status.RECEIVED
    assert line.quantity_received == 10
    assert on_hand(line.product, po.warehouse) == 10
    assert StockMovement.objects.filter(movement_type="purchase_receipt").count() == 2
    assert_ledger_holds()


def test_receiving_more_than_ordered_is_rejected():
    po = PurchaseOrderFactory()
    line = PurchaseOrderLineFactory(purchase_order=po, quantity_ordered=5)
    services.purchase_order_approve(purchase_order=po)
    with pytest.raises(DomainError, match="超出采购数量"):
        services.purchase_order_receive(purchase_order=po, lines=[ReceiptLine(line_id=line.pk, quantity=6)])
    assert not StockMovement.objects.exists()


def test_receiving_a_draft_order_is_refused():
    po = PurchaseOrderFactory()
    line = PurchaseOrderLineFactory(purchase_order=po)
    with pytest.raises(InvalidStateTransition):
        services.purchase_order_receive(purchase_order=po, lines=[ReceiptLine(line_id=line.pk, quantity=1)])


def test_shipment_reserves_then_ship_consumes_with_a_sale_movement():
    product, warehouse = stocked(10)
    shipment = services.shipment_create(
        number="SHP-1", warehouse=warehouse, lines=[ShipmentLineInput(product=product, quantity=4)]
    )
    item = InventoryItem.objects.get(product=product, warehouse=warehouse)
    assert (item.on_hand, item.reserved, item.available) == (10, 4, 6)
    services.shipment_ship(shipment=shipment, tracking_number="1Z999")
    item.refresh_from_db()
    assert (item.on_hand, item.reserved, item.available) == (6, 0, 6)
    assert StockMovement.objects.get(movement_type="sale").quantity == -4
    assert Shipment.objects.get().status == Shipment.Status.SHIPPED
    assert_ledger_holds()


def test_shipment_beyond_available_stock_is_refused():
    product, warehouse = stocked(3)
    with pytest.raises(InsufficientStock):
        services.shipment_create(
            number="SHP-2", warehouse=warehouse, lines=[ShipmentLineInput(product=product, quantity=4)]
        )
    assert not Shipment.objects.exists()
    assert InventoryItem.objects.get(product=product, warehouse=warehouse).reserved == 0


def test_cancelling_a_shipment_releases_its_reservation():
    product, warehouse = stocked(5)
    shipment = services.shipment_create(
        number="SHP-3", warehouse=warehouse, lines=[ShipmentLineInput(product=product, quantity=5)]
    )
    services.shipment_cancel(shipment=shipment)
    item = InventoryItem.objects.get(product=product, warehouse=warehouse)
    assert (item.reserved, item.available) == (0, 5)
    with pytest.raises(InvalidStateTransition):
        services.shipment_ship(shipment=shipment)
    assert_ledger_holds()


def test_reserved_stock_cannot_be_adjusted_away():
    product, warehouse = stocked(5)
    services.shipment_create(number="SHP-4", warehouse=warehouse, lines=[ShipmentLineInput(product=product, quantity=4)])
    with pytest.raises(InsufficientStock):
        services.stock_adjustment_create(product=product, warehouse=warehouse, quantity_change=-2, reason="loss")
    assert on_hand(product, warehouse) == 5


def test_transfer_writes_out_and_in_movements():
    product, source = stocked(8)
    target = WarehouseFactory()
    services.stock_transfer_create(product=product, from_warehouse=source, to_warehouse=target, quantity=3)
    assert on_hand(product, source) == 5
    assert on_hand(product, target) == 3
    types = dict(StockMovement.objects.filter(reference__startswith="TRF-").values_list("movement_type", "quantity"))
    assert types == {"transfer_out": -3, "transfer_in": 3}
    assert_ledger_holds()


def test_transfer_more_than_on_hand_is_refused_and_writes_nothing():
    product, source = stocked(2)
    target = WarehouseFactory()
    with pytest.raises(InsufficientStock):
        services.stock_transfer_create(product=product, from_warehouse=source, to_warehouse=target, quantity=3)
    assert on_hand(product, source) == 2
    assert not StockMovement.objects.filter(movement_type__startswith="transfer").exists()
    assert_ledger_holds()


def test_return_puts_goods_back_once_per_idempotency_key():
    product, warehouse = stocked(1)
    for _ in range(2):
        services.stock_return_receive(
            product=product, warehouse=warehouse, quantity=2, reference="RMA-1", idempotency_key="return:RMA-1"
        )
    assert on_hand(product, warehouse) == 3
    assert StockMovement.objects.filter(movement_type="return").count() == 1
    assert_ledger_holds()


def test_platform_sync_reconciles_to_the_platform_figure():
    product, warehouse = stocked(10)
    movement = services.stock_platform_sync(product=product, warehouse=warehouse, platform_on_hand=7)
    assert movement.quantity == -3 and movement.movement_type == "platform_sync"
    assert services.stock_platform_sync(product=product, warehouse=warehouse, platform_on_hand=7) is None
    assert on_hand(product, warehouse) == 7
    assert_ledger_holds()


def test_stock_level_set_writes_the_difference_only():
    product, warehouse = stocked(10)
    services.stock_level_set(product=product, warehouse=warehouse, on_hand=12)
    assert services.stock_level_set(product=product, warehouse=warehouse, on_hand=12) is None
    assert on_hand(product, warehouse) == 12
    assert StockMovement.objects.count() == 2
    assert_ledger_holds()
