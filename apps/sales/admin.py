from django import forms
from django.contrib import admin, messages

from apps.core.admin import ErpImportExportAdmin, ReadOnlyAdminMixin
from apps.core.exceptions import DomainError, MissingExchangeRate
from apps.core.money import ZERO, quantize_money
from apps.finance.selectors import exchange_rate_get

from .models import Customer, Order, OrderLine, SalesDaily, Salesperson, SalesTarget, SkuSalesDaily
from .resources import (
    ORDER_AMOUNT_FIELDS,
    CustomerResource,
    OrderLineResource,
    order_business_date,
    orders_apply_effects,
)
from .services import order_delete

BASE_FIELDS = ("exchange_rate", *(f"{name}_base" for name in ORDER_AMOUNT_FIELDS))


@admin.register(Customer)
class CustomerAdmin(ErpImportExportAdmin):
    resource_classes = (CustomerResource,)
    list_display = ("__str__", "email", "platform_buyer_id", "shop", "country", "first_ordered_at", "created_at")
    list_select_related = ("shop",)
    list_filter = ("shop", "country")
    readonly_fields = ("first_ordered_at",)
    search_fields = ("name", "email", "platform_buyer_id", "phone")


class SalesTargetInline(admin.TabularInline):
    model = SalesTarget
    extra = 0


@admin.register(Salesperson)
class SalespersonAdmin(admin.ModelAdmin):
    list_display = ("name", "team", "email", "user", "is_active")
    list_select_related = ("user",)
    list_filter = ("is_active", "team")
    search_fields = ("name", "email", "team")
    autocomplete_fields = ("user",)
    inlines = (SalesTargetInline,)


@admin.register(SalesTarget)
class SalesTargetAdmin(admin.ModelAdmin):
    list_display = ("salesperson", "month", "target_amount_base")
    list_select_related = ("salesperson",)
    list_filter = ("month",)
    search_fields = ("salesperson__name", "salesperson__team")
    autocomplete_fields = ("salesperson",)


class OrderAdminForm(forms.ModelForm):
    """The rate and base-currency amounts are computed from the order day's rate, never typed."""

    class Meta:
        model = Order
        fields = "__all__"

    def clean(self):
        cleaned = super().clean()
        currency, ordered_at = cleaned.get("currency"), cleaned.get("ordered_at")
        refund, total = cleaned.get("refund_amount"), cleaned.get("total_amount")
        if refund is not None and total is not None and refund > total:
            self.add_error("refund_amount", f"退款金额 {refund} 不能大于订单总额 {total}。")
        if currency is None or ordered_at is None:
            return cleaned
        try:
            rate = exchange_rate_get(currency=currency.pk, on_date=order_business_date(ordered_at))
        except MissingExchangeRate as exc:
            self.add_error("currency", exc.message)
            return cleaned
        self.instance.exchange_rate = rate
        for name in ORDER_AMOUNT_FIELDS:
            setattr(self.instance, f"{name}_base", quantize_money((cleaned.get(name) or ZERO) * rate))
        return cleaned


class OrderLineInline(admin.TabularInline):
    model = OrderLine
    extra = 0
    fields = ("platform_line_id", "platform_sku", "title", "product", "listing", "quantity", "unit_price",
              "line_total", "line_total_base", "unit_cost_base")
    readonly_fields = ("line_total_base",)
    autocomplete_fields = ("product", "listing")


