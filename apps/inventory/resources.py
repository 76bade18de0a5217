"""CSV/XLSX import and export of products, suppliers, purchase orders (one row per line) and stock
levels. Stock levels are written only through `stock_level_set`, so the ledger keeps summing to
on-hand."""
from django.core.exceptions import NON_FIELD_ERRORS, ValidationError

from apps.core.money import ZERO
from apps.core.resources import (
    BoolWidget,
    DateWidget,
    ErpResource,
    HeaderLineResource,
    IntWidget,
    MoneyWidget,
    NaturalKeyWidget,
    TextWidget,
    column,
)
from apps.finance.models import Currency

from .models import (
    Category,
    InventoryItem,
    Product,
    PurchaseOrder,
    PurchaseOrderLine,
    StockAdjustment,
    Supplier,
    Warehouse,
)
from .services import stock_level_set

# Products --------------------------------------------------------------------------------------

PRODUCT_COLUMNS = (
    "sku", "name", "name_en", "category", "brand", "barcode", "cost_price", "cost_currency", "weight_kg",
    "length_cm", "width_cm", "height_cm", "is_bundle", "reorder_point", "lead_time_days", "safety_days",
    "default_supplier", "is_active",
)


class ProductResource(ErpResource):
    """Master SKUs; the category is named by its name, the default supplier by its code."""

    sku = column("sku", TextWidget(required=True, strip=True, max_length=64))
    name = column("name", TextWidget(required=True, max_length=255))
    name_en = column("name_en", TextWidget(max_length=255))
    category = column("category", NaturalKeyWidget(Category, "name", label="类目"))
    brand = column("brand", TextWidget(max_length=100))
    barcode = column("barcode", TextWidget(strip=True, max_length=64))
    cost_price = column("cost_price", MoneyWidget(), default=ZERO)
    cost_currency = column("cost_currency", NaturalKeyWidget(Currency, "code", label="币种", required=True, upper=True))
    weight_kg = column("weight_kg", MoneyWidget(places=3), default=ZERO)
    length_cm = column("length_cm", MoneyWidget(places=1))
    width_cm = column("width_cm", MoneyWidget(places=1))
    height_cm = column("height_cm", MoneyWidget(places=1))
    is_bundle = column("is_bundle", BoolWidget(), default=False)
    reorder_point = column("reorder_point", IntWidget(min_value=0), default=0)
    lead_time_days = column("lead_time_days", IntWidget(min_value=0), default=15)
    safety_days = column("safety_days", IntWidget(min_value=0), default=7)
    default_supplier = column("default_supplier", NaturalKeyWidget(Supplier, "code", label="供应商"))
    is_active = column("is_active", BoolWidget(), default=True)

    required_columns = ("name", "cost_currency")

    class Meta:
        model = Product
        fields = PRODUCT_COLUMNS
        export_order = PRODUCT_COLUMNS
        import_id_fields = ("sku",)

    def export_queryset(self, queryset):
        return queryset.select_related("category", "cost_currency", "default_supplier").order_by("sku")


# Suppliers -------------------------------------------------------------------------------------

SUPPLIER_COLUMNS = (
    "code", "name", "contact_name", "email", "phone", "country", "currency", "lead_time_days", "payment_terms",
    "is_active",
)


class SupplierResource(ErpResource):
    code = column("code", TextWidget(required=True, strip=True, max_length=32))
    name = column("name", TextWidget(required=True, max_length=200))
    contact_name = column("contact_name", TextWidget(max_length=100))
    email = column("email", TextWidget(strip=True, max_length=254))
    phone = column("phone", TextWidget(strip=True, max_length=40))
    country = column("country", TextWidget(strip=True, upper=True, max_length=2), default="CN")
    currency = column("currency", NaturalKeyWidget(Currency, "code", label="币种", required=True, upper=True))
    lead_time_days = column("lead_time_days", IntWidget(min_value=0), default=15)
    payment_terms = column("payment_terms", TextWidget(max_length=100))
    is_active = column("is_active", BoolWidget(), default=True)

    required_columns = ("name", "currency")

    class Meta:
        model = Supplier
        fields = SUPPLIER_COLUMNS
        export_order = SUPPLIER_COLUMNS
        import_id_fields = ("code",)

    def export_queryset(self, queryset):
        return queryset.select_related("currency").order_by("code")


# Purchase orders with lines --------------------------------------------------------------------

PURCHASE_ORDER_LINE_COLUMNS = (
    "number", "supplier", "warehouse", "currency", "order_date", "expected_date", "note", "status",
    "sku", "quantity_ordered", "quantity_received", "unit_cost",
)


