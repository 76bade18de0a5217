"""One order, two sources: a connector keys lines by the platform's line id, a seller's export file
(Shopify's "Export orders" CSV) only by SKU. Whichever comes first, the order keeps one line per
product and its stock leaves once."""
import dataclasses

import pytest

from apps.inventory.models import InventoryItem, StockMovement
from apps.sales.ingest import orders_upsert
from apps.sales.models import OrderLine
from apps.sales.tests.test_ingest import WHEN, make_order, product, shop, writer  # noqa: F401

pytestmark = pytest.mark.django_db


def without_line_ids(order):
    return dataclasses.replace(order, lines=[dataclasses.replace(line, platform_line_id="") for line in order.lines])


def shipped(**kwargs):
    return make_order(status="shipped", shipped_at=WHEN, **kwargs)


def lines():
    return list(OrderLine.objects.values_list("platform_line_id", "platform_sku", "quantity"))


def test_a_file_after_the_connector_changes_nothing(shop, product):
    orders_upsert(shop=shop, orders=[shipped()])
    result = orders_upsert(shop=shop, orders=[without_line_ids(shipped())])
    assert result.unchanged == 1
    assert lines() == [("1001-1", "shop-MUG-01", 2)]
    assert StockMovement.objects.filter(movement_type="sale").count() == 1
    assert InventoryItem.objects.get(product=product).on_hand == 18


def test_the_connector_after_a_file_adopts_the_line_and_then_matches_it_by_id(shop, product):
    orders_upsert(shop=shop, orders=[without_line_ids(shipped())])
    assert orders_upsert(shop=shop, orders=[shipped()]).updated == 1
    assert lines() == [("1001-1", "shop-MUG-01", 2)]
    assert orders_upsert(shop=shop, orders=[shipped()]).unchanged == 1
    assert StockMovement.objects.filter(movement_type="sale").count() == 1
    assert InventoryItem.objects.get(product=product).on_hand == 18


def test_a_file_changing_the_quantity_updates_the_connectors_line(shop, product):
    orders_upsert(shop=shop, orders=[make_order()])
    assert orders_upsert(shop=shop, orders=[without_line_ids(make_order(quantity=3))]).updated == 1
    assert lines() == [("1001-1", "shop-MUG-01", 3)]


def test_a_second_line_of_the_same_sku_with_its_own_id_is_a_line_of_its_own(shop, product):
    orders_upsert(shop=shop, orders=[make_order()])
    order = make_order()
    twin = dataclasses.replace(order.lines[0], platform_line_id="1001-2")
    assert orders_upsert(shop=shop, orders=[dataclasses.replace(order, lines=[*order.lines, twin])]).updated == 1
    assert sorted(lines()) == [("1001-1", "shop-MUG-01", 2), ("1001-2", "shop-MUG-01", 2)]
