"""manage.py rollups_rebuild: rollups put right from the orders after a write that bypassed the services."""
from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from apps.sales.ingest import orders_upsert
from apps.sales.models import SalesDaily, SkuSalesDaily

from .test_ingest import DAY, make_order, product, shop, writer  # noqa: F401

pytestmark = pytest.mark.django_db


def rollups():
    return (sorted(SalesDaily.objects.values_list("date", "shop", "orders_count", "units", "gross_sales_base")),
            sorted(SkuSalesDaily.objects.values_list("date", "shop", "product", "orders_count", "units")))


def test_the_command_rebuilds_what_a_raw_delete_left_behind(shop, product):
    orders_upsert(shop=shop, orders=[make_order("r1"), make_order("r2", buyer="b-2", email="b@example.com")])
    right = rollups()
    SalesDaily.objects.update(orders_count=99)  # as if orders had been deleted by hand
    SkuSalesDaily.objects.all().delete()
    out = StringIO()
    call_command("rollups_rebuild", start=str(DAY), end=str(DAY), shop=[shop.pk], stdout=out)
    assert rollups() == right and right[0][0][2] == 2
    assert "销售日汇总 1 行，SKU 销售日汇总 1 行" in out.getvalue()


@pytest.mark.parametrize("options, message", [
    ({"start": "2025-07-02", "end": "2025-07-01"}, "结束日期不能早于开始日期"),
    ({"start": "2025-7-1x", "end": "2025-07-01"}, "日期格式应为 YYYY-MM-DD"),
    ({"start": "2025-07-01", "end": "2025-07-01", "shop": [987654]}, "店铺不存在：987654"),
])
def test_bad_options_are_refused_with_the_reason(options, message):
    with pytest.raises(CommandError, match=message):
        call_command("rollups_rebuild", **options)
    assert not SalesDaily.objects.exists()
