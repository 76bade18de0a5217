from django.conf import settings
from django.db import models
from django.db.models import Q

from apps.core.fields import EncryptedJSONField
from apps.core.models import TimeStampedModel
from apps.core.money import currency_field, money_field


class Platform(TimeStampedModel):
    code = models.SlugField("代码", max_length=32, unique=True, help_text="连接器注册名，如 shopify、amazon")
    name = models.CharField("名称", max_length=64)
    website = models.URLField("官网", blank=True)
    is_active = models.BooleanField("启用", default=True)

    class Meta:
        db_table = "platforms"
        verbose_name = "平台"
        verbose_name_plural = "平台"
        ordering = ["name"]

    def __str__(self):
        return self.name


class Shop(TimeStampedModel):
    class AuthStatus(models.TextChoices):
        OK = "ok", "正常"
        NEEDS_REAUTH = "needs_reauth", "需要重新授权"
        UNCONFIGURED = "unconfigured", "未配置"

    platform = models.ForeignKey(Platform, verbose_name="平台", on_delete=models.PROTECT, related_name="shops")
    name = models.CharField("店铺名称", max_length=100)
    code = models.SlugField("店铺编码", max_length=50, unique=True)
    external_id = models.CharField(
        "平台店铺ID", max_length=128, blank=True, help_text="卖家ID、店铺域名或 shop_id"
    )
    marketplace = models.CharField("站点", max_length=32, blank=True, help_text="如 Amazon.de、US")
    country = models.CharField("国家", max_length=2)
    currency = currency_field("结算币种")
    timezone = models.CharField("时区", max_length=64, default="UTC")
    api_base_url = models.URLField("API 地址", blank=True, help_text="留空使用平台默认地址")
    credentials = EncryptedJSONField("凭证", blank=True, default=dict)
    auth_status = models.CharField(
        "授权状态", max_length=16, choices=AuthStatus.choices, default=AuthStatus.UNCONFIGURED
    )
    salesperson = models.ForeignKey(
        "sales.Salesperson", verbose_name="负责人", on_delete=models.SET_NULL, null=True, blank=True,
        related_name="shops",
    )
    default_warehouse = models.ForeignKey(
        "inventory.Warehouse", verbose_name="默认发货仓", on_delete=models.SET_NULL, null=True, blank=True,
        related_name="+",
    )
    platform_fee_rate = models.DecimalField("平台佣金率", max_digits=5, decimal_places=4, default=0)
    is_active = models.BooleanField("启用", default=True)

    class Meta:
        db_table = "shops"
        verbose_name = "店铺"
        verbose_name_plural = "店铺"
        ordering = ["platform__name", "name"]
        constraints = [
            models.UniqueConstraint(
                fields=["platform", "external_id"], condition=~Q(external_id=""), name="shop_unique_external_id"
            ),
            models.CheckConstraint(
                condition=Q(platform_fee_rate__gte=0) & Q(platform_fee_rate__lt=1), name="shop_fee_rate_range"
            ),
        ]

    def __str__(self):
        return self.name


class Listing(TimeStampedModel):
    """A shop's SKU, paired (or not yet) with a master product."""

    shop = models.ForeignKey(Shop, verbose_name="店铺", on_delete=models.CASCADE, related_name="listings")
    platform_sku = models.CharField("平台SKU", max_length=128)
    platform_item_id = models.CharField("平台商品ID", max_length=128, blank=True)
    title = models.CharField("标题", max_length=500, blank=True)
    product = models.ForeignKey(
        "inventory.Product", verbose_name="对应商品", on_delete=models.PROTECT, null=True, blank=True,
        related_name="listings",
    )
    price = money_field("售价")
    currency = currency_field("币种")
    platform_stock = models.IntegerField("平台库存", null=True, blank=True)
    is_active = models.BooleanField("在售", default=True)

    class Meta:
        db_table = "listings"
        verbose_name = "平台商品"
        verbose_name_plural = "平台商品"
        ordering = ["shop_id", "platform_sku"]
        constraints = [
            models.UniqueConstraint(fields=["shop", "platform_sku"], name="listing_unique_shop_sku"),
            models.CheckConstraint(condition=Q(price__gte=0), name="listing_price_nonneg"),
        ]
        indexes = [models.Index(fields=["product"], name="listing_product_idx")]

    @property
    def is_mapped(self) -> bool:
        return self.product_id is not None

    def __str__(self):
        return f"{self.shop} {self.platform_sku}"


