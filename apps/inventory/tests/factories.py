import datetime as dt
from decimal import Decimal

import factory
from django.utils import timezone

from apps.finance.tests.factories import base_currency
from apps.inventory.models import (
    BundleComponent,
    Category,
    InventoryItem,
    Product,
    PurchaseOrder,
    PurchaseOrderLine,
    Shipment,
    ShipmentLine,
    StockAdjustment,
    StockMovement,
    StockTransfer,
    Supplier,
    Warehouse,
)


class CategoryFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Category

    name = factory.Sequence(lambda n: f"类目{n}")


class SupplierFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Supplier

    code = factory.Sequence(lambda n: f"SUP{n:04d}")
    name = factory.Sequence(lambda n: f"深圳供应商{n}")
    currency = factory.LazyFunction(base_currency)


class ProductFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Product

    sku = factory.Sequence(lambda n: f"SKU-{n:05d}")
    name = factory.Sequence(lambda n: f"商品{n}")
    category = factory.SubFactory(CategoryFactory)
    cost_price = Decimal("20.00")
    cost_currency = factory.LazyFunction(base_currency)
    weight_kg = Decimal("0.250")


class BundleComponentFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = BundleComponent

    bundle = factory.SubFactory(ProductFactory, is_bundle=True)
    component = factory.SubFactory(ProductFactory)
    quantity = 2


class WarehouseFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Warehouse

    code = factory.Sequence(lambda n: f"WH{n:02d}")
    name = factory.Sequence(lambda n: f"仓库{n}")
    kind = Warehouse.Kind.OWN
    country = "CN"


class InventoryItemFactory(factory.django.DjangoModelFactory):
    """A stock row with no quantity; give stock through the services so the ledger holds."""

    class Meta:
        model = InventoryItem

    product = factory.SubFactory(ProductFactory)
    warehouse = factory.SubFactory(WarehouseFactory)


class StockMovementFactory(factory.django.DjangoModelFactory):
    """Only for read-side tests (Admin); writes go through services."""

    class Meta:
        model = StockMovement

    product = factory.SubFactory(ProductFactory)
    warehouse = factory.SubFactory(WarehouseFactory)
    movement_type = StockMovement.MovementType.ADJUSTMENT
    quantity = 5
    balance_after = 5
    occurred_at = factory.LazyFunction(timezone.now)


class StockAdjustmentFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = StockAdjustment

    product = factory.SubFactory(ProductFactory)
    warehouse = factory.SubFactory(WarehouseFactory)
    quantity_change = 3
    reason = StockAdjustment.Reason.STOCKTAKE


class StockTransferFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = StockTransfer

    product = factory.SubFactory(ProductFactory)
    from_warehouse = factory.SubFactory(WarehouseFactory)
    to_warehouse = factory.SubFactory(WarehouseFactory)
    quantity = 2


class PurchaseOrderFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = PurchaseOrder

    number = factory.Sequence(lambda n: f"PO-{n:06d}")
    supplier = factory.SubFactory(SupplierFactory)
    warehouse = factory.SubFactory(WarehouseFactory)
    currency = factory.LazyFunction(base_currency)
    order_date = dt.date(2025, 1, 2)


class PurchaseOrderLineFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = PurchaseOrderLine

    purchase_order = factory.SubFactory(PurchaseOrderFactory)
    product = factory.SubFactory(ProductFactory)
    quantity_ordered = 10
    unit_cost = Decimal("18.50")


class ShipmentFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Shipment

    number = factory.Sequence(lambda n: f"SHP-{n:06d}")
    warehouse = factory.SubFactory(WarehouseFactory)


class ShipmentLineFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ShipmentLine

    shipment = factory.SubFactory(ShipmentFactory)
    product = factory.SubFactory(ProductFactory)
    quantity = 1
