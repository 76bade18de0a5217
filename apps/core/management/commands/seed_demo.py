"""python manage.py seed_demo — fills an empty database with deterministic cross-border demo data."""
import datetime as dt
import unicodedata

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from apps.core.demo import DemoOptions, database_has_orders, seed_demo


def _positive(value: str) -> int:
    number = int(value)
    if number <= 0:
        raise ValueError(value)
    return number


def _date(value: str) -> dt.date:
    return dt.date.fromisoformat(value)


def _width(text: str) -> int:
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def _pad(text: str, width: int) -> str:
    """Left-aligns text to a terminal width (Chinese characters take two columns)."""
    return text + " " * max(width - _width(text), 0)


class Command(BaseCommand):
    help = (
        "生成演示数据：币种与每日汇率、8 个平台 12 个店铺、500 个商品、仓库与库存流水、采购单、"
        "18 个月订单、财务记录、费用、收入、销售目标和每个角色的演示账号。同一种子与截止日期生成相同数据。"
    )

    def add_arguments(self, parser):
        parser.add_argument("--orders", type=_positive, default=DemoOptions.orders, help="订单数（默认 %(default)s）")
        parser.add_argument("--seed", type=int, default=DemoOptions.seed, help="随机种子（默认 %(default)s）")
        parser.add_argument(
            "--end-date", type=_date, default=None, help="数据截止日期 YYYY-MM-DD（默认今天，业务时区）"
        )
        parser.add_argument(
            "--batch-size", type=_positive, default=DemoOptions.batch_size, help="每批写入行数（默认 %(default)s）"
        )
        parser.add_argument("--if-empty", action="store_true", help="数据库已有订单时什么也不做")
        parser.add_argument(
            "--force", action="store_true", help="DEBUG 关闭时也创建演示账号（密码公开，切勿用于生产）"
        )

    def handle(self, *args, **options):
        if options["if_empty"] and database_has_orders():
            self.stdout.write("数据库中已有订单，跳过演示数据生成（--if-empty）。")
            return
        if not settings.DEBUG and not options["force"]:
            raise CommandError(
                "DEBUG 已关闭：seed_demo 会创建密码公开的演示账号，不应在生产环境运行。"
                "确认是演示/测试环境时请加 --force。"
            )
        demo_options = DemoOptions(
            orders=options["orders"], seed=options["seed"], end_date=options["end_date"],
            batch_size=options["batch_size"],
        )
        verbosity = options["verbosity"]
        result = seed_demo(
            demo_options,
            today=timezone.localdate(),
            log=(lambda message: self.stdout.write(message)) if verbosity >= 1 else (lambda message: None),
        )
        if verbosity < 1:
            return
        self.stdout.write("")
        self.stdout.write(f"演示数据范围：{result.start} ~ {result.end}")
        width = max(_width(str(name)) for name, _ in result.counts)
        for name, count in result.counts:
            self.stdout.write(f"  {_pad(str(name), width)}  {count:>10,}")
        self.stdout.write("")
        self.stdout.write("演示账号（均为后台员工，可登录 /admin/ 与前端）：")
        self.stdout.write(f"  {_pad('用户名', 10)}  {_pad('角色', 6)}  密码")
        for account in result.accounts:
            password = account.password or "（账号已存在，未修改密码）"
            self.stdout.write(f"  {_pad(account.username, 10)}  {_pad(account.role, 6)}  {password}")
        self.stdout.write(self.style.SUCCESS(f"完成，用时 {result.seconds:.1f} 秒。"))
