from django.conf import settings
from django.db import models
from django.db.models import F, Q

from apps.core.models import TimeStampedModel
from apps.core.money import currency_field, money_field


class Category(models.Model):
    name = models.CharField("名称", max_length=100)
    parent = models.ForeignKey(
        "self", verbose_name="上级类目", on_delete=models.PROTECT, null=True, blank=True, related_name="children"
    )

    class Meta:
        db_table = "product_categories"
        verbose_name = "商品类目"
        verbose_name_plural = "商品类目"
        ordering = ["name"]
        constraints = [models.UniqueConstraint(fields=["parent", "name"], name="category_unique_name_per_parent")]

    def __str__(self):
        return f"{self.parent} / {self.name}" if self.parent_id else self.name


class Product(TimeStampedModel):
    """A master SKU: one row, however many shop listings sell it."""

    sku = models.CharField("SKU", max_length=64, unique=True)
    name = models.CharField("名称", max_length=255)
    name_en = models.CharField("英文名称", max_length=255, blank=True)
    category = models.ForeignKey(
        Category, verbose_name="类目", on_delete=models.PROTECT, null=True, blank=True, related_name="products"
    )
    brand = models.CharField("品牌", max_length=100, blank=True)
    barcode = models.CharField("条码", max_length=64, blank=True)
    cost_price = money_field("成本价")
    cost_currency = currency_field("成本币种")
    weight_kg = models.DecimalField("重量(kg)", max_digits=10, decimal_places=3, default=0)
    length_cm = models.DecimalField("长(cm)", max_digits=8, decimal_places=1, null=True, blank=True)
    width_cm = models.DecimalField("宽(cm)", max_digits=8, decimal_places=1, null=True, blank=True)
    height_cm = models.DecimalField("高(cm)", max_digits=8, decimal_places=1, null=True, blank=True)
    is_bundle = models.BooleanField("组合商品", default=False)
    reorder_point = models.PositiveIntegerField("补货点", default=0)
    lead_time_days = models.PositiveSmallIntegerField("采购周期(天)", default=15)
    safety_days = models.PositiveSmallIntegerField("安全库存天数", default=7)
    default_supplier = models.ForeignKey(
        "Supplier", verbose_name="默认供应商", on_delete=models.SET_NULL, null=True, blank=True,
        related_name="products",
    )
    is_active = models.BooleanField("在售", default=True)

    class Meta:
        db_table = "products"
        verbose_name = "商品"
        verbose_name_plural = "商品"
        ordering = ["sku"]
        constraints = [
            models.CheckConstraint(condition=Q(cost_price__gte=0), name="product_cost_nonneg"),
            models.CheckConstraint(condition=Q(weight_kg__gte=0), name="product_weight_nonneg"),
        ]

    def __str__(self):
        return f"{self.sku} {self.name}"


class BundleComponent(models.Model):
    bundle = models.ForeignKey(Product, verbose_name="组合商品", on_delete=models.CASCADE, related_name="components")
    component = models.ForeignKey(
        Product, verbose_name="子商品", on_delete=models.PROTECT, related_name="used_in_bundles"
    )
    quantity = models.PositiveIntegerField("数量", default=1)

    class Meta:
        db_table = "product_bundle_components"
        verbose_name = "组合明细"
        verbose_name_plural = "组合明细"
        constraints = [
            models.UniqueConstraint(fields=["bundle", "component"], name="bundle_component_unique"),
            models.CheckConstraint(condition=Q(quantity__gt=0), name="bundle_component_qty_positive"),
            models.CheckConstraint(condition=~Q(bundle=F("component")), name="bundle_not_own_component"),
        ]

    def __str__(self):
        return f"{self.bundle.sku} ← {self.quantity} × {self.component.sku}"


class Warehouse(TimeStampedModel):
    class Kind(models.TextChoices):
        OWN = "own", "自营仓"
        OVERSEAS = "overseas", "海外仓/第三方仓"
        FBA = "fba", "亚马逊FBA仓"

    code = models.CharField("编码", max_length=32, unique=True)
    name = models.CharField("名称", max_length=100)
    kind = models.CharField("类型", max_length=10, choices=Kind.choices)
    country = models.CharField("国家", max_length=2, help_text="ISO 3166-1 两位代码")
    address = models.CharField("地址", max_length=255, blank=True)
    is_active = models.BooleanField("启用", default=True)

    class Meta:
        db_table = "warehouses"
        verbose_name = "仓库"
        verbose_name_plural = "仓库"
        ordering = ["code"]

    def __str__(self):
        return f"{self.code} {self.name}"


