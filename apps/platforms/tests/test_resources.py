from decimal import Decimal

import pytest
import tablib
from django.db import connection
from django.test.utils import CaptureQueriesContext

from apps.core.resources import import_errors
from apps.finance.tests.factories import CurrencyFactory
from apps.inventory.tests.factories import ProductFactory
from apps.platforms.models import Listing
from apps.platforms.resources import ListingResource
from apps.platforms.tests.factories import ListingFactory, ShopFactory

pytestmark = pytest.mark.django_db


def export_csv() -> str:
    return ListingResource().export().csv


def import_csv(text: str, **kwargs):
    return ListingResource().import_data(tablib.Dataset().load(text, format="csv"), **kwargs)


@pytest.fixture
def shop():
    return ShopFactory(code="us-store")


def test_listings_export_with_shop_code_and_master_sku_instead_of_ids(shop):
    ListingFactory(shop=shop, platform_sku="AMZ-1", product=ProductFactory(sku="MUG-01"), price=Decimal("9.90"))

    rows = tablib.Dataset().load(export_csv(), format="csv").dict

    assert rows == [{
        "shop": "us-store", "platform_sku": "AMZ-1", "platform_item_id": "", "title": rows[0]["title"],
        "sku": "MUG-01", "price": "9.90", "currency": "USD", "platform_stock": "", "is_active": "1",
    }]


def test_listings_round_trip_restores_changed_and_deleted_rows(shop):
    ListingFactory(shop=shop, platform_sku="A-1", product=ProductFactory(sku="MUG-01"))
    ListingFactory(shop=shop, platform_sku="A-2", product=None, platform_stock=-2)
    ListingFactory(shop=ShopFactory(code="de-store", currency=CurrencyFactory(code="EUR")), platform_sku="A-1")
    first = export_csv()
    Listing.objects.filter(platform_sku="A-2").delete()
    Listing.objects.filter(shop=shop, platform_sku="A-1").update(price=Decimal("1.00"), product=None, title="changed")

    result = import_csv(first)

    assert not result.has_errors() and not result.has_validation_errors()
    assert result.totals["new"] == 1 and result.totals["update"] == 1 and result.totals["skip"] == 1
    assert export_csv() == first


def test_importing_the_same_listings_twice_changes_nothing_the_second_time(shop):
    ProductFactory(sku="MUG-01")
    text = "shop,platform_sku,title,sku,price,currency\nus-store,X-1,Mug,MUG-01,12.50,USD\nus-store,X-2,Cup,,3,\n"
    import_csv(text)
    updated_at = list(Listing.objects.order_by("pk").values_list("updated_at", flat=True))

    again = import_csv(text)

    assert again.totals["skip"] == 2 and again.totals["new"] == 0 and again.totals["update"] == 0
    assert list(Listing.objects.order_by("pk").values_list("updated_at", flat=True)) == updated_at
    assert Listing.objects.get(platform_sku="X-2").currency_id == "USD"  # blank currency: the shop's


def test_a_file_with_a_bad_listing_after_good_ones_writes_nothing_and_names_each_row(shop):
    ProductFactory(sku="MUG-01")
    text = (
        "shop,platform_sku,sku,price,currency\n"
        "us-store,OK-1,MUG-01,1.00,USD\n"
        "us-store,OK-2,MUG-01,2.00,USD\n"
        "nowhere,BAD-1,NOPE,-1,XXX\n"
    )

    result = import_csv(text)

    assert Listing.objects.count() == 0
    errors = {(e["row"], e["column"]): e["message"] for e in import_errors(result)}
    assert errors[(3, "shop")] == "未知店铺：nowhere。"
    assert errors[(3, "sku")] == "未知SKU：NOPE。"
    assert "不能为负数" in errors[(3, "price")]
    assert errors[(3, "currency")] == "未知币种：XXX。"
    assert {row for row, _ in errors} == {3}


def test_a_listing_file_without_the_platform_sku_column_is_rejected_as_a_whole(shop):
    result = import_csv("shop,sku,price\nus-store,,1\n")

    assert [e["message"] for e in import_errors(result)] == ["文件缺少必需的列：platform_sku。"]
    assert Listing.objects.count() == 0


def test_exporting_listings_costs_the_same_queries_for_one_or_many_rows(shop):
    def queries():
        with CaptureQueriesContext(connection) as captured:
            export_csv()
        return len(captured)

    ListingFactory(shop=shop)
    one = queries()
    ListingFactory.create_batch(3, shop=ShopFactory(currency=CurrencyFactory(code="EUR")))

    assert queries() == one
