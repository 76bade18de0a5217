from decimal import Decimal

import factory

from apps.finance.tests.factories import CurrencyFactory
from apps.platforms.models import CollectionRun, ImportJob, Listing, Platform, QuarantinedRecord, Shop


class PlatformFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Platform
        django_get_or_create = ("code",)

    code = "shopify"
    name = factory.LazyAttribute(lambda o: o.code.title())


class ShopFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Shop

    platform = factory.SubFactory(PlatformFactory)
    name = factory.Sequence(lambda n: f"测试店铺{n}")
    code = factory.Sequence(lambda n: f"shop-{n}")
    external_id = factory.Sequence(lambda n: f"ext-{n}")
    country = "US"
    currency = factory.SubFactory(CurrencyFactory, code="USD")
    credentials = factory.LazyFunction(lambda: {"access_token": "shpat_test_secret_9876"})
    platform_fee_rate = Decimal("0.0500")


class ListingFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Listing

    shop = factory.SubFactory(ShopFactory)
    platform_sku = factory.Sequence(lambda n: f"LST-{n:05d}")
    title = factory.Sequence(lambda n: f"Listing {n}")
    product = factory.SubFactory("apps.inventory.tests.factories.ProductFactory")
    price = Decimal("19.99")
    currency = factory.LazyAttribute(lambda o: o.shop.currency)


class CollectionRunFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = CollectionRun

    shop = factory.SubFactory(ShopFactory)
    kind = CollectionRun.Kind.ORDERS


class QuarantinedRecordFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = QuarantinedRecord

    shop = factory.SubFactory(ShopFactory)
    kind = CollectionRun.Kind.ORDERS
    external_id = "bad-1"
    reason = "缺少下单时间"
    payload = factory.LazyFunction(lambda: {"id": "bad-1"})


class ImportJobFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ImportJob

    kind = ImportJob.Kind.PRODUCTS
    file = factory.django.FileField(filename="products.csv", data=b"sku,name\n")
    original_filename = "products.csv"