@admin.register(Order)
class OrderAdmin(ErpImportExportAdmin):
    """Orders; import/export is one row per order line (see OrderLineResource)."""

    form = OrderAdminForm
    resource_classes = (OrderLineResource,)
    skip_admin_log = True  # the resource writes lines; log entries would point at the wrong model
    inlines = (OrderLineInline,)
    list_display = ("__str__", "shop", "status", "buyer_country", "total_display", "total_amount_base",
                    "ordered_at")
    list_select_related = ("shop",)
    list_filter = ("status", "fulfillment_channel", "shop", "shop__platform")
    search_fields = ("platform_order_id", "order_number", "customer__email", "customer__name")
    date_hierarchy = "ordered_at"
    autocomplete_fields = ("customer",)
    readonly_fields = (*BASE_FIELDS, "created_at", "updated_at")
    fieldsets = (
        (None, {"fields": ("shop", "platform_order_id", "order_number", "customer", "status", "platform_status",
                           "fulfillment_channel", "warehouse", "buyer_country")}),
        ("金额（订单币种）", {"fields": ("currency", *ORDER_AMOUNT_FIELDS)}),
        ("金额（本位币，按下单日汇率自动计算）", {"fields": BASE_FIELDS}),
        ("时间", {"fields": ("ordered_at", "paid_at", "shipped_at", "delivered_at", "cancelled_at",
                            "platform_updated_at", "created_at", "updated_at")}),
    )

    @admin.display(description="订单总额", ordering="total_amount")
    def total_display(self, obj):
        return f"{obj.total_amount} {obj.currency_id}"

    def save_model(self, request, obj, form, change):
        # The business day before the edit: its rollup row must lose the order if the day moved.
        previous = Order.objects.filter(pk=obj.pk).values_list("ordered_at", flat=True).first() if change else None
        obj._previous_day = order_business_date(previous) if previous else None
        super().save_model(request, obj, form, change)

    def save_related(self, request, form, formsets, change):
        super().save_related(request, form, formsets, change)
        order = form.instance
        for line in order.lines.all():  # every line: the rate may have changed with the date or currency
            base = quantize_money(line.line_total * order.exchange_rate)
            if line.line_total_base != base:
                line.line_total_base = base
                line.save(update_fields=["line_total_base"])
        days = {order_business_date(order.ordered_at), getattr(order, "_previous_day", None)} - {None}
        orders_apply_effects(order_ids={order.pk}, days_by_shop={order.shop_id: days})

    def has_delete_permission(self, request, obj=None):
        if obj is not None and obj.lines.filter(stock_posted_at__isnull=False).exists():
            return False  # its outbound is in the ledger: cancel or refund instead
        return super().has_delete_permission(request, obj)

    def delete_model(self, request, obj):
        order_delete(order=obj, user=request.user)

    def delete_queryset(self, request, queryset):
        for order in queryset:
            try:
                order_delete(order=order, user=request.user)
            except DomainError as exc:
                self.message_user(request, f"{order}：{exc.message}", messages.ERROR)


@admin.register(OrderLine)
class OrderLineAdmin(admin.ModelAdmin):
    list_display = ("platform_sku", "order", "product", "quantity", "unit_price", "line_total", "line_total_base")
    list_select_related = ("order", "product")
    search_fields = ("platform_sku", "title", "order__platform_order_id", "order__order_number", "product__sku")
    autocomplete_fields = ("order", "product", "listing")
    readonly_fields = ("line_total_base",)
    show_full_result_count = False

    def save_model(self, request, obj, form, change):
        obj.line_total_base = quantize_money(obj.line_total * obj.order.exchange_rate)
        super().save_model(request, obj, form, change)


@admin.register(SalesDaily)
class SalesDailyAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    """A rollup rebuilt from orders; read only."""

    list_display = ("date", "shop", "platform", "buyer_country", "orders_count", "units", "gross_sales_base",
                    "refunds_base", "platform_fees_base", "cogs_base")
    list_select_related = ("shop", "platform")
    list_filter = ("platform", "shop")
    search_fields = ("shop__name", "shop__code", "buyer_country")
    date_hierarchy = "date"
    show_full_result_count = False


@admin.register(SkuSalesDaily)
class SkuSalesDailyAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    """A rollup rebuilt from order lines; read only."""

    list_display = ("date", "shop", "product", "orders_count", "units", "gross_sales_base", "cogs_base")
    list_select_related = ("shop", "product")
    list_filter = ("shop",)
    search_fields = ("product__sku", "product__name", "shop__name", "shop__code")
    date_hierarchy = "date"
    show_full_result_count = False
