import datetime as dt
from decimal import Decimal

import factory

from apps.platforms.tests.factories import ShopFactory
from apps.sales.models import Customer, Order, OrderLine, SalesDaily, Salesperson, SalesTarget, SkuSalesDaily


class CustomerFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Customer

    shop = factory.SubFactory(ShopFactory)
    platform_buyer_id = factory.Sequence(lambda n: f"buyer-{n}")
    email = factory.Sequence(lambda n: f"buyer{n}@example.com")
    name = factory.Sequence(lambda n: f"Buyer {n}")
    country = "US"


class SalespersonFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Salesperson

    name = factory.Sequence(lambda n: f"销售{n}")


class SalesTargetFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = SalesTarget

    salesperson = factory.SubFactory(SalespersonFactory)
    month = dt.date(2025, 1, 1)
    target_amount_base = Decimal("100000.00")


class OrderFactory(factory.django.DjangoModelFactory):
    """An order in the shop's currency at rate 7.1 to base; amounts are consistent."""

    class Meta:
        model = Order

    shop = factory.SubFactory(ShopFactory)
    platform_order_id = factory.Sequence(lambda n: f"PO{n:08d}")
    order_number = factory.LazyAttribute(lambda o: f"#{o.platform_order_id}")
    status = Order.Status.PAID
    platform_status = "paid"
    buyer_country = "US"
    currency = factory.LazyAttribute(lambda o: o.shop.currency)
    items_amount = Decimal("100.00")
    total_amount = Decimal("100.00")
    exchange_rate = Decimal("7.10000000")
    items_amount_base = Decimal("710.00")
    total_amount_base = Decimal("710.00")
    ordered_at = factory.LazyFunction(lambda: dt.datetime(2025, 1, 2, 3, 0, tzinfo=dt.UTC))


class OrderLineFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = OrderLine

    order = factory.SubFactory(OrderFactory)
    product = factory.SubFactory("apps.inventory.tests.factories.ProductFactory")
    platform_sku = factory.LazyAttribute(lambda o: o.product.sku if o.product else "UNKNOWN")
    quantity = 1
    unit_price = Decimal("100.00")
    line_total = Decimal("100.00")
    line_total_base = Decimal("710.00")


class SalesDailyFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = SalesDaily

    date = dt.date(2025, 1, 2)
    shop = factory.SubFactory(ShopFactory)
    platform = factory.LazyAttribute(lambda o: o.shop.platform)
    buyer_country = "US"
    orders_count = 1
    units = 1
    gross_sales_base = Decimal("710.00")


class SkuSalesDailyFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = SkuSalesDaily

    date = dt.date(2025, 1, 2)
    shop = factory.SubFactory(ShopFactory)
    product = factory.SubFactory("apps.inventory.tests.factories.ProductFactory")
    orders_count = 1
    units = 1
    gross_sales_base = Decimal("710.00")
