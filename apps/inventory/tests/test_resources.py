from decimal import Decimal

import pytest
import tablib
from django.db import connection
from django.db.models import Sum
from django.test.utils import CaptureQueriesContext

from apps.core.resources import import_errors
from apps.finance.tests.factories import base_currency
from apps.inventory.models import (
    InventoryItem,
    Product,
    PurchaseOrder,
    PurchaseOrderLine,
    StockAdjustment,
    StockMovement,
    Supplier,
)
from apps.inventory.resources import ProductResource, PurchaseOrderLineResource, StockLevelResource, SupplierResource
from apps.inventory.services import ShipmentLineInput, purchase_order_approve, shipment_create, stock_level_set
from apps.inventory.tests.factories import CategoryFactory, ProductFactory, SupplierFactory, WarehouseFactory
from apps.users.tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def load(text: str) -> tablib.Dataset:
    return tablib.Dataset().load(text, format="csv")


def ledger_sum(product, warehouse) -> int:
    return StockMovement.objects.filter(product=product, warehouse=warehouse).aggregate(s=Sum("quantity"))["s"] or 0


# Products --------------------------------------------------------------------------------------

def test_products_round_trip_with_category_and_supplier_by_name_and_code():
    base_currency()
    supplier = SupplierFactory(code="SZ-01")
    ProductFactory(sku="MUG-01", category=CategoryFactory(name="杯子"), default_supplier=supplier,
                   cost_price=Decimal("12.50"), length_cm=Decimal("10.5"))
    ProductFactory(sku="CUP-01", category=None, is_active=False)
    first = ProductResource().export().csv
    Product.objects.filter(sku="CUP-01").delete()
    Product.objects.filter(sku="MUG-01").update(name="改过", cost_price=1, default_supplier=None, category=None)

    result = ProductResource().import_data(load(first))

    assert import_errors(result) == []
    assert ProductResource().export().csv == first
    rows = load(first).dict
    assert (rows[1]["sku"], rows[1]["category"], rows[1]["default_supplier"]) == ("MUG-01", "杯子", "SZ-01")


def test_importing_the_same_products_twice_changes_nothing_the_second_time():
    base_currency()
    text = "sku,name,cost_price,cost_currency,weight_kg\nA-1,甲,1.5,cny,0.2\nA-2,乙,2,CNY,\n"
    ProductResource().import_data(load(text))
    stamps = list(Product.objects.order_by("sku").values_list("updated_at", flat=True))

    again = ProductResource().import_data(load(text))

    assert again.totals["skip"] == 2 and again.totals["new"] == 0 and again.totals["update"] == 0
    assert list(Product.objects.order_by("sku").values_list("updated_at", flat=True)) == stamps


def test_a_bad_product_row_after_good_ones_writes_nothing_and_names_row_and_reason():
    base_currency()
    CategoryFactory(name="重名")
    CategoryFactory(name="重名", parent=CategoryFactory(name="上级"))
    text = (
        "sku,name,category,cost_price,cost_currency,reorder_point,is_active\n"
        "A-1,甲,,1,CNY,0,1\n"
        "A-2,乙,,1.234,CNY,-1,maybe\n"
        ",丙,重名,x,CNY,1.5,1\n"
    )

    result = ProductResource().import_data(load(text))

    assert Product.objects.count() == 0
    errors = {(e["row"], e["column"]): e["message"] for e in import_errors(result)}
    assert errors[(2, "cost_price")] == "最多 2 位小数（当前 1.234）。"
    assert errors[(2, "reorder_point")] == "不能为负数（当前 -1）。"
    assert "不是有效的是/否值" in errors[(2, "is_active")]
    assert errors[(3, "sku")] == "不能为空。"
    assert errors[(3, "category")] == "类目「重名」不唯一，无法确定是哪一个。"
    assert errors[(3, "cost_price")] == "「x」不是有效的数字。"
    assert errors[(3, "reorder_point")] == "「1.5」不是有效的整数。"


# Suppliers -------------------------------------------------------------------------------------

def test_suppliers_round_trip_and_reimport_unchanged():
    base_currency()
    SupplierFactory(code="SZ-01", name="深圳一号", payment_terms="月结30天")
    SupplierFactory(code="SZ-02", email="sales@example.com")
    first = SupplierResource().export().csv
    Supplier.objects.filter(code="SZ-02").delete()
    Supplier.objects.filter(code="SZ-01").update(name="改名", lead_time_days=99)

    result = SupplierResource().import_data(load(first))

    assert import_errors(result) == []
    assert SupplierResource().export().csv == first
    assert SupplierResource().import_data(load(first)).totals["skip"] == 2


# Purchase orders -------------------------------------------------------------------------------

