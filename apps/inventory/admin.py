from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied

from apps.core.admin import ErpImportExportAdmin, ReadOnlyAdminMixin, ReadOnlyInline
from apps.core.exceptions import DomainError

from .models import (
    BundleComponent,
    Category,
    InventoryItem,
    Product,
    PurchaseOrder,
    PurchaseOrderLine,
    Shipment,
    ShipmentLine,
    StockAdjustment,
    StockMovement,
    StockTransfer,
    Supplier,
    Warehouse,
)
from .resources import ProductResource, PurchaseOrderLineResource, StockLevelResource, SupplierResource
from .services import (
    purchase_order_approve,
    purchase_order_cancel,
    shipment_cancel,
    shipment_ship,
    stock_adjustment_create,
    stock_transfer_create,
)


class CategoryChoicesMixin:
    """Category labels show the parent (`父类目 / 子类目`): load the parents with the choices."""

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.related_model is Category:
            kwargs["queryset"] = Category.objects.select_related("parent__parent")
        return super().formfield_for_foreignkey(db_field, request, **kwargs)


@admin.register(Category)
class CategoryAdmin(CategoryChoicesMixin, admin.ModelAdmin):
    list_display = ("name", "parent_name")
    list_select_related = ("parent",)
    search_fields = ("name", "parent__name")

    @admin.display(description="上级类目", ordering="parent__name")
    def parent_name(self, obj):
        return obj.parent.name if obj.parent_id else "—"


class BundleComponentInline(admin.TabularInline):
    model = BundleComponent
    fk_name = "bundle"
    extra = 0
    autocomplete_fields = ("component",)


@admin.register(Product)
class ProductAdmin(CategoryChoicesMixin, ErpImportExportAdmin):
    resource_classes = (ProductResource,)
    list_display = ("sku", "name", "category_name", "brand", "cost_price", "cost_currency", "is_bundle",
                    "reorder_point", "is_active")
    list_select_related = ("category", "cost_currency")
    list_filter = ("is_active", "is_bundle", "category")
    search_fields = ("sku", "name", "name_en", "barcode", "brand")
    autocomplete_fields = ("default_supplier",)
    inlines = (BundleComponentInline,)

    @admin.display(description="类目", ordering="category__name")
    def category_name(self, obj):
        return obj.category.name if obj.category_id else "—"


@admin.register(BundleComponent)
class BundleComponentAdmin(admin.ModelAdmin):
    list_display = ("bundle", "component", "quantity")
    list_select_related = ("bundle", "component")
    search_fields = ("bundle__sku", "bundle__name", "component__sku", "component__name")
    autocomplete_fields = ("bundle", "component")


@admin.register(Warehouse)
class WarehouseAdmin(admin.ModelAdmin):
    list_display = ("code", "name", "kind", "country", "is_active")
    list_filter = ("kind", "is_active", "country")
    search_fields = ("code", "name", "address")


@admin.register(InventoryItem)
class InventoryItemAdmin(ErpImportExportAdmin):
    """Stock rows: quantities change only through movements (adjustments, receipts, shipments, or
    the stock-level import); only the reorder point is edited here."""

    resource_classes = (StockLevelResource,)
    fields = ("product", "warehouse", "on_hand", "reserved", "available", "reorder_point", "updated_at")
    list_display = ("product", "warehouse", "on_hand", "reserved", "available", "reorder_point",
                    "below_reorder_point", "updated_at")
    list_select_related = ("product", "warehouse")
    list_filter = ("warehouse",)
    search_fields = ("product__sku", "product__name", "warehouse__code")
    autocomplete_fields = ("product",)

    def get_readonly_fields(self, request, obj=None):
        readonly = ("on_hand", "reserved", "available", "updated_at")
        return readonly + ("product", "warehouse") if obj is not None else readonly

    def has_delete_permission(self, request, obj=None):
        return False  # the ledger would no longer sum to a row

    def has_import_permission(self, request):
        # Counting stock is warehouse work: those who may change stock rows may import counts.
        return request.user.has_perm("inventory.change_inventoryitem")

    @admin.display(description="低于补货点", boolean=True)
    def below_reorder_point(self, obj):
        return obj.available < obj.reorder_point


@admin.register(StockMovement)
class StockMovementAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    """The ledger: written only by inventory services."""

    list_display = ("occurred_at", "product", "warehouse", "movement_type", "quantity", "balance_after",
                    "reference", "created_by")
    list_select_related = ("product", "warehouse", "created_by")
    list_filter = ("movement_type", "warehouse")
    search_fields = ("product__sku", "reference", "note")
    date_hierarchy = "occurred_at"
    show_full_result_count = False


