import pytest

from apps.core.testing import api_client_for, count_queries
from apps.inventory import services
from apps.inventory.models import InventoryItem, StockMovement
from apps.users.tests.factories import UserFactory

from .factories import ProductFactory, WarehouseFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def keeper():
    return api_client_for(UserFactory(username="keeper", roles=["仓库"]))


def stocked(quantity, reorder_point=0):
    product, warehouse = ProductFactory(), WarehouseFactory()
    services.stock_adjustment_create(product=product, warehouse=warehouse, quantity_change=quantity, reason="opening")
    InventoryItem.objects.filter(product=product, warehouse=warehouse).update(reorder_point=reorder_point)
    return product, warehouse


def test_warehouse_staff_adjust_stock_through_the_ledger(keeper):
    product, warehouse = stocked(5)
    response = keeper.post(
        "/api/v1/stock-adjustments/",
        {"product": product.pk, "warehouse": warehouse.pk, "quantity_change": -2, "reason": "damage"},
        format="json",
    )
    assert response.status_code == 201, response.content
    assert InventoryItem.objects.get(product=product, warehouse=warehouse).on_hand == 3
    assert StockMovement.objects.filter(product=product).count() == 2


def test_an_adjustment_below_zero_answers_409_and_changes_nothing(keeper):
    product, warehouse = stocked(1)
    response = keeper.post(
        "/api/v1/stock-adjustments/",
        {"product": product.pk, "warehouse": warehouse.pk, "quantity_change": -2, "reason": "loss"},
        format="json",
    )
    assert response.status_code == 409 and "quantity" in response.json()["error"]
    assert InventoryItem.objects.get(product=product, warehouse=warehouse).on_hand == 1


def test_a_transfer_to_the_same_warehouse_is_a_field_error(keeper):
    product, warehouse = stocked(3)
    response = keeper.post(
        "/api/v1/stock-transfers/",
        {"product": product.pk, "from_warehouse": warehouse.pk, "to_warehouse": warehouse.pk, "quantity": 1},
        format="json",
    )
    assert response.status_code == 400 and "to_warehouse" in response.json()["error"]


def test_a_transfer_moves_stock_between_warehouses(keeper):
    product, source = stocked(3)
    target = WarehouseFactory()
    response = keeper.post(
        "/api/v1/stock-transfers/",
        {"product": product.pk, "from_warehouse": source.pk, "to_warehouse": target.pk, "quantity": 2},
        format="json",
    )
    assert response.status_code == 201
    on_hand = dict(InventoryItem.objects.filter(product=product).values_list("warehouse_id", "on_hand"))
    assert on_hand == {source.pk: 1, target.pk: 2}


def test_the_ledger_is_read_only(keeper):
    product, _ = stocked(3)
    movement = StockMovement.objects.get(product=product)
    assert keeper.get("/api/v1/stock-movements/").status_code == 200
    assert keeper.delete(f"/api/v1/stock-movements/{movement.pk}/").status_code == 405
    assert keeper.post("/api/v1/stock-movements/", {}, format="json").status_code == 405


def test_low_stock_filter_lists_items_below_their_reorder_point(keeper):
    low, _ = stocked(2, reorder_point=5)
    stocked(9, reorder_point=5)
    rows = keeper.get("/api/v1/stock/?low_stock=true").json()["data"]["items"]
    assert [row["sku"] for row in rows] == [low.sku]


def test_warehouse_staff_may_read_but_not_edit_products(keeper):
    product = ProductFactory()
    assert keeper.get(f"/api/v1/products/{product.pk}/").status_code == 200
    assert keeper.patch(f"/api/v1/products/{product.pk}/", {"name": "x"}, format="json").status_code == 403


def test_operations_may_not_adjust_stock():
    ops = api_client_for(UserFactory(username="ops", roles=["运营"]))
    product, warehouse = stocked(5)
    response = ops.post(
        "/api/v1/stock-adjustments/",
        {"product": product.pk, "warehouse": warehouse.pk, "quantity_change": 1, "reason": "found"},
        format="json",
    )
    assert response.status_code == 403


def test_a_negative_cost_price_is_a_field_error():
    ops = api_client_for(UserFactory(username="ops2", roles=["运营"]))
    response = ops.post(
        "/api/v1/products/", {"sku": "N-1", "name": "n", "cost_price": "-1", "cost_currency": "CNY"}, format="json"
    )
    assert response.status_code == 400 and "cost_price" in response.json()["error"]


@pytest.mark.parametrize("url", ["/api/v1/products/", "/api/v1/stock/", "/api/v1/stock-movements/",
                                 "/api/v1/warehouses/", "/api/v1/suppliers/"])
def test_list_query_count_does_not_grow_with_rows(url):
    client = api_client_for(UserFactory(username="admin1", roles=["管理员"]))
    stocked(1)
    one = count_queries(lambda: client.get(url))
    for _ in range(19):
        stocked(1)
    twenty = count_queries(lambda: client.get(url))
    assert one == twenty