class CollectionRun(TimeStampedModel):
    """One pull of orders, products or stock from one shop (采集任务)."""

    class Kind(models.TextChoices):
        ORDERS = "orders", "订单"
        PRODUCTS = "products", "商品"
        INVENTORY = "inventory", "库存"

    class Status(models.TextChoices):
        QUEUED = "queued", "排队中"
        RUNNING = "running", "进行中"
        SUCCEEDED = "succeeded", "成功"
        FAILED = "failed", "失败"

    shop = models.ForeignKey(Shop, verbose_name="店铺", on_delete=models.CASCADE, related_name="collection_runs")
    kind = models.CharField("类型", max_length=12, choices=Kind.choices)
    status = models.CharField("状态", max_length=12, choices=Status.choices, default=Status.QUEUED)
    window_start = models.DateTimeField("起始时间", null=True, blank=True)
    window_end = models.DateTimeField("截止时间", null=True, blank=True)
    checkpoint = models.JSONField("断点", default=dict, blank=True)
    pages = models.PositiveIntegerField("页数", default=0)
    records_seen = models.PositiveIntegerField("读取记录", default=0)
    records_created = models.PositiveIntegerField("新增", default=0)
    records_updated = models.PositiveIntegerField("更新", default=0)
    records_quarantined = models.PositiveIntegerField("隔离", default=0)
    error = models.TextField("错误", blank=True)
    started_at = models.DateTimeField("开始时间", null=True, blank=True)
    finished_at = models.DateTimeField("结束时间", null=True, blank=True)
    heartbeat_at = models.DateTimeField("心跳时间", null=True, blank=True)
    triggered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name="触发人", on_delete=models.SET_NULL, null=True, blank=True,
        related_name="+",
    )

    class Meta:
        db_table = "collection_runs"
        verbose_name = "采集任务"
        verbose_name_plural = "采集任务"
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["shop", "kind", "status"], name="run_shop_kind_status_idx")]
        constraints = [
            # The lock: never two syncs of one shop and kind at once, whichever process asks.
            models.UniqueConstraint(
                fields=["shop", "kind"], condition=Q(status__in=["queued", "running"]), name="run_one_active_per_shop_kind"
            ),
        ]

    @property
    def duration_seconds(self) -> float | None:
        if self.started_at and self.finished_at:
            return (self.finished_at - self.started_at).total_seconds()
        return None

    def __str__(self):
        return f"{self.shop} {self.get_kind_display()} #{self.pk}"


class QuarantinedRecord(TimeStampedModel):
    """A record a collection run or import could not clean, kept with its raw payload."""

    run = models.ForeignKey(
        CollectionRun, verbose_name="采集任务", on_delete=models.CASCADE, null=True, blank=True,
        related_name="quarantined",
    )
    shop = models.ForeignKey(Shop, verbose_name="店铺", on_delete=models.CASCADE, related_name="quarantined")
    kind = models.CharField("类型", max_length=12, choices=CollectionRun.Kind.choices)
    external_id = models.CharField("平台记录ID", max_length=128, blank=True)
    reason = models.TextField("原因")
    payload = models.JSONField("原始数据")
    resolved = models.BooleanField("已处理", default=False)

    class Meta:
        db_table = "quarantined_records"
        verbose_name = "隔离记录"
        verbose_name_plural = "隔离记录"
        ordering = ["-created_at"]

    def __str__(self):
        return f"{self.shop} {self.external_id or self.pk}"


class ImportJob(TimeStampedModel):
    """A bulk file import (orders exports, products, listings, stock levels)."""

    class Kind(models.TextChoices):
        SHOPIFY_ORDERS = "shopify_orders", "Shopify 订单导出"
        AMAZON_ORDERS = "amazon_orders", "亚马逊 All Orders 报告"
        PRODUCTS = "products", "商品"
        LISTINGS = "listings", "平台商品"
        STOCK = "stock", "库存"

    class Status(models.TextChoices):
        QUEUED = "queued", "排队中"
        RUNNING = "running", "进行中"
        SUCCEEDED = "succeeded", "成功"
        REJECTED = "rejected", "已拒绝"
        FAILED = "failed", "失败"

    kind = models.CharField("类型", max_length=20, choices=Kind.choices)
    file = models.FileField("文件", upload_to="imports/%Y/%m/")
    original_filename = models.CharField("原文件名", max_length=255)
    shop = models.ForeignKey(
        Shop, verbose_name="店铺", on_delete=models.SET_NULL, null=True, blank=True, related_name="import_jobs"
    )
    dry_run = models.BooleanField("试运行", default=False)
    status = models.CharField("状态", max_length=12, choices=Status.choices, default=Status.QUEUED)
    total_rows = models.PositiveIntegerField("总行数", default=0)
    processed_rows = models.PositiveIntegerField("已处理", default=0)
    created_count = models.PositiveIntegerField("新增", default=0)
    updated_count = models.PositiveIntegerField("更新", default=0)
    unchanged_count = models.PositiveIntegerField("未变", default=0)
    rejected_count = models.PositiveIntegerField("拒绝", default=0)
    errors = models.JSONField("错误明细", default=list, blank=True, help_text="[{row, field, message}]")
    started_at = models.DateTimeField("开始时间", null=True, blank=True)
    finished_at = models.DateTimeField("结束时间", null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name="提交人", on_delete=models.SET_NULL, null=True, blank=True,
        related_name="+",
    )

    class Meta:
        db_table = "import_jobs"
        verbose_name = "导入任务"
        verbose_name_plural = "导入任务"
        ordering = ["-created_at"]

    def __str__(self):
        return f"{self.get_kind_display()} {self.original_filename}"