def _stock_row(product, warehouse) -> InventoryItem | None:
    return InventoryItem.objects.filter(product=product, warehouse=warehouse).first()


class StockAdjustmentForm(forms.ModelForm):
    class Meta:
        model = StockAdjustment
        fields = ("product", "warehouse", "quantity_change", "reason", "note")

    def clean(self):
        cleaned = super().clean()
        product, warehouse, change = cleaned.get("product"), cleaned.get("warehouse"), cleaned.get("quantity_change")
        if change == 0:
            self.add_error("quantity_change", "调整数量不能为 0。")
        if product is None or warehouse is None or not change:
            return cleaned
        item = _stock_row(product, warehouse)
        on_hand, reserved = (item.on_hand, item.reserved) if item else (0, 0)
        if on_hand + change < reserved:
            self.add_error(
                "quantity_change",
                f"库存不足：在库 {on_hand}，已预留 {reserved}，调整 {change:+d} 后可用数量将为负数。",
            )
        return cleaned


@admin.register(StockAdjustment)
class StockAdjustmentAdmin(admin.ModelAdmin):
    """Adding an adjustment writes its movement through `stock_adjustment_create`; adjustments
    are never edited or deleted (post a new one instead)."""

    form = StockAdjustmentForm
    list_display = ("__str__", "product", "warehouse", "quantity_change", "reason", "note", "created_by",
                    "created_at")
    list_select_related = ("product", "warehouse", "created_by")
    list_filter = ("reason", "warehouse")
    search_fields = ("product__sku", "note")
    autocomplete_fields = ("product",)

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def save_model(self, request, obj, form, change):
        if change:
            raise PermissionDenied
        adjustment = stock_adjustment_create(
            product=obj.product, warehouse=obj.warehouse, quantity_change=obj.quantity_change, reason=obj.reason,
            note=obj.note, user=request.user,
        )
        obj.pk, obj.created_by, obj.created_at = adjustment.pk, adjustment.created_by, adjustment.created_at
        obj._state.adding = False


class StockTransferForm(forms.ModelForm):
    class Meta:
        model = StockTransfer
        fields = ("product", "from_warehouse", "to_warehouse", "quantity", "note")

    def clean(self):
        cleaned = super().clean()
        product, source, target = cleaned.get("product"), cleaned.get("from_warehouse"), cleaned.get("to_warehouse")
        quantity = cleaned.get("quantity")
        if source is not None and source == target:
            self.add_error("to_warehouse", "调出仓与调入仓不能相同。")
        if product is None or source is None or not quantity:
            return cleaned
        item = _stock_row(product, source)
        available = item.available if item else 0
        if available < quantity:
            self.add_error("quantity", f"可用库存不足：{source.code} 可用 {available}，无法调出 {quantity}。")
        return cleaned


@admin.register(StockTransfer)
class StockTransferAdmin(admin.ModelAdmin):
    """Adding a transfer moves stock through `stock_transfer_create`; transfers are never edited."""

    form = StockTransferForm
    list_display = ("__str__", "product", "from_warehouse", "to_warehouse", "quantity", "created_by", "created_at")
    list_select_related = ("product", "from_warehouse", "to_warehouse", "created_by")
    list_filter = ("from_warehouse", "to_warehouse")
    search_fields = ("product__sku", "note")
    autocomplete_fields = ("product",)

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def save_model(self, request, obj, form, change):
        if change:
            raise PermissionDenied
        transfer = stock_transfer_create(
            product=obj.product, from_warehouse=obj.from_warehouse, to_warehouse=obj.to_warehouse,
            quantity=obj.quantity, note=obj.note, user=request.user,
        )
        obj.pk, obj.created_by, obj.created_at = transfer.pk, transfer.created_by, transfer.created_at
        obj._state.adding = False


@admin.register(Supplier)
class SupplierAdmin(ErpImportExportAdmin):
    resource_classes = (SupplierResource,)
    list_display = ("code", "name", "contact_name", "phone", "country", "currency", "lead_time_days", "is_active")
    list_filter = ("is_active", "country", "currency")
    search_fields = ("code", "name", "contact_name", "email", "phone")


class PurchaseOrderLineInline(admin.TabularInline):
    """Lines can be edited while the order is a draft; afterwards receiving goes through the API."""

    model = PurchaseOrderLine
    extra = 0
    fields = ("product", "quantity_ordered", "quantity_received", "unit_cost")
    readonly_fields = ("quantity_received",)
    autocomplete_fields = ("product",)

    def _editable(self, obj):
        return obj is None or obj.status == PurchaseOrder.Status.DRAFT

    def has_add_permission(self, request, obj=None):
        return self._editable(obj) and super().has_add_permission(request, obj)

    def has_change_permission(self, request, obj=None):
        return self._editable(obj) and super().has_change_permission(request, obj)

    def has_delete_permission(self, request, obj=None):
        return self._editable(obj) and super().has_delete_permission(request, obj)