class InventoryItem(models.Model):
    """Stock of one product in one warehouse. Changed only by inventory services via movements."""

    product = models.ForeignKey(Product, verbose_name="商品", on_delete=models.PROTECT, related_name="stock_items")
    warehouse = models.ForeignKey(
        Warehouse, verbose_name="仓库", on_delete=models.PROTECT, related_name="stock_items"
    )
    on_hand = models.IntegerField("在库数量", default=0)
    reserved = models.IntegerField("预留数量", default=0)
    available = models.GeneratedField(
        verbose_name="可用数量",
        expression=F("on_hand") - F("reserved"),
        output_field=models.IntegerField(),
        db_persist=True,
    )
    reorder_point = models.PositiveIntegerField("补货点", default=0)
    updated_at = models.DateTimeField("更新时间", auto_now=True)

    class Meta:
        db_table = "inventory_items"
        verbose_name = "库存"
        verbose_name_plural = "库存"
        ordering = ["product_id", "warehouse_id"]
        constraints = [
            models.UniqueConstraint(fields=["product", "warehouse"], name="inventory_item_unique"),
            models.CheckConstraint(condition=Q(on_hand__gte=0), name="inventory_on_hand_nonneg"),
            models.CheckConstraint(condition=Q(reserved__gte=0), name="inventory_reserved_nonneg"),
            models.CheckConstraint(condition=Q(reserved__lte=F("on_hand")), name="inventory_available_nonneg"),
        ]
        indexes = [models.Index(fields=["warehouse", "product"], name="inventory_wh_product_idx")]

    def __str__(self):
        return f"{self.product_id}@{self.warehouse_id}: {self.on_hand}"


class StockMovement(models.Model):
    """The stock ledger: append-only; Σ quantity per (product, warehouse) equals on-hand."""

    class MovementType(models.TextChoices):
        PURCHASE_RECEIPT = "purchase_receipt", "采购入库"
        SALE = "sale", "销售出库"
        TRANSFER_IN = "transfer_in", "调拨入库"
        TRANSFER_OUT = "transfer_out", "调拨出库"
        ADJUSTMENT = "adjustment", "盘点调整"
        RETURN = "return", "退货入库"
        PLATFORM_SYNC = "platform_sync", "平台同步"

    # (product, warehouse, occurred_at) leads with the product.
    product = models.ForeignKey(
        Product, verbose_name="商品", on_delete=models.PROTECT, related_name="movements", db_index=False
    )
    warehouse = models.ForeignKey(Warehouse, verbose_name="仓库", on_delete=models.PROTECT, related_name="movements")
    movement_type = models.CharField("类型", max_length=20, choices=MovementType.choices)
    quantity = models.IntegerField("数量变动", help_text="入库为正，出库为负")
    balance_after = models.IntegerField("变动后在库")
    reference = models.CharField("业务单据", max_length=64, blank=True, help_text="如 PO-2025-0001、订单号")
    note = models.CharField("备注", max_length=255, blank=True)
    # The same business event (an order's outbound, a receipt) can only move stock once.
    idempotency_key = models.CharField("幂等键", max_length=128, unique=True, null=True, blank=True)
    occurred_at = models.DateTimeField("发生时间")
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name="操作人", on_delete=models.SET_NULL, null=True, blank=True,
        related_name="+",
    )

    class Meta:
        db_table = "stock_movements"
        verbose_name = "库存流水"
        verbose_name_plural = "库存流水"
        ordering = ["-occurred_at", "-id"]
        indexes = [
            models.Index(fields=["product", "warehouse", "occurred_at"], name="movement_item_time_idx"),
            models.Index(fields=["occurred_at"], name="movement_time_idx"),
            models.Index(fields=["movement_type", "occurred_at"], name="movement_type_time_idx"),
        ]
        constraints = [
            models.CheckConstraint(condition=~Q(quantity=0), name="movement_quantity_nonzero"),
            models.CheckConstraint(condition=Q(balance_after__gte=0), name="movement_balance_nonneg"),
        ]

    def __str__(self):
        return f"{self.get_movement_type_display()} {self.quantity:+d}"


