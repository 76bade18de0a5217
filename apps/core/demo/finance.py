"""The books of the demo. Financial records are aggregated, not per order: one sale, one refund and
one platform-fee record per shop and business day of the orders (source_key
`demo:<type>:<shop>:<day>`), one purchase record per purchase order received. Expenses are
monthly per category with approval states; revenues are order sales per shop and month plus
platform subsidies."""
import datetime as dt
from decimal import Decimal

from apps.core.money import quantize_money
from apps.finance.models import Expense, FinancialRecord, Revenue

from .context import DemoContext, month_end, quantize_to
from .orders import OrderTotals
from .purchasing import PurchaseDraft
from .reference import QUANTUM
from .shops import ShopInfo
from .writer import FastTable

R = FinancialRecord.RecordType
D = FinancialRecord.Direction
C = Expense.Category
REJECTION_REASONS = ["发票缺失，请补充后重新提交", "金额与合同不符", "重复报销", "超出本月预算，请下月再报"]
SUBSIDISED = {"shopee": 0.02, "tiktok": 0.03, "aliexpress": 0.01}


def _record(ctx: DemoContext, table: FastTable, *, kind, direction, shop, currency, amount, day, description, key,
            when=None) -> None:
    rate = ctx.rates.rate(currency, day)
    when = when or ctx.at(day, 23, 59)
    table.add({
        "id": table.allocate_id(), "record_type": kind, "direction": direction, "shop_id": shop.pk if shop else None,
        "currency_id": currency, "amount": amount, "exchange_rate": rate, "amount_base": quantize_money(amount * rate),
        "occurred_at": when, "description": description, "source_key": key, "created_at": when, "updated_at": when,
    })


def create_financial_records(
    ctx: DemoContext, shops: list[ShopInfo], totals: OrderTotals, purchases: list[PurchaseDraft]
) -> None:
    table = FastTable(FinancialRecord, batch_size=ctx.batch_size)
    by_day_then_shop = sorted(totals.by_shop_day.items(), key=lambda item: (item[0][1], item[0][0]))
    for (shop_index, day), (total, refund, fee) in by_day_then_shop:
        shop = shops[shop_index]
        code, currency = shop.spec.code, shop.spec.currency
        for kind, direction, amount, label in (
            (R.SALE, D.INCOME, total, "订单销售收入（日汇总）"),
            (R.REFUND, D.OUTGO, refund, "订单退款（日汇总）"),
            (R.PLATFORM_FEE, D.OUTGO, fee, "平台佣金（日汇总）"),
        ):
            if amount:
                _record(ctx, table, kind=kind, direction=direction, shop=shop.shop, currency=currency, amount=amount,
                        day=day, description=f"{shop.spec.name} {label}", key=f"demo:{kind}:{code}:{day.isoformat()}")
    for draft in purchases:
        value = draft.received_value()
        if value:
            _record(ctx, table, kind=R.PURCHASE, direction=D.OUTGO, shop=None, currency="CNY", amount=value,
                    day=draft.last_receipt_at.date(), description=f"采购付款 {draft.number}",
                    key=f"demo:purchase:{draft.number}", when=draft.last_receipt_at)
    table.close()


def _monthly_sales(ctx: DemoContext, shops, totals: OrderTotals) -> dict[tuple[int, dt.date], list[Decimal]]:
    """(shop index, month) -> [gross, refunds] in the shop's currency."""
    monthly: dict[tuple[int, dt.date], list[Decimal]] = {}
    for (shop_index, day), (total, refund, _) in totals.by_shop_day.items():
        sums = monthly.setdefault((shop_index, day.replace(day=1)), [Decimal("0"), Decimal("0")])
        sums[0] += total
        sums[1] += refund
    return monthly