def _run_service(modeladmin, request, queryset, service, done: str):
    """Applies a state-change service to each selected row and reports each refusal."""
    succeeded = 0
    for obj in queryset:
        try:
            service(obj, request.user)
        except DomainError as exc:
            modeladmin.message_user(request, f"{obj}：{exc.message}", messages.ERROR)
        else:
            succeeded += 1
    if succeeded:
        modeladmin.message_user(request, f"已{done} {succeeded} 条。", messages.SUCCESS)


@admin.register(PurchaseOrder)
class PurchaseOrderAdmin(ErpImportExportAdmin):
    """Purchase orders; import/export is one row per line (see PurchaseOrderLineResource)."""

    resource_classes = (PurchaseOrderLineResource,)
    skip_admin_log = True  # the resource writes lines; log entries would point at the wrong model
    inlines = (PurchaseOrderLineInline,)
    list_display = ("number", "supplier", "warehouse", "status", "currency", "order_date", "expected_date",
                    "approved_by")
    list_select_related = ("supplier", "warehouse", "approved_by", "currency")
    list_filter = ("status", "warehouse")
    search_fields = ("number", "supplier__code", "supplier__name", "note")
    date_hierarchy = "order_date"
    autocomplete_fields = ("supplier",)
    readonly_fields = ("status", "approved_by", "approved_at", "created_at", "updated_at")
    actions = ("approve", "cancel")

    def has_change_permission(self, request, obj=None):
        if obj is not None and obj.status != PurchaseOrder.Status.DRAFT:
            return False  # once approved, an order changes only by receiving or cancelling
        return super().has_change_permission(request, obj)

    @admin.action(description="审批所选采购单", permissions=("change",))
    def approve(self, request, queryset):
        _run_service(self, request, queryset.order_by("pk"),
                     lambda po, user: purchase_order_approve(purchase_order=po, user=user), "审批")

    @admin.action(description="取消所选采购单", permissions=("change",))
    def cancel(self, request, queryset):
        _run_service(self, request, queryset.order_by("pk"),
                     lambda po, user: purchase_order_cancel(purchase_order=po, user=user), "取消")


@admin.register(PurchaseOrderLine)
class PurchaseOrderLineAdmin(admin.ModelAdmin):
    list_display = ("purchase_order", "product", "quantity_ordered", "quantity_received", "unit_cost")
    list_select_related = ("purchase_order", "product")
    search_fields = ("purchase_order__number", "product__sku", "product__name")
    autocomplete_fields = ("purchase_order", "product")
    readonly_fields = ("quantity_received",)


class ShipmentLineInline(ReadOnlyInline):
    model = ShipmentLine
    fields = ("product", "quantity")


@admin.register(Shipment)
class ShipmentAdmin(admin.ModelAdmin):
    """Shipments reserve stock when created (API / `shipment_create`), so they are not added here;
    carrier and tracking number can be edited, shipping and cancelling are actions."""

    inlines = (ShipmentLineInline,)
    list_display = ("number", "warehouse", "order", "status", "carrier", "tracking_number", "shipped_at",
                    "created_at")
    list_select_related = ("warehouse", "order")
    list_filter = ("status", "warehouse")
    search_fields = ("number", "tracking_number", "order__platform_order_id", "order__order_number")
    readonly_fields = ("number", "warehouse", "order", "status", "shipped_at", "created_by", "created_at",
                       "updated_at")
    fields = ("number", "warehouse", "order", "status", "carrier", "tracking_number", "shipped_at", "created_by",
              "created_at", "updated_at")
    actions = ("ship", "cancel")
    show_full_result_count = False

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    @admin.action(description="所选出库单发货", permissions=("change",))
    def ship(self, request, queryset):
        _run_service(self, request, queryset.order_by("pk"),
                     lambda shipment, user: shipment_ship(shipment=shipment, user=user), "发货")

    @admin.action(description="取消所选出库单", permissions=("change",))
    def cancel(self, request, queryset):
        _run_service(self, request, queryset.order_by("pk"),
                     lambda shipment, user: shipment_cancel(shipment=shipment, user=user), "取消")


@admin.register(ShipmentLine)
class ShipmentLineAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ("shipment", "product", "quantity")
    list_select_related = ("shipment", "product")
    search_fields = ("shipment__number", "product__sku")
