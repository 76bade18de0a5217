from django.conf import settings
from django.db import models
from django.db.models import F, Q

from apps.core.models import TimeStampedModel
from apps.core.money import currency_field, money_field, rate_field


class Customer(TimeStampedModel):
    """A buyer of one shop, de-duplicated by the platform's buyer id or e-mail."""

    # db_index=False: (shop, email) and (shop, buyer id) lead with the shop.
    shop = models.ForeignKey(
        "platforms.Shop", verbose_name="店铺", on_delete=models.PROTECT, related_name="customers", db_index=False
    )
    platform_buyer_id = models.CharField("平台买家ID", max_length=128, blank=True)
    email = models.EmailField("邮箱", blank=True)
    name = models.CharField("姓名", max_length=200, blank=True)
    country = models.CharField("国家", max_length=2, blank=True)
    phone = models.CharField("电话", max_length=40, blank=True)
    # The customer's earliest counted order, kept with the rollups (sales_rollups_rebuild, or
    # customers_first_order_advance for new orders): who is new in a period is a range of this index,
    # not a look-up of every buyer's history.
    first_ordered_at = models.DateTimeField("首单时间", null=True, blank=True, editable=False)
    # Set with their orders' Order.repeat_buyer (two or more counted orders): the customer analysis
    # counts the new ones among them here, and the others from the day rollups.
    repeat_buyer = models.BooleanField("复购客户", default=False, editable=False)

    class Meta:
        db_table = "customers"
        verbose_name = "客户"
        verbose_name_plural = "客户"
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["shop", "platform_buyer_id"], condition=~Q(platform_buyer_id=""),
                name="customer_unique_buyer_per_shop",
            ),
            models.CheckConstraint(
                condition=~Q(platform_buyer_id="") | ~Q(email=""), name="customer_has_identity"
            ),
        ]
        indexes = [
            models.Index(fields=["shop", "email"], name="customer_shop_email_idx"),
            models.Index(fields=["country"], name="customer_country_idx"),
            models.Index(fields=["created_at", "id"], name="customer_created_idx"),  # the list's order
            models.Index(fields=["first_ordered_at"], include=["shop"], name="customer_first_order_idx"),
            models.Index(fields=["first_ordered_at"], include=["shop"], condition=Q(repeat_buyer=True),
                         name="customer_repeat_first_idx"),
        ]

    def __str__(self):
        return self.name or self.email or self.platform_buyer_id


class Salesperson(TimeStampedModel):
    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, verbose_name="系统用户", on_delete=models.SET_NULL, null=True, blank=True,
        related_name="salesperson",
    )
    name = models.CharField("姓名", max_length=100)
    email = models.EmailField("邮箱", blank=True)
    team = models.CharField("团队", max_length=64, blank=True)
    is_active = models.BooleanField("在职", default=True)

    class Meta:
        db_table = "salespeople"
        verbose_name = "销售人员"
        verbose_name_plural = "销售人员"
        ordering = ["name"]

    def __str__(self):
        return self.name


class SalesTarget(models.Model):
    salesperson = models.ForeignKey(Salesperson, verbose_name="销售人员", on_delete=models.CASCADE, related_name="targets")
    month = models.DateField("月份", help_text="该月第一天")
    target_amount_base = money_field("目标销售额(本位币)")

    class Meta:
        db_table = "sales_targets"
        verbose_name = "销售目标"
        verbose_name_plural = "销售目标"
        ordering = ["-month", "salesperson_id"]
        constraints = [
            models.UniqueConstraint(fields=["salesperson", "month"], name="sales_target_unique_month"),
            models.CheckConstraint(condition=Q(month__day=1), name="sales_target_month_first_day"),
            models.CheckConstraint(condition=Q(target_amount_base__gte=0), name="sales_target_nonneg"),
        ]

    def __str__(self):
        return f"{self.salesperson} {self.month:%Y-%m}"


