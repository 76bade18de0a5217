"""Purchase orders and shipments through the API: the state machines and their stock effects."""
import pytest

from apps.core.testing import api_client_for, count_queries
from apps.inventory import services
from apps.inventory.models import InventoryItem, PurchaseOrder, StockMovement
from apps.users.tests.factories import UserFactory

from .factories import ProductFactory, PurchaseOrderFactory, PurchaseOrderLineFactory, SupplierFactory, WarehouseFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def keeper():
    return api_client_for(UserFactory(username="keeper", roles=["仓库"]))


def create_po(client, product, warehouse, quantity=10):
    response = client.post(
        "/api/v1/purchase-orders/",
        {
            "number": "PO-T-1", "supplier": SupplierFactory().pk, "warehouse": warehouse.pk, "currency": "CNY",
            "order_date": "2025-05-01",
            "lines": [{"product": product.pk, "quantity_ordered": quantity, "unit_cost": "12.50"}],
        },
        format="json",
    )
    assert response.status_code == 201, response.content
    return response.json()["data"]


def test_a_purchase_order_is_approved_then_received_in_two_parts(keeper):
    product, warehouse = ProductFactory(), WarehouseFactory()
    po = create_po(keeper, product, warehouse)
    assert po["status"] == "draft"
    assert keeper.post(f"/api/v1/purchase-orders/{po['id']}/approve/").json()["data"]["status"] == "approved"
    line_id = po["lines"][0]["id"]
    first = keeper.post(f"/api/v1/purchase-orders/{po['id']}/receive/", {"lines": [{"line": line_id, "quantity": 4}]},
                        format="json")
    assert first.json()["data"]["status"] == "partially_received"
    second = keeper.post(f"/api/v1/purchase-orders/{po['id']}/receive/", {"lines": [{"line": line_id, "quantity": 6}]},
                         format="json")
    assert second.json()["data"]["status"] == "received"
    assert InventoryItem.objects.get(product=product, warehouse=warehouse).on_hand == 10


def test_receiving_more_than_ordered_is_refused_with_a_clear_error(keeper):
    product, warehouse = ProductFactory(), WarehouseFactory()
    po = create_po(keeper, product, warehouse, quantity=3)
    keeper.post(f"/api/v1/purchase-orders/{po['id']}/approve/")
    response = keeper.post(
        f"/api/v1/purchase-orders/{po['id']}/receive/", {"lines": [{"line": po["lines"][0]["id"], "quantity": 4}]},
        format="json",
    )
    body = response.json()
    assert response.status_code == 400 and body["code"] == 400
    assert "超出采购数量" in body["error"]["lines"][0]
    assert not StockMovement.objects.exists()


def test_receiving_a_draft_answers_409(keeper):
    po = create_po(keeper, ProductFactory(), WarehouseFactory())
    response = keeper.post(
        f"/api/v1/purchase-orders/{po['id']}/receive/", {"lines": [{"line": po["lines"][0]["id"], "quantity": 1}]},
        format="json",
    )
    assert response.status_code == 409


def test_a_purchase_order_without_lines_is_a_field_error(keeper):
    response = keeper.post(
        "/api/v1/purchase-orders/",
        {"number": "PO-X", "supplier": SupplierFactory().pk, "warehouse": WarehouseFactory().pk, "currency": "CNY",
         "order_date": "2025-05-01", "lines": []},
        format="json",
    )
    assert response.status_code == 400 and "lines" in response.json()["error"]


def test_an_approved_order_can_no_longer_be_edited_or_deleted(keeper):
    po = create_po(keeper, ProductFactory(), WarehouseFactory())
    keeper.post(f"/api/v1/purchase-orders/{po['id']}/approve/")
    assert keeper.patch(f"/api/v1/purchase-orders/{po['id']}/", {"note": "x"}, format="json").status_code == 409
    assert keeper.delete(f"/api/v1/purchase-orders/{po['id']}/").status_code == 409
    assert keeper.post(f"/api/v1/purchase-orders/{po['id']}/cancel/").json()["data"]["status"] == "cancelled"


def test_finance_cannot_approve_purchase_orders():
    po = PurchaseOrderFactory()
    PurchaseOrderLineFactory(purchase_order=po)
    finance = api_client_for(UserFactory(username="fin", roles=["财务"]))
    assert finance.post(f"/api/v1/purchase-orders/{po.pk}/approve/").status_code == 403
    assert PurchaseOrder.objects.get(pk=po.pk).status == "draft"


def stocked(quantity):
    product, warehouse = ProductFactory(), WarehouseFactory()
    services.stock_adjustment_create(product=product, warehouse=warehouse, quantity_change=quantity, reason="opening")
    return product, warehouse


def create_shipment(client, product, warehouse, quantity, number="SHP-T-1"):
    return client.post(
        "/api/v1/shipments/",
        {"number": number, "warehouse": warehouse.pk, "lines": [{"product": product.pk, "quantity": quantity}]},
        format="json",
    )


def test_a_shipment_reserves_on_creation_and_consumes_when_shipped(keeper):
    product, warehouse = stocked(5)
    shipment = create_shipment(keeper, product, warehouse, 3).json()["data"]
    item = InventoryItem.objects.get(product=product, warehouse=warehouse)
    assert (item.on_hand, item.reserved) == (5, 3)
    shipped = keeper.post(f"/api/v1/shipments/{shipment['id']}/ship/", {"tracking_number": "YT123"}, format="json")
    assert shipped.json()["data"]["status"] == "shipped" and shipped.json()["data"]["tracking_number"] == "YT123"
    item.refresh_from_db()
    assert (item.on_hand, item.reserved) == (2, 0)


def test_a_shipment_without_enough_stock_is_refused(keeper):
    product, warehouse = stocked(2)
    response = create_shipment(keeper, product, warehouse, 3)
    assert response.status_code == 409 and "lines" in response.json()["error"]
    assert InventoryItem.objects.get(product=product, warehouse=warehouse).reserved == 0


def test_cancelling_a_shipment_releases_the_reservation_and_it_cannot_ship_after(keeper):
    product, warehouse = stocked(4)
    shipment = create_shipment(keeper, product, warehouse, 4).json()["data"]
    assert keeper.post(f"/api/v1/shipments/{shipment['id']}/cancel/").json()["data"]["status"] == "cancelled"
    assert InventoryItem.objects.get(product=product, warehouse=warehouse).reserved == 0
    assert keeper.post(f"/api/v1/shipments/{shipment['id']}/ship/", {}, format="json").status_code == 409


@pytest.mark.parametrize("url", ["/api/v1/purchase-orders/", "/api/v1/shipments/"])
def test_document_lists_cost_the_same_for_1_and_20_rows(url, keeper):
    def add(n):
        product, warehouse = stocked(5)
        services.shipment_create(number=f"S{n}", warehouse=warehouse,
                                 lines=[services.ShipmentLineInput(product=product, quantity=1)])
        po = PurchaseOrderFactory(warehouse=warehouse)
        PurchaseOrderLineFactory(purchase_order=po, product=product)

    add(0)
    one = count_queries(lambda: keeper.get(url))
    for n in range(1, 20):
        add(n)
    assert count_queries(lambda: keeper.get(url)) == one
