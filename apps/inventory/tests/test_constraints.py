"""Invariants the database itself enforces, whatever code writes."""
import pytest
from django.db import IntegrityError, transaction

from apps.inventory.models import InventoryItem, PurchaseOrderLine

from .factories import InventoryItemFactory, PurchaseOrderLineFactory

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    "fields",
    [{"on_hand": -1}, {"reserved": -1}, {"on_hand": 2, "reserved": 3}],
    ids=["negative-on-hand", "negative-reserved", "reserved-above-on-hand"],
)
def test_negative_stock_is_rejected_by_the_database(fields):
    item = InventoryItemFactory()
    with pytest.raises(IntegrityError), transaction.atomic():
        InventoryItem.objects.filter(pk=item.pk).update(**fields)
    item.refresh_from_db()
    assert (item.on_hand, item.reserved) == (0, 0)


def test_available_is_computed_by_the_database():
    item = InventoryItemFactory()
    InventoryItem.objects.filter(pk=item.pk).update(on_hand=9, reserved=4)
    item.refresh_from_db()
    assert item.available == 5


def test_one_stock_row_per_product_and_warehouse():
    item = InventoryItemFactory()
    with pytest.raises(IntegrityError), transaction.atomic():
        InventoryItem.objects.create(product=item.product, warehouse=item.warehouse)


def test_received_above_ordered_is_rejected_by_the_database():
    line = PurchaseOrderLineFactory(quantity_ordered=3)
    with pytest.raises(IntegrityError), transaction.atomic():
        PurchaseOrderLine.objects.filter(pk=line.pk).update(quantity_received=4)
