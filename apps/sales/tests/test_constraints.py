from decimal import Decimal

import pytest
from django.db import IntegrityError, transaction

from apps.platforms.tests.factories import ShopFactory
from apps.sales.models import Order

from .factories import OrderFactory

pytestmark = pytest.mark.django_db


def test_duplicate_order_in_the_same_shop_is_rejected():
    order = OrderFactory(platform_order_id="111-2222222-3333333")
    with pytest.raises(IntegrityError), transaction.atomic():
        OrderFactory(shop=order.shop, platform_order_id="111-2222222-3333333")
    assert Order.objects.count() == 1


def test_the_same_platform_order_id_in_another_shop_is_allowed():
    order = OrderFactory(platform_order_id="1001")
    OrderFactory(shop=ShopFactory(), platform_order_id="1001")
    assert Order.objects.filter(platform_order_id=order.platform_order_id).count() == 2


def test_refund_above_the_order_total_is_rejected():
    with pytest.raises(IntegrityError), transaction.atomic():
        OrderFactory(total_amount=Decimal("10.00"), refund_amount=Decimal("10.01"))


def test_negative_amounts_are_rejected():
    with pytest.raises(IntegrityError), transaction.atomic():
        OrderFactory(platform_fee=Decimal("-1.00"))
