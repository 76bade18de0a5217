from django.conf import settings
from django.db import models
from django.db.models import Q

from apps.core.models import TimeStampedModel
from apps.core.money import currency_field, money_field, rate_field


class Currency(models.Model):
    code = models.CharField("代码", max_length=3, primary_key=True, help_text="ISO 4217，如 USD")
    name = models.CharField("名称", max_length=64)
    symbol = models.CharField("符号", max_length=8, blank=True)
    decimal_places = models.PositiveSmallIntegerField("小数位", default=2)
    is_active = models.BooleanField("启用", default=True)

    class Meta:
        db_table = "currencies"
        verbose_name = "币种"
        verbose_name_plural = "币种"
        ordering = ["code"]
        constraints = [
            models.CheckConstraint(condition=Q(code__regex=r"^[A-Z]{3}$"), name="currency_code_iso4217"),
        ]

    def __str__(self):
        return f"{self.code} {self.name}"


class ExchangeRate(TimeStampedModel):
    """One unit of `currency` is worth `rate` units of `base_currency` on `rate_date`."""

    currency = currency_field("币种", related_name="rates")
    base_currency = currency_field("本位币")
    rate_date = models.DateField("日期")
    rate = rate_field("汇率")
    source = models.CharField("来源", max_length=32, blank=True, default="manual")

    class Meta:
        db_table = "exchange_rates"
        verbose_name = "汇率"
        verbose_name_plural = "汇率"
        ordering = ["-rate_date", "currency"]
        constraints = [
            models.UniqueConstraint(
                fields=["currency", "base_currency", "rate_date"], name="exchange_rate_unique_per_day"
            ),
            models.CheckConstraint(condition=Q(rate__gt=0), name="exchange_rate_positive"),
        ]

    def __str__(self):
        return f"{self.rate_date} 1 {self.currency_id} = {self.rate} {self.base_currency_id}"


class FinancialRecord(TimeStampedModel):
    """A line in the books: sales, refunds, platform fees, shipping, purchases, expenses."""

    class RecordType(models.TextChoices):
        SALE = "sale", "销售收入"
        REFUND = "refund", "退款"
        PLATFORM_FEE = "platform_fee", "平台费用"
        SHIPPING = "shipping", "物流费用"
        PURCHASE = "purchase", "采购支出"
        EXPENSE = "expense", "费用支出"
        OTHER = "other", "其他"

    class Direction(models.TextChoices):
        INCOME = "income", "收入"
        OUTGO = "outgo", "支出"

    record_type = models.CharField("类型", max_length=20, choices=RecordType.choices)
    direction = models.CharField("方向", max_length=8, choices=Direction.choices)
    shop = models.ForeignKey(
        "platforms.Shop", verbose_name="店铺", on_delete=models.PROTECT, null=True, blank=True,
        related_name="financial_records", db_index=False,  # (shop, occurred_at) leads with it
    )
    order = models.ForeignKey(
        "sales.Order", verbose_name="订单", on_delete=models.CASCADE, null=True, blank=True,
        related_name="financial_records",
    )
    currency = currency_field("币种", db_index=False)  # read only when a currency is deleted
    amount = money_field("金额")
    exchange_rate = rate_field("汇率")
    amount_base = money_field("本位币金额")
    occurred_at = models.DateTimeField("发生时间")
    description = models.CharField("说明", max_length=255, blank=True)
    # Makes a record idempotent: re-collecting an order rewrites, never duplicates, its records.
    source_key = models.CharField("来源键", max_length=128, unique=True, null=True, blank=True)

    class Meta:
        db_table = "financial_records"
        verbose_name = "财务记录"
        verbose_name_plural = "财务记录"
        permissions = [("view_profit", "可以查看利润分析")]
        ordering = ["-occurred_at"]
        indexes = [
            models.Index(fields=["shop", "occurred_at"], name="finrec_shop_time_idx"),
            models.Index(fields=["record_type", "occurred_at"], name="finrec_type_time_idx"),
        ]
        constraints = [
            models.CheckConstraint(condition=Q(amount__gte=0), name="financial_record_amount_nonneg"),
        ]

    def __str__(self):
        return f"{self.get_record_type_display()} {self.amount} {self.currency_id}"


