"""FastReadMixin gives exactly DRF's representation, field for field, for orders with their lines."""
import datetime as dt
from decimal import Decimal

import pytest
from django.utils import timezone
from rest_framework import serializers

from apps.core.api.fastread import FastReadMixin
from apps.sales.api.serializers import OrderLineSerializer, OrderSerializer
from apps.sales.models import Order
from apps.sales.tests.factories import CustomerFactory, OrderFactory, OrderLineFactory

pytestmark = pytest.mark.django_db


class PlainOrderLineSerializer(serializers.ModelSerializer):
    class Meta(OrderLineSerializer.Meta):
        pass


class PlainOrderSerializer(serializers.ModelSerializer):
    shop_code = serializers.CharField(source="shop.code", read_only=True)
    platform = serializers.CharField(source="shop.platform.code", read_only=True)
    lines = PlainOrderLineSerializer(many=True, read_only=True)

    class Meta(OrderSerializer.Meta):
        pass


@pytest.mark.parametrize("zone", ["Asia/Shanghai", "UTC", "America/New_York"])
def test_the_fast_representation_equals_drfs_for_orders_with_and_without_optional_values(zone):
    full = OrderFactory(
        customer=CustomerFactory(), shipped_at=dt.datetime(2025, 7, 2, 3, 4, 5, tzinfo=dt.UTC),
        refund_amount=Decimal("1.50"), buyer_country="DE",
    )
    OrderLineFactory(order=full, quantity=3, unit_price=Decimal("9.99"))
    OrderLineFactory(order=full, product=None, listing=None, unit_cost_base=None)
    bare = OrderFactory(customer=None, warehouse=None, shipped_at=None, paid_at=None)
    orders = list(Order.objects.select_related("shop__platform").prefetch_related("lines").order_by("pk"))

    with timezone.override(zone):
        fast = OrderSerializer(orders, many=True).data
        plain = PlainOrderSerializer(orders, many=True).data

    assert [dict(row) for row in fast] == [dict(row) for row in plain]
    assert fast[0]["shipped_at"] == {"UTC": "2025-07-02T03:04:05Z", "Asia/Shanghai": "2025-07-02T11:04:05+08:00",
                                     "America/New_York": "2025-07-01T23:04:05-04:00"}[zone]
    assert fast[0]["lines"][0]["quantity"] == 3 and fast[1]["customer"] is None and fast[0]["customer"] == full.customer_id
    assert bare.pk == fast[1]["id"] and fast[0]["shipped_at"] is not None
    assert set(fast[0]) == set(OrderSerializer.Meta.fields)


def test_the_read_plan_is_made_once_per_class_and_holds_no_request(monkeypatch, rf):
    order = OrderFactory()
    OrderLineFactory(order=order)
    orders = list(Order.objects.select_related("shop__platform").prefetch_related("lines"))
    for cls in (OrderSerializer, OrderLineSerializer):
        monkeypatch.delattr(cls, "_read_plan", raising=False)
    made = []
    original = FastReadMixin._make_read_plan
    monkeypatch.setattr(FastReadMixin, "_make_read_plan", lambda self: made.append(self) or original(self))

    first = OrderSerializer(orders, many=True, context={"request": rf.get("/a")}).data
    second = OrderSerializer(orders, many=True, context={"request": rf.get("/b")}).data

    assert first == second and len(made) == 2  # one order plan, one line plan (the nested serializer)
    assert {type(serializer) for serializer in made} == {OrderSerializer, OrderLineSerializer}
    assert all(serializer.context == {} for serializer in made)
    assert "_read_plan" in OrderSerializer.__dict__ and "_read_plan" in OrderLineSerializer.__dict__


@pytest.mark.parametrize("value", [
    Decimal("12.30"), Decimal("-0.00"), Decimal("0.05"), Decimal("12.3"), Decimal("7"), Decimal("1E+3"),
    Decimal("2.345"), Decimal("2.355"), 12.5, 3, Decimal("9999999999999999.99"),
])
def test_decimals_read_exactly_as_drf_writes_them_whatever_their_places(value):
    # Not only what the database returns: any places, or not a Decimal at all.
    (convert, zoned), = [(convert, zoned) for name, _, convert, zoned in OrderSerializer._class_read_plan()
                         if name == "total_amount"]
    assert not zoned and convert(value) == PlainOrderSerializer().fields["total_amount"].to_representation(value)