class Order(TimeStampedModel):
    """A marketplace order: original currency amounts plus the same in base currency at the day's rate."""

    class Status(models.TextChoices):
        PENDING = "pending", "待付款"
        PAID = "paid", "已付款"
        SHIPPED = "shipped", "已发货"
        DELIVERED = "delivered", "已送达"
        CANCELLED = "cancelled", "已取消"
        PARTIALLY_REFUNDED = "partially_refunded", "部分退款"
        REFUNDED = "refunded", "已退款"

    class FulfillmentChannel(models.TextChoices):
        MERCHANT = "merchant", "自发货"
        PLATFORM = "platform", "平台仓发货(FBA等)"

    # The foreign keys below without their own index are served by a composite index that leads with
    # them (shop: the unique order id and the shop/time index; customer: customer/time); the
    # currency one is only read when a currency is deleted. Fewer indexes, cheaper collection.
    shop = models.ForeignKey(
        "platforms.Shop", verbose_name="店铺", on_delete=models.PROTECT, related_name="orders", db_index=False
    )
    platform_order_id = models.CharField("平台订单号", max_length=64)
    order_number = models.CharField("订单编号", max_length=64, blank=True, help_text="平台展示的编号，如 #1001")
    customer = models.ForeignKey(
        Customer, verbose_name="客户", on_delete=models.SET_NULL, null=True, blank=True, related_name="orders",
        db_index=False,
    )
    status = models.CharField("状态", max_length=20, choices=Status.choices, default=Status.PENDING)
    platform_status = models.CharField("平台原始状态", max_length=64, blank=True)
    fulfillment_channel = models.CharField(
        "发货方式", max_length=10, choices=FulfillmentChannel.choices, default=FulfillmentChannel.MERCHANT
    )
    warehouse = models.ForeignKey(
        "inventory.Warehouse", verbose_name="发货仓", on_delete=models.SET_NULL, null=True, blank=True,
        related_name="orders",
    )
    buyer_country = models.CharField("买家国家", max_length=2, blank=True)
    # Whether the buyer has two or more counted orders, on each of their orders; kept beside the
    # customer's first order (customers_first_order_advance, the rollup rebuild). The customer
    # analysis groups only these orders by buyer: any other counted order is its buyer's only one.
    repeat_buyer = models.BooleanField("复购客户", default=False, editable=False)

    currency = currency_field("币种", db_index=False)
    items_amount = money_field("商品金额")
    shipping_amount = money_field("运费")
    tax_amount = money_field("税费")
    discount_amount = money_field("折扣")
    platform_fee = money_field("平台费用")
    refund_amount = money_field("退款金额")
    total_amount = money_field("订单总额")

    exchange_rate = rate_field("汇率", help_text="1 单位订单币种折合本位币")
    items_amount_base = money_field("商品金额(本位币)")
    shipping_amount_base = money_field("运费(本位币)")
    tax_amount_base = money_field("税费(本位币)")
    discount_amount_base = money_field("折扣(本位币)")
    platform_fee_base = money_field("平台费用(本位币)")
    refund_amount_base = money_field("退款金额(本位币)")
    total_amount_base = money_field("订单总额(本位币)")

    ordered_at = models.DateTimeField("下单时间")
    paid_at = models.DateTimeField("付款时间", null=True, blank=True)
    shipped_at = models.DateTimeField("发货时间", null=True, blank=True)
    delivered_at = models.DateTimeField("送达时间", null=True, blank=True)
    cancelled_at = models.DateTimeField("取消时间", null=True, blank=True)
    platform_updated_at = models.DateTimeField("平台更新时间", null=True, blank=True)

    class Meta:
        db_table = "orders"
        verbose_name = "订单"
        verbose_name_plural = "订单"
        permissions = [("view_sales_analysis", "可以查看销售分析")]
        ordering = ["-ordered_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["shop", "platform_order_id"], name="order_unique_per_shop"),
            models.CheckConstraint(
                condition=Q(items_amount__gte=0) & Q(shipping_amount__gte=0) & Q(tax_amount__gte=0)
                & Q(discount_amount__gte=0) & Q(platform_fee__gte=0) & Q(refund_amount__gte=0)
                & Q(total_amount__gte=0),
                name="order_amounts_nonneg",
            ),
            models.CheckConstraint(condition=Q(refund_amount__lte=F("total_amount")), name="order_refund_within_total"),
            models.CheckConstraint(condition=Q(exchange_rate__gt=0), name="order_rate_positive"),
        ]
        # A filter, then the list's order (newest first, id breaking ties), carrying the other common
        # filters (PostgreSQL INCLUDE): a deep page's keys come from the index alone, even with two
        # filters combined (see erp.api.pagination).
        indexes = [
            models.Index(fields=["shop", "ordered_at", "id"], include=["status", "buyer_country"], name="order_shop_time_id_idx"),
            models.Index(fields=["status", "ordered_at", "id"], include=["shop", "buyer_country"], name="order_status_time_id_idx"),
            models.Index(fields=["buyer_country", "ordered_at", "id"], include=["shop", "status"], name="order_country_time_id_idx"),
            # The customer and order analyses read a period's orders from this index alone.
            models.Index(fields=["ordered_at", "id"],
                         include=["shop", "status", "buyer_country", "customer", "total_amount_base",
                                  "refund_amount_base", "fulfillment_channel", "shipped_at", "repeat_buyer"],
                         name="order_time_cover_idx"),
            models.Index(fields=["customer", "ordered_at"], include=["status"], name="order_customer_time_idx"),
            # The customer analysis: a period's counted orders with a buyer, repeat buyers' and the
            # others' apart (the statuses are services.COUNTED_ORDER_STATUSES; a test keeps them equal).
            models.Index(fields=["repeat_buyer", "ordered_at"],
                         include=["customer", "buyer_country", "total_amount_base", "refund_amount_base", "shop"],
                         condition=Q(customer__isnull=False,
                                     status__in=["paid", "shipped", "delivered", "partially_refunded", "refunded"]),
                         name="order_buyer_period_idx"),
        ]

    def __str__(self):
        return self.order_number or self.platform_order_id


