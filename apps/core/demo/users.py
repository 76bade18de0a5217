"""Demo users (one per predefined role), salespeople and their monthly targets."""
from dataclasses import dataclass
from decimal import Decimal

from django.contrib.auth.models import Group
from django.core.management.base import CommandError

from apps.sales.models import Salesperson, SalesTarget
from apps.users.models import User

from .context import DemoContext, month_end

# username, role (group) name, display name, superuser, shop codes (None: all shops)
DEMO_USERS = [
    ("admin", "管理员", "系统管理员", True, None),
    ("ops", "运营", "运营 张伟", False, ["amz-us", "amz-de", "amz-uk", "amz-jp", "ebay-us", "walmart-us"]),
    ("warehouse", "仓库", "仓库 李强", False, None),
    ("finance", "财务", "财务 周敏", False, None),
    ("readonly", "只读", "只读 访客", False, ["amz-us", "shopify-us", "woo-eu"]),
]

# name, team, e-mail local part
SALESPEOPLE = [
    ("张伟", "欧美一组", "zhang.wei"),
    ("李娜", "欧洲组", "li.na"),
    ("王芳", "亚太组", "wang.fang"),
    ("刘洋", "独立站组", "liu.yang"),
    ("陈静", "新兴平台组", "chen.jing"),
    ("赵磊", "欧美一组", "zhao.lei"),
]


def demo_password(username: str) -> str:
    return f"demo-{username}-2024!"


@dataclass
class DemoAccount:
    username: str
    role: str
    password: str | None  # None: the account already existed and was left as it was
    user: User


def create_users() -> list[DemoAccount]:
    """One staff user per predefined role; an existing username is left untouched."""
    groups = {group.name: group for group in Group.objects.filter(name__in=[row[1] for row in DEMO_USERS])}
    missing = sorted({row[1] for row in DEMO_USERS} - set(groups))
    if missing:
        raise CommandError(f"缺少预置角色 {'、'.join(missing)}，请先运行 python manage.py migrate。")
    accounts = []
    for username, role, display_name, superuser, _ in DEMO_USERS:
        user = User.objects.filter(username=username).first()
        if user is not None:
            accounts.append(DemoAccount(username, role, None, user))
            continue
        user = User(
            username=username, display_name=display_name, email=f"{username}@demo.example.com", is_staff=True,
            is_superuser=superuser,
        )
        password = demo_password(username)
        user.set_password(password)
        user.save()
        user.groups.add(groups[role])
        accounts.append(DemoAccount(username, role, password, user))
    return accounts


def assign_shops(accounts: list[DemoAccount], shops) -> None:
    by_code = {info.spec.code: info.shop for info in shops}
    for account, (_, _, _, _, codes) in zip(accounts, DEMO_USERS, strict=True):
        if account.password is None:
            continue
        wanted = list(by_code.values()) if codes is None else [by_code[code] for code in codes]
        account.user.shops.add(*wanted)


def create_salespeople(accounts: list[DemoAccount]) -> list[Salesperson]:
    ops = next(account.user for account in accounts if account.username == "ops")
    rows = [
        Salesperson(name=name, team=team, email=f"{local}@demo.example.com")
        for name, team, local in SALESPEOPLE
    ]
    # The operations demo user is 张伟, so "my shops" in the SPA has a salesperson behind it.
    if not Salesperson.objects.filter(user=ops).exists():
        rows[0].user = ops
    return Salesperson.objects.bulk_create(rows)


def create_sales_targets(ctx: DemoContext, salespeople: list[Salesperson], monthly_sales: dict) -> None:
    """Targets near what each salesperson's shops actually sold (a full month for the current one).
    `monthly_sales[(salesperson index, month)]` is the base-currency sales of that month."""
    rng = ctx.rng("targets")
    rows = []
    for month in ctx.months():
        last = month_end(month)
        for index, person in enumerate(salespeople):
            actual = monthly_sales.get((index, month), Decimal("0"))
            days_covered = (min(last, ctx.end) - max(month, ctx.start)).days + 1
            full_month = actual * Decimal((last - month).days + 1) / Decimal(max(days_covered, 1))
            target = full_month * Decimal(str(rng.uniform(0.9, 1.2)))
            rows.append(
                SalesTarget(
                    salesperson=person, month=month,
                    target_amount_base=(max(target, Decimal("10000")) / 1000).quantize(Decimal("1")) * 1000,
                )
            )
    SalesTarget.objects.bulk_create(rows, batch_size=ctx.batch_size)