@pytest.fixture
def po_setup():
    base_currency()
    SupplierFactory(code="SZ-01")
    WarehouseFactory(code="CN-SZ")
    ProductFactory(sku="MUG-01")
    ProductFactory(sku="CUP-01")


PO_FILE = (
    "number,supplier,warehouse,currency,order_date,expected_date,note,sku,quantity_ordered,unit_cost\n"
    "PO-1,SZ-01,CN-SZ,CNY,2025-01-02,2025-01-20,首单,MUG-01,100,8.50\n"
    "PO-1,SZ-01,CN-SZ,CNY,2025-01-02,2025-01-20,首单,CUP-01,50,4.00\n"
    "PO-2,SZ-01,CN-SZ,CNY,2025/01/03,,,MUG-01,10,8.80\n"
)


def test_purchase_orders_import_one_draft_per_number_with_its_lines(po_setup):
    result = PurchaseOrderLineResource().import_data(load(PO_FILE))

    assert import_errors(result) == []
    po = PurchaseOrder.objects.get(number="PO-1")
    assert po.status == PurchaseOrder.Status.DRAFT and po.note == "首单"
    assert sorted(po.lines.values_list("product__sku", "quantity_ordered")) == [("CUP-01", 50), ("MUG-01", 100)]
    assert PurchaseOrder.objects.get(number="PO-2").order_date.isoformat() == "2025-01-03"


def test_purchase_orders_round_trip_and_reimport_unchanged(po_setup):
    PurchaseOrderLineResource().import_data(load(PO_FILE))
    first = PurchaseOrderLineResource().export().csv
    PurchaseOrder.objects.filter(number="PO-2").delete()
    PurchaseOrderLine.objects.filter(purchase_order__number="PO-1", product__sku="CUP-01").delete()
    PurchaseOrderLine.objects.filter(purchase_order__number="PO-1").update(quantity_ordered=1, unit_cost=0)

    result = PurchaseOrderLineResource().import_data(load(first))

    assert import_errors(result) == []
    assert PurchaseOrderLineResource().export().csv == first
    assert PurchaseOrderLineResource().import_data(load(first)).totals["skip"] == 3


def test_an_approved_purchase_order_cannot_be_changed_by_a_file_but_an_unchanged_one_passes(po_setup):
    PurchaseOrderLineResource().import_data(load(PO_FILE))
    purchase_order_approve(purchase_order=PurchaseOrder.objects.get(number="PO-1"))
    exported = PurchaseOrderLineResource().export().csv
    assert PurchaseOrderLineResource().import_data(load(exported)).totals["skip"] == 3

    changed = exported.replace("100", "120")
    result = PurchaseOrderLineResource().import_data(load(changed))

    [error] = import_errors(result)
    assert error["row"] == 2 and "只有草稿可以通过导入修改" in error["message"]
    assert PurchaseOrderLine.objects.get(purchase_order__number="PO-1", product__sku="MUG-01").quantity_ordered == 100


def test_a_bad_purchase_order_row_after_good_ones_writes_nothing(po_setup):
    text = PO_FILE + "PO-3,NOPE,CN-SZ,CNY,2025-01-02,,,GHOST,0,1\n"

    result = PurchaseOrderLineResource().import_data(load(text))

    assert PurchaseOrder.objects.count() == 0 and PurchaseOrderLine.objects.count() == 0
    errors = {(e["row"], e["column"]): e["message"] for e in import_errors(result)}
    assert errors[(4, "supplier")] == "未知供应商：NOPE。"
    assert errors[(4, "sku")] == "未知SKU：GHOST。"
    assert errors[(4, "quantity_ordered")] == "必须大于等于 1（当前 0）。"


# Stock levels ----------------------------------------------------------------------------------

@pytest.fixture
def stock_setup():
    base_currency()
    return ProductFactory(sku="MUG-01"), WarehouseFactory(code="CN-SZ"), WarehouseFactory(code="US-LA")


def test_importing_stock_levels_writes_adjustment_movements_and_the_ledger_sums_to_on_hand(stock_setup):
    mug, shenzhen, los_angeles = stock_setup
    stock_level_set(product=mug, warehouse=shenzhen, on_hand=30)
    user = UserFactory()
    text = "sku,warehouse,on_hand,reorder_point\nMUG-01,CN-SZ,12,5\nMUG-01,US-LA,40,\n"

    result = StockLevelResource().import_data(load(text), user=user)

    assert import_errors(result) == []
    assert result.totals["update"] == 1 and result.totals["new"] == 1
    sz = InventoryItem.objects.get(product=mug, warehouse=shenzhen)
    la = InventoryItem.objects.get(product=mug, warehouse=los_angeles)
    assert (sz.on_hand, sz.reorder_point, la.on_hand, la.reorder_point) == (12, 5, 40, 0)
    assert ledger_sum(mug, shenzhen) == 12 and ledger_sum(mug, los_angeles) == 40
    imported = StockMovement.objects.filter(movement_type=StockMovement.MovementType.ADJUSTMENT, created_by=user)
    assert sorted(imported.values_list("quantity", flat=True)) == [-18, 40]
    assert StockAdjustment.objects.filter(reason=StockAdjustment.Reason.IMPORT).count() == 2