def create_expenses(ctx: DemoContext, shops: list[ShopInfo], totals: OrderTotals, users: dict) -> None:
    rng = ctx.rng("expenses")
    monthly = _monthly_sales(ctx, shops, totals)
    rows = []

    def add(category, shop, currency, amount, day, description):
        amount = quantize_to(Decimal(str(amount)), QUANTUM[currency])
        if amount <= 0 or day > ctx.end or day < ctx.start:
            return
        rate = ctx.rates.rate(currency, day)
        expense = Expense(
            category=category, shop=shop, expense_date=day, currency_id=currency, amount=amount, exchange_rate=rate,
            amount_base=quantize_money(amount * rate), description=description,
            submitted_by=users["ops"] if category in (C.ADVERTISING, C.PLATFORM) else users["finance"],
        )
        if (ctx.end - day).days > 10:
            decided = rng.random()
            expense.reviewed_by = users["admin"]
            expense.reviewed_at = ctx.at(min(day + dt.timedelta(days=rng.randint(1, 5)), ctx.end), 10)
            if decided < 0.06:
                expense.status = Expense.Status.REJECTED
                expense.rejection_reason = rng.choice(REJECTION_REASONS)
            else:
                expense.status = Expense.Status.APPROVED
        rows.append(expense)

    for month_number, month in enumerate(ctx.months()):
        last = min(month_end(month), ctx.end)
        for shop_index, shop in enumerate(shops):
            gross = monthly.get((shop_index, month), [Decimal("0")])[0]
            currency = shop.spec.currency
            if gross:
                add(C.ADVERTISING, shop.shop, currency, float(gross) * rng.uniform(0.05, 0.10), last,
                    f"{shop.spec.name} {month:%Y-%m} 站内广告")
            if shop.spec.platform == "amazon" and shop.opens_on <= last:
                add(C.PLATFORM, shop.shop, currency, {"JPY": 4900, "GBP": 25, "EUR": 39}.get(currency, 39.99),
                    month + dt.timedelta(days=4), f"{shop.spec.name} 专业卖家月租")
            if shop.fulfilled_by_platform and gross:
                add(C.WAREHOUSING, shop.shop, currency, float(gross) * rng.uniform(0.01, 0.02), last,
                    f"{shop.spec.name} FBA 仓储费")
        rate_day = min(month_end(month), ctx.end)
        sales_base = sum(
            (sums[0] * ctx.rates.rate(shops[index].spec.currency, rate_day)
             for (index, sales_month), sums in monthly.items() if sales_month == month),
            Decimal("0"),
        )
        freight = float(sales_base) * rng.uniform(0.06, 0.09)
        add(C.LOGISTICS, None, "CNY", freight, last, f"{month:%Y-%m} 头程海运/空运费")
        add(C.WAREHOUSING, None, "USD", rng.uniform(1800, 3200), last, f"{month:%Y-%m} 洛杉矶海外仓仓租及操作费")
        add(C.WAREHOUSING, None, "EUR", rng.uniform(900, 1800), last, f"{month:%Y-%m} 法兰克福海外仓仓租及操作费")
        salary = rng.uniform(180_000, 230_000) * (1 + 0.015 * month_number)
        add(C.SALARY, None, "CNY", salary, month + dt.timedelta(days=9),
            f"{month:%Y-%m} 员工工资")
        add(C.RENT, None, "CNY", 36_000, month, f"{month:%Y-%m} 办公室及仓库租金")
        add(C.SOFTWARE, None, "USD", 299, month + dt.timedelta(days=1), f"{month:%Y-%m} SaaS 工具订阅")
        if rng.random() < 0.4:
            add(C.OTHER, None, "CNY", rng.uniform(2_000, 15_000), month + dt.timedelta(days=rng.randint(0, 25)),
                rng.choice(["CE/FCC 产品认证费", "商标注册代理费", "样品采购及快递费", "团队建设活动"]))
    Expense.objects.bulk_create(rows, batch_size=ctx.batch_size)


def create_revenues(ctx: DemoContext, shops: list[ShopInfo], totals: OrderTotals) -> None:
    rng = ctx.rng("revenues")
    rows = []
    monthly = sorted(_monthly_sales(ctx, shops, totals).items(), key=lambda item: (item[0][1], item[0][0]))
    for (shop_index, month), (gross, refunds) in monthly:
        shop = shops[shop_index]
        currency = shop.spec.currency
        day = min(month_end(month), ctx.end)
        rate = ctx.rates.rate(currency, day)
        net = gross - refunds
        if net > 0:
            rows.append(
                Revenue(source=Revenue.Source.ORDER_SALES, shop=shop.shop, revenue_date=day, currency_id=currency,
                        amount=net, exchange_rate=rate, amount_base=quantize_money(net * rate),
                        description=f"{shop.spec.name} {month:%Y-%m} 订单销售收入（扣除退款）")
            )
        share = SUBSIDISED.get(shop.spec.platform)
        if share and net > 0:
            subsidy = quantize_to(net * Decimal(str(round(share * rng.uniform(0.5, 1.5), 4))), QUANTUM[currency])
            if subsidy > 0:
                rows.append(
                    Revenue(source=Revenue.Source.PLATFORM_SUBSIDY, shop=shop.shop, revenue_date=day,
                            currency_id=currency, amount=subsidy, exchange_rate=rate,
                            amount_base=quantize_money(subsidy * rate),
                            description=f"{shop.spec.name} {month:%Y-%m} 平台活动补贴")
                )
    for month in ctx.months():
        if rng.random() < 0.25:
            day = min(month + dt.timedelta(days=rng.randint(5, 25)), ctx.end)
            amount = quantize_to(Decimal(str(rng.uniform(500, 6000))), QUANTUM["CNY"])
            rate = ctx.rates.rate("CNY", day)
            rows.append(
                Revenue(source=Revenue.Source.OTHER, shop=None, revenue_date=day, currency_id="CNY", amount=amount,
                        exchange_rate=rate, amount_base=quantize_money(amount * rate), description="物流丢件理赔款")
            )
    Revenue.objects.bulk_create(rows, batch_size=ctx.batch_size)