class Expense(TimeStampedModel):
    class Category(models.TextChoices):
        ADVERTISING = "advertising", "广告推广"
        LOGISTICS = "logistics", "物流运费"
        WAREHOUSING = "warehousing", "仓储费"
        SALARY = "salary", "人工工资"
        RENT = "rent", "房租水电"
        SOFTWARE = "software", "软件服务"
        PLATFORM = "platform", "平台月租"
        OTHER = "other", "其他"

    class Status(models.TextChoices):
        SUBMITTED = "submitted", "待审批"
        APPROVED = "approved", "已批准"
        REJECTED = "rejected", "已驳回"

    category = models.CharField("类别", max_length=20, choices=Category.choices)
    shop = models.ForeignKey(
        "platforms.Shop", verbose_name="店铺", on_delete=models.PROTECT, null=True, blank=True,
        related_name="expenses",
    )
    expense_date = models.DateField("费用日期")
    currency = currency_field("币种")
    amount = money_field("金额")
    exchange_rate = rate_field("汇率")
    amount_base = money_field("本位币金额")
    description = models.CharField("说明", max_length=255)
    status = models.CharField("状态", max_length=12, choices=Status.choices, default=Status.SUBMITTED)
    submitted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name="提交人", on_delete=models.SET_NULL, null=True, blank=True,
        related_name="expenses_submitted",
    )
    reviewed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name="审批人", on_delete=models.SET_NULL, null=True, blank=True,
        related_name="expenses_reviewed",
    )
    reviewed_at = models.DateTimeField("审批时间", null=True, blank=True)
    rejection_reason = models.CharField("驳回原因", max_length=255, blank=True)

    class Meta:
        db_table = "expenses"
        verbose_name = "费用"
        verbose_name_plural = "费用"
        permissions = [("approve_expense", "可以审批费用")]
        ordering = ["-expense_date", "-id"]
        indexes = [models.Index(fields=["expense_date", "status"], name="expense_date_status_idx")]
        constraints = [
            models.CheckConstraint(condition=Q(amount__gt=0), name="expense_amount_positive"),
            models.CheckConstraint(
                condition=~Q(status="rejected") | ~Q(rejection_reason=""), name="expense_rejection_has_reason"
            ),
        ]

    def __str__(self):
        return f"{self.expense_date} {self.get_category_display()} {self.amount} {self.currency_id}"


class Revenue(TimeStampedModel):
    """Income booked per shop and day: order sales, platform subsidies, other income."""

    class Source(models.TextChoices):
        ORDER_SALES = "order_sales", "订单销售"
        PLATFORM_SUBSIDY = "platform_subsidy", "平台补贴"
        OTHER = "other", "其他收入"

    source = models.CharField("来源", max_length=20, choices=Source.choices)
    shop = models.ForeignKey(
        "platforms.Shop", verbose_name="店铺", on_delete=models.PROTECT, null=True, blank=True,
        related_name="revenues",
    )
    revenue_date = models.DateField("日期")
    currency = currency_field("币种")
    amount = money_field("金额")
    exchange_rate = rate_field("汇率")
    amount_base = money_field("本位币金额")
    description = models.CharField("说明", max_length=255, blank=True)

    class Meta:
        db_table = "revenues"
        verbose_name = "收入"
        verbose_name_plural = "收入"
        ordering = ["-revenue_date", "-id"]
        indexes = [models.Index(fields=["shop", "revenue_date"], name="revenue_shop_date_idx")]
        constraints = [
            models.CheckConstraint(condition=Q(amount__gte=0), name="revenue_amount_nonneg"),
        ]

    def __str__(self):
        return f"{self.revenue_date} {self.get_source_display()} {self.amount} {self.currency_id}"
