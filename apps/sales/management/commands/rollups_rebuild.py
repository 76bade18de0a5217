"""Rebuilds the sales rollups of a range of business days from the orders.

Every order writer keeps the rollups current (a new page adds to them, a change rebuilds its days);
this repairs them after anything that bypassed the services, such as rows deleted by hand in SQL."""
import datetime as dt

from django.core.management.base import BaseCommand, CommandError

from apps.platforms.models import Shop
from apps.sales.models import SalesDaily, SkuSalesDaily
from apps.sales.services import sales_rollups_rebuild


def _day(text: str) -> dt.date:
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise CommandError(f"日期格式应为 YYYY-MM-DD：{text}") from None


class Command(BaseCommand):
    help = "按订单重建销售日汇总（SalesDaily、SkuSalesDaily）与客户首单时间：业务日期 --start 至 --end（含），可用 --shop 限定店铺。"

    def add_arguments(self, parser):
        parser.add_argument("--start", required=True, help="开始日期 YYYY-MM-DD（业务时区）")
        parser.add_argument("--end", required=True, help="结束日期 YYYY-MM-DD（业务时区，含）")
        parser.add_argument("--shop", type=int, action="append", help="店铺 ID，可重复；不填为全部店铺")

    def handle(self, *args, start, end, shop, **options):
        start, end = _day(start), _day(end)
        if end < start:
            raise CommandError("结束日期不能早于开始日期。")
        if shop:
            unknown = set(shop) - set(Shop.objects.filter(pk__in=shop).values_list("pk", flat=True))
            if unknown:
                raise CommandError(f"店铺不存在：{', '.join(map(str, sorted(unknown)))}")
        sales_rollups_rebuild(start=start, end=end, shop_ids=shop)
        daily = SalesDaily.objects.filter(date__range=(start, end))
        sku = SkuSalesDaily.objects.filter(date__range=(start, end))
        if shop:
            daily, sku = daily.filter(shop_id__in=shop), sku.filter(shop_id__in=shop)
        self.stdout.write(f"已重建 {start} ~ {end}：销售日汇总 {daily.count()} 行，SKU 销售日汇总 {sku.count()} 行。")