class PurchaseOrderLineResource(HeaderLineResource):
    """Purchase orders with lines, grouped by `number`; a line is identified by its SKU. Imported
    orders are drafts; an order already approved or received can no longer be changed by a file
    (`status` and `quantity_received` are for reading only)."""

    header_attr = "purchase_order"
    header_key_fields = ("number",)

    number = column("purchase_order__number", TextWidget(required=True, strip=True, max_length=32))
    supplier = column("purchase_order__supplier", NaturalKeyWidget(Supplier, "code", label="供应商", required=True))
    warehouse = column("purchase_order__warehouse", NaturalKeyWidget(Warehouse, "code", label="仓库", required=True))
    currency = column(
        "purchase_order__currency", NaturalKeyWidget(Currency, "code", label="币种", required=True, upper=True)
    )
    order_date = column("purchase_order__order_date", DateWidget(required=True))
    expected_date = column("purchase_order__expected_date", DateWidget())
    note = column("purchase_order__note", TextWidget(max_length=255))
    status = column("purchase_order__status", TextWidget(), readonly=True)
    sku = column("product", NaturalKeyWidget(Product, "sku", label="SKU", required=True), name="sku")
    quantity_ordered = column("quantity_ordered", IntWidget(required=True, min_value=1))
    quantity_received = column("quantity_received", IntWidget(), readonly=True)
    unit_cost = column("unit_cost", MoneyWidget(required=True))

    required_columns = ("supplier", "warehouse", "currency", "order_date", "sku", "quantity_ordered", "unit_cost")

    class Meta:
        model = PurchaseOrderLine
        fields = PURCHASE_ORDER_LINE_COLUMNS
        export_order = PURCHASE_ORDER_LINE_COLUMNS
        import_id_fields = ("number",)

    def line_lookup(self, row):
        sku = TextWidget(strip=True).clean(row.get("sku"))
        return {"product__sku": sku} if sku else None

    def check_before_save(self, line, errors):
        po = line.purchase_order
        if po.pk and po.status != PurchaseOrder.Status.DRAFT:
            errors.setdefault(NON_FIELD_ERRORS, []).append(
                f"采购单 {po.number} 当前状态为「{po.get_status_display()}」，只有草稿可以通过导入修改。"
            )

    def get_queryset(self):
        return PurchaseOrderLine.objects.all()

    def export_queryset(self, queryset):
        if queryset.model is PurchaseOrder:  # exported from the purchase order list
            queryset = PurchaseOrderLine.objects.filter(purchase_order__in=queryset.values("pk"))
        return queryset.select_related(
            "purchase_order__supplier", "purchase_order__warehouse", "purchase_order__currency", "product"
        ).order_by("purchase_order__number", "product__sku", "pk")


# Stock levels ----------------------------------------------------------------------------------

STOCK_LEVEL_COLUMNS = ("sku", "warehouse", "on_hand", "reserved", "available", "reorder_point")


class StockLevelResource(ErpResource):
    """On-hand per (SKU, warehouse). Import counts stock: each difference becomes one adjustment
    movement (reason 导入库存) through `stock_level_set`; `reserved` and `available` are for reading
    only; a blank `reorder_point` keeps the current one."""

    sku = column("product", NaturalKeyWidget(Product, "sku", label="SKU", required=True), name="sku")
    warehouse = column("warehouse", NaturalKeyWidget(Warehouse, "code", label="仓库", required=True))
    on_hand = column("on_hand", IntWidget(required=True, min_value=0))
    reserved = column("reserved", IntWidget(), readonly=True)
    available = column("available", IntWidget(), readonly=True)
    reorder_point = column("reorder_point", IntWidget(min_value=0), saves_null_values=False)

    required_columns = ("on_hand",)

    class Meta:
        model = InventoryItem
        fields = STOCK_LEVEL_COLUMNS
        export_order = STOCK_LEVEL_COLUMNS
        import_id_fields = ("sku", "warehouse")
        clean_model_instances = False

    def validate_instance(self, instance, import_validation_errors=None, validate_unique=True):
        errors = dict(import_validation_errors or {})
        if not errors and instance.on_hand < instance.reserved:
            errors["on_hand"] = [
                f"在库数量 {instance.on_hand} 小于已预留数量 {instance.reserved}（已被未发货的出库单占用）。"
            ]
        if errors:
            raise ValidationError(errors)

    def save_instance(self, instance, is_create, row, **kwargs):
        self.before_save_instance(instance, row, **kwargs)
        user = kwargs.get("user")
        stock_level_set(
            product=instance.product, warehouse=instance.warehouse, on_hand=instance.on_hand,
            reason=StockAdjustment.Reason.IMPORT, note="导入库存",
            user=user if getattr(user, "pk", None) else None,
        )
        item = InventoryItem.objects.get(product=instance.product, warehouse=instance.warehouse)
        if instance.reorder_point is not None and item.reorder_point != instance.reorder_point:
            item.reorder_point = instance.reorder_point
            item.save(update_fields=["reorder_point", "updated_at"])
        instance.pk = item.pk
        instance.refresh_from_db()
        self.after_save_instance(instance, row, **kwargs)

    def get_queryset(self):
        return InventoryItem.objects.select_related("product", "warehouse")

    def export_queryset(self, queryset):
        return queryset.select_related("product", "warehouse").order_by("product__sku", "warehouse__code")