class StockAdjustment(TimeStampedModel):
    """A counted correction of stock (盘点); writes one adjustment movement."""

    class Reason(models.TextChoices):
        STOCKTAKE = "stocktake", "盘点差异"
        DAMAGE = "damage", "损坏报废"
        LOSS = "loss", "丢失"
        FOUND = "found", "盘盈"
        OPENING = "opening", "期初库存"
        IMPORT = "import", "导入库存"
        OTHER = "other", "其他"

    product = models.ForeignKey(Product, verbose_name="商品", on_delete=models.PROTECT, related_name="+")
    warehouse = models.ForeignKey(Warehouse, verbose_name="仓库", on_delete=models.PROTECT, related_name="+")
    quantity_change = models.IntegerField("调整数量")
    reason = models.CharField("原因", max_length=12, choices=Reason.choices)
    note = models.CharField("备注", max_length=255, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name="操作人", on_delete=models.SET_NULL, null=True, blank=True,
        related_name="+",
    )

    class Meta:
        db_table = "stock_adjustments"
        verbose_name = "库存调整"
        verbose_name_plural = "库存调整"
        ordering = ["-created_at"]
        constraints = [models.CheckConstraint(condition=~Q(quantity_change=0), name="adjustment_nonzero")]

    def __str__(self):
        return f"ADJ-{self.pk} {self.quantity_change:+d}"


class StockTransfer(TimeStampedModel):
    """Moves stock between warehouses; writes a transfer-out and a transfer-in movement."""

    product = models.ForeignKey(Product, verbose_name="商品", on_delete=models.PROTECT, related_name="+")
    from_warehouse = models.ForeignKey(
        Warehouse, verbose_name="调出仓", on_delete=models.PROTECT, related_name="transfers_out"
    )
    to_warehouse = models.ForeignKey(
        Warehouse, verbose_name="调入仓", on_delete=models.PROTECT, related_name="transfers_in"
    )
    quantity = models.PositiveIntegerField("数量")
    note = models.CharField("备注", max_length=255, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name="操作人", on_delete=models.SET_NULL, null=True, blank=True,
        related_name="+",
    )

    class Meta:
        db_table = "stock_transfers"
        verbose_name = "库存调拨"
        verbose_name_plural = "库存调拨"
        ordering = ["-created_at"]
        constraints = [
            models.CheckConstraint(condition=Q(quantity__gt=0), name="transfer_quantity_positive"),
            models.CheckConstraint(condition=~Q(from_warehouse=F("to_warehouse")), name="transfer_distinct_warehouses"),
        ]

    def __str__(self):
        return f"TRF-{self.pk}"


class Supplier(TimeStampedModel):
    code = models.CharField("编码", max_length=32, unique=True)
    name = models.CharField("名称", max_length=200)
    contact_name = models.CharField("联系人", max_length=100, blank=True)
    email = models.EmailField("邮箱", blank=True)
    phone = models.CharField("电话", max_length=40, blank=True)
    country = models.CharField("国家", max_length=2, default="CN")
    currency = currency_field("结算币种")
    lead_time_days = models.PositiveSmallIntegerField("交货周期(天)", default=15)
    payment_terms = models.CharField("付款条件", max_length=100, blank=True)
    is_active = models.BooleanField("启用", default=True)

    class Meta:
        db_table = "suppliers"
        verbose_name = "供应商"
        verbose_name_plural = "供应商"
        ordering = ["code"]

    def __str__(self):
        return f"{self.code} {self.name}"