def test_stock_levels_round_trip_through_the_ledger_and_reimport_unchanged(stock_setup):
    mug, shenzhen, los_angeles = stock_setup
    stock_level_set(product=mug, warehouse=shenzhen, on_hand=30)
    stock_level_set(product=mug, warehouse=los_angeles, on_hand=7)
    first = StockLevelResource().export().csv
    stock_level_set(product=mug, warehouse=shenzhen, on_hand=3)
    InventoryItem.objects.filter(warehouse=los_angeles).update(reorder_point=99)

    result = StockLevelResource().import_data(load(first))

    assert import_errors(result) == []
    assert StockLevelResource().export().csv == first
    assert ledger_sum(mug, shenzhen) == 30
    movements = StockMovement.objects.count()
    assert StockLevelResource().import_data(load(first)).totals["skip"] == 2
    assert StockMovement.objects.count() == movements


def test_stock_export_shows_reserved_and_available(stock_setup):
    mug, shenzhen, _ = stock_setup
    stock_level_set(product=mug, warehouse=shenzhen, on_hand=10)
    shipment_create(number="SHP-1", warehouse=shenzhen, lines=[ShipmentLineInput(product=mug, quantity=4)])

    [row] = load(StockLevelResource().export().csv).dict

    assert (row["sku"], row["warehouse"], row["on_hand"], row["reserved"], row["available"]) == (
        "MUG-01", "CN-SZ", "10", "4", "6"
    )


def test_bad_stock_rows_are_rejected_and_no_movement_is_written(stock_setup):
    mug, shenzhen, _ = stock_setup
    stock_level_set(product=mug, warehouse=shenzhen, on_hand=10)
    shipment_create(number="SHP-1", warehouse=shenzhen, lines=[ShipmentLineInput(product=mug, quantity=4)])
    movements = StockMovement.objects.count()
    text = (
        "sku,warehouse,on_hand\n"
        "MUG-01,US-LA,5\n"
        "MUG-01,CN-SZ,3\n"
        "GHOST,MOON,-1\n"
    )

    result = StockLevelResource().import_data(load(text))

    assert StockMovement.objects.count() == movements
    assert InventoryItem.objects.get(product=mug, warehouse=shenzhen).on_hand == 10
    errors = {(e["row"], e["column"]): e["message"] for e in import_errors(result)}
    assert errors[(2, "on_hand")] == "在库数量 3 小于已预留数量 4（已被未发货的出库单占用）。"
    assert errors[(3, "sku")] == "未知SKU：GHOST。"
    assert errors[(3, "warehouse")] == "未知仓库：MOON。"
    assert errors[(3, "on_hand")] == "不能为负数（当前 -1）。"
    assert {row for row, _ in errors} == {2, 3}


def test_a_stock_file_without_on_hand_is_rejected_as_a_whole(stock_setup):
    result = StockLevelResource().import_data(load("sku,warehouse,reorder_point\nMUG-01,CN-SZ,3\n"))

    assert [e["message"] for e in import_errors(result)] == ["文件缺少必需的列：on_hand。"]
    assert not InventoryItem.objects.exists()


# Export cost -----------------------------------------------------------------------------------

def _export_queries(resource) -> int:
    with CaptureQueriesContext(connection) as queries:
        resource.export()
    return len(queries)


def test_exports_cost_the_same_queries_for_one_or_many_rows(po_setup):
    resources = (ProductResource(), SupplierResource(), PurchaseOrderLineResource(), StockLevelResource())
    PurchaseOrderLineResource().import_data(load(PO_FILE.splitlines()[0] + "\n" + PO_FILE.splitlines()[1] + "\n"))
    stock_level_set(product=Product.objects.get(sku="MUG-01"), warehouse=WarehouseFactory(), on_hand=1)
    one = [_export_queries(resource) for resource in resources]
    for _ in range(3):
        product = ProductFactory(default_supplier=SupplierFactory())
        stock_level_set(product=product, warehouse=WarehouseFactory(), on_hand=2)
    PurchaseOrderLineResource().import_data(load(PO_FILE))

    assert [_export_queries(resource) for resource in resources] == one