class OrderLine(models.Model):
    order = models.ForeignKey(Order, verbose_name="订单", on_delete=models.CASCADE, related_name="lines")
    platform_line_id = models.CharField("平台明细ID", max_length=64, blank=True)
    listing = models.ForeignKey(
        "platforms.Listing", verbose_name="平台商品", on_delete=models.SET_NULL, null=True, blank=True,
        related_name="order_lines",
    )
    product = models.ForeignKey(
        "inventory.Product", verbose_name="商品", on_delete=models.PROTECT, null=True, blank=True,
        related_name="order_lines", db_index=False,  # (product, order) leads with it
    )
    platform_sku = models.CharField("平台SKU", max_length=128)
    title = models.CharField("标题", max_length=500, blank=True)
    quantity = models.PositiveIntegerField("数量")
    unit_price = money_field("单价")
    line_total = money_field("小计", help_text="订单币种，含数量")
    line_total_base = money_field("小计(本位币)")
    unit_cost_base = money_field("单位成本(本位币)", null=True, blank=True, default=None)
    # Set when this line's outbound has been written to the stock ledger (exactly once).
    stock_posted_at = models.DateTimeField("出库过账时间", null=True, blank=True)

    class Meta:
        db_table = "order_lines"
        verbose_name = "订单明细"
        verbose_name_plural = "订单明细"
        ordering = ["order_id", "id"]
        constraints = [
            models.CheckConstraint(condition=Q(quantity__gt=0), name="order_line_qty_positive"),
            models.CheckConstraint(condition=Q(unit_price__gte=0) & Q(line_total__gte=0), name="order_line_amounts_nonneg"),
            models.UniqueConstraint(
                fields=["order", "platform_line_id"], condition=~Q(platform_line_id=""), name="order_line_unique_platform_id"
            ),
        ]
        indexes = [
            models.Index(fields=["product", "order"], name="order_line_product_idx"),
            models.Index(fields=["platform_sku"], name="order_line_sku_idx"),
        ]

    def __str__(self):
        return f"{self.platform_sku} × {self.quantity}"


class SalesDaily(models.Model):
    """The seed's sales_data rollup: one row per (business day, shop, buyer country).
    Counted orders only (not pending, not cancelled)."""

    date = models.DateField("日期")
    # (shop, date) and (platform, date) lead with these keys.
    shop = models.ForeignKey(
        "platforms.Shop", verbose_name="店铺", on_delete=models.CASCADE, related_name="+", db_index=False
    )
    platform = models.ForeignKey(
        "platforms.Platform", verbose_name="平台", on_delete=models.CASCADE, related_name="+", db_index=False
    )
    buyer_country = models.CharField("买家国家", max_length=2, blank=True)
    orders_count = models.PositiveIntegerField("订单数", default=0)
    units = models.PositiveIntegerField("件数", default=0)
    gross_sales_base = money_field("销售额(本位币)")
    refunds_base = money_field("退款(本位币)")
    platform_fees_base = money_field("平台费用(本位币)")
    cogs_base = money_field("销售成本(本位币)")
    # For the customer analysis: counted orders whose buyer has no other counted order
    # (Order.repeat_buyer false), their net sales (gross − refunds), and orders without a buyer.
    # Kept where the flags change (_repeat_flags_update) and by the rebuild.
    single_orders = models.IntegerField("单次购买客户订单数", default=0)
    single_net_base = money_field("单次购买客户净销售额(本位币)")
    guest_orders = models.IntegerField("无客户订单数", default=0)

    class Meta:
        db_table = "sales_data"
        verbose_name = "销售日汇总"
        verbose_name_plural = "销售日汇总"
        ordering = ["-date", "shop_id"]
        constraints = [
            models.UniqueConstraint(fields=["date", "shop", "buyer_country"], name="sales_daily_unique"),
        ]
        indexes = [
            models.Index(fields=["shop", "date"], name="sales_daily_shop_date_idx"),
            models.Index(fields=["platform", "date"], name="sales_daily_platform_date_idx"),
        ]

    def __str__(self):
        return f"{self.date} {self.shop_id} {self.buyer_country}"


class SkuSalesDaily(models.Model):
    """Rollup per (business day, shop, product) of counted orders' lines."""

    date = models.DateField("日期")
    shop = models.ForeignKey("platforms.Shop", verbose_name="店铺", on_delete=models.CASCADE, related_name="+")
    product = models.ForeignKey(  # (product, date) leads with it
        "inventory.Product", verbose_name="商品", on_delete=models.CASCADE, related_name="+", db_index=False
    )
    orders_count = models.PositiveIntegerField("订单数", default=0)
    units = models.PositiveIntegerField("件数", default=0)
    gross_sales_base = money_field("销售额(本位币)")
    cogs_base = money_field("销售成本(本位币)")

    class Meta:
        db_table = "sales_data_sku"
        verbose_name = "SKU 销售日汇总"
        verbose_name_plural = "SKU 销售日汇总"
        ordering = ["-date", "shop_id", "product_id"]
        constraints = [
            models.UniqueConstraint(fields=["date", "shop", "product"], name="sku_sales_daily_unique"),
        ]
        indexes = [
            models.Index(fields=["product", "date"], name="sku_sales_product_date_idx"),
        ]

    def __str__(self):
        return f"{self.date} {self.shop_id} {self.product_id}"