class PurchaseOrder(TimeStampedModel):
    class Status(models.TextChoices):
        DRAFT = "draft", "草稿"
        APPROVED = "approved", "已审批"
        PARTIALLY_RECEIVED = "partially_received", "部分到货"
        RECEIVED = "received", "已完成"
        CANCELLED = "cancelled", "已取消"

    number = models.CharField("采购单号", max_length=32, unique=True)
    supplier = models.ForeignKey(
        Supplier, verbose_name="供应商", on_delete=models.PROTECT, related_name="purchase_orders"
    )
    warehouse = models.ForeignKey(
        Warehouse, verbose_name="收货仓", on_delete=models.PROTECT, related_name="purchase_orders"
    )
    status = models.CharField("状态", max_length=20, choices=Status.choices, default=Status.DRAFT)
    currency = currency_field("币种")
    order_date = models.DateField("下单日期")
    expected_date = models.DateField("预计到货", null=True, blank=True)
    approved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name="审批人", on_delete=models.SET_NULL, null=True, blank=True,
        related_name="+",
    )
    approved_at = models.DateTimeField("审批时间", null=True, blank=True)
    note = models.CharField("备注", max_length=255, blank=True)

    class Meta:
        db_table = "purchase_orders"
        verbose_name = "采购单"
        verbose_name_plural = "采购单"
        ordering = ["-order_date", "-id"]
        indexes = [models.Index(fields=["status", "order_date"], name="po_status_date_idx")]

    def __str__(self):
        return self.number


class PurchaseOrderLine(models.Model):
    purchase_order = models.ForeignKey(
        PurchaseOrder, verbose_name="采购单", on_delete=models.CASCADE, related_name="lines"
    )
    product = models.ForeignKey(Product, verbose_name="商品", on_delete=models.PROTECT, related_name="+")
    quantity_ordered = models.PositiveIntegerField("采购数量")
    quantity_received = models.PositiveIntegerField("已收数量", default=0)
    unit_cost = money_field("采购单价")

    class Meta:
        db_table = "purchase_order_lines"
        verbose_name = "采购明细"
        verbose_name_plural = "采购明细"
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(fields=["purchase_order", "product"], name="po_line_unique_product"),
            models.CheckConstraint(condition=Q(quantity_ordered__gt=0), name="po_line_ordered_positive"),
            models.CheckConstraint(
                condition=Q(quantity_received__lte=F("quantity_ordered")), name="po_line_not_over_received"
            ),
            models.CheckConstraint(condition=Q(unit_cost__gte=0), name="po_line_cost_nonneg"),
        ]
        indexes = [models.Index(fields=["product", "purchase_order"], name="po_line_product_idx")]

    def __str__(self):
        return f"{self.purchase_order_id}:{self.product_id} {self.quantity_received}/{self.quantity_ordered}"


class Shipment(TimeStampedModel):
    """Outbound (出库单): reserves stock when created, consumes it when shipped."""

    class Status(models.TextChoices):
        RESERVED = "reserved", "已预留"
        SHIPPED = "shipped", "已发货"
        CANCELLED = "cancelled", "已取消"

    number = models.CharField("出库单号", max_length=32, unique=True)
    warehouse = models.ForeignKey(Warehouse, verbose_name="发货仓", on_delete=models.PROTECT, related_name="shipments")
    order = models.ForeignKey(
        "sales.Order", verbose_name="订单", on_delete=models.PROTECT, null=True, blank=True, related_name="shipments"
    )
    status = models.CharField("状态", max_length=12, choices=Status.choices, default=Status.RESERVED)
    carrier = models.CharField("承运商", max_length=64, blank=True)
    tracking_number = models.CharField("运单号", max_length=64, blank=True)
    shipped_at = models.DateTimeField("发货时间", null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name="创建人", on_delete=models.SET_NULL, null=True, blank=True,
        related_name="+",
    )

    class Meta:
        db_table = "shipments"
        verbose_name = "出库单"
        verbose_name_plural = "出库单"
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["status", "created_at"], name="shipment_status_idx")]

    def __str__(self):
        return self.number


class ShipmentLine(models.Model):
    shipment = models.ForeignKey(Shipment, verbose_name="出库单", on_delete=models.CASCADE, related_name="lines")
    product = models.ForeignKey(Product, verbose_name="商品", on_delete=models.PROTECT, related_name="+")
    quantity = models.PositiveIntegerField("数量")

    class Meta:
        db_table = "shipment_lines"
        verbose_name = "出库明细"
        verbose_name_plural = "出库明细"
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(fields=["shipment", "product"], name="shipment_line_unique_product"),
            models.CheckConstraint(condition=Q(quantity__gt=0), name="shipment_line_qty_positive"),
        ]

    def __str__(self):
        return f"{self.shipment_id}:{self.product_id} × {self.quantity}"
