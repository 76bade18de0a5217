"""FastReadMixin gives exactly DRF's representation, field for field, for orders with their lines."""
import datetime as dt
from decimal import Decimal

import pytest
from rest_framework import serializers

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


def test_the_fast_representation_equals_drfs_for_orders_with_and_without_optional_values():
    full = OrderFactory(
        customer=CustomerFactory(), shipped_at=dt.datetime(2025, 7, 2, 3, 4, 5, tzinfo=dt.UTC),
        refund_amount=Decimal("1.50"), buyer_country="DE",
    )
    OrderLineFactory(order=full, quantity=3, unit_price=Decimal("9.99"))
    OrderLineFactory(order=full, product=None, listing=None, unit_cost_base=None)
    bare = OrderFactory(customer=None, warehouse=None, shipped_at=None, paid_at=None)
    orders = list(Order.objects.select_related("shop__platform").prefetch_related("lines").order_by("pk"))

    fast = OrderSerializer(orders, many=True).data
    plain = PlainOrderSerializer(orders, many=True).data

    assert [dict(row) for row in fast] == [dict(row) for row in plain]
    assert fast[0]["lines"][0]["quantity"] == 3 and fast[1]["customer"] is None and fast[0]["customer"] == full.customer_id
    assert bare.pk == fast[1]["id"] and fast[0]["shipped_at"] is not None
    assert set(fast[0]) == set(OrderSerializer.Meta.fields)
