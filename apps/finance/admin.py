import datetime as dt

from django import forms
from django.contrib import admin, messages
from django.utils import timezone

from apps.core.admin import ErpImportExportAdmin
from apps.core.exceptions import DomainError, MissingExchangeRate

from .models import Currency, ExchangeRate, Expense, FinancialRecord, Revenue
from .resources import EXPENSE_FIELDS, ExchangeRateResource, ExpenseResource
from .selectors import to_base
from .services import booked_amount_save, expense_approve, expense_submit, expense_update

BASE_AMOUNT_FIELDS = ("exchange_rate", "amount_base")


class BaseAmountForm(forms.ModelForm):
    """`exchange_rate` and `amount_base` come from the rate of the row's day, never typed in."""

    date_field = ""

    def clean(self):
        cleaned = super().clean()
        amount, currency, day = cleaned.get("amount"), cleaned.get("currency"), cleaned.get(self.date_field)
        if amount is None or currency is None or day is None:
            return cleaned
        if isinstance(day, dt.datetime):
            day = timezone.localdate(day)
        try:
            self.instance.amount_base, self.instance.exchange_rate = to_base(
                amount=amount, currency=currency.pk, on_date=day
            )
        except MissingExchangeRate as exc:
            self.add_error("currency", exc.message)
        return cleaned


def base_amount_form(model, date_field: str) -> type[BaseAmountForm]:
    meta = type("Meta", (), {"model": model, "fields": "__all__"})
    return type(f"{model.__name__}Form", (BaseAmountForm,), {"Meta": meta, "date_field": date_field})


@admin.register(Currency)
class CurrencyAdmin(admin.ModelAdmin):
    list_display = ("code", "name", "symbol", "decimal_places", "is_active")
    list_filter = ("is_active",)
    search_fields = ("code", "name")


@admin.register(ExchangeRate)
class ExchangeRateAdmin(ErpImportExportAdmin):
    resource_classes = (ExchangeRateResource,)
    list_display = ("rate_date", "currency", "base_currency", "rate", "source")
    list_select_related = ("currency", "base_currency")
    list_filter = ("currency", "source")
    search_fields = ("currency__code", "currency__name", "source")
    date_hierarchy = "rate_date"


@admin.register(FinancialRecord)
class FinancialRecordAdmin(admin.ModelAdmin):
    form = base_amount_form(FinancialRecord, "occurred_at")
    list_display = ("occurred_at", "record_type", "direction", "shop", "order", "amount", "currency", "amount_base",
                    "description")
    list_select_related = ("shop", "order", "currency")
    list_filter = ("record_type", "direction", "shop")
    search_fields = ("description", "source_key", "order__platform_order_id", "order__order_number")
    date_hierarchy = "occurred_at"
    autocomplete_fields = ("order",)
    readonly_fields = (*BASE_AMOUNT_FIELDS, "created_at", "updated_at")
    show_full_result_count = False

    def save_model(self, request, obj, form, change):
        booked_amount_save(instance=obj, user=request.user)


@admin.register(Expense)
class ExpenseAdmin(ErpImportExportAdmin):
    """Expenses go through the expense services: submitted here, editable while awaiting approval,
    approved by the list action (rejecting needs a reason: the API's reject action)."""

    form = base_amount_form(Expense, "expense_date")
    resource_classes = (ExpenseResource,)
    list_display = ("expense_date", "category", "shop", "description", "amount", "currency", "amount_base",
                    "status", "submitted_by")
    list_select_related = ("shop", "currency", "submitted_by")
    list_filter = ("status", "category", "shop")
    search_fields = ("description", "rejection_reason")
    date_hierarchy = "expense_date"
    readonly_fields = (*BASE_AMOUNT_FIELDS, "status", "submitted_by", "reviewed_by", "reviewed_at",
                       "rejection_reason", "created_at", "updated_at")
    actions = ("approve",)

    def has_change_permission(self, request, obj=None):
        if obj is not None and obj.status != Expense.Status.SUBMITTED:
            return False  # reviewed: kept as it was approved or rejected
        return super().has_change_permission(request, obj)

    def has_approve_permission(self, request):
        return request.user.has_perm("finance.approve_expense")

    def save_model(self, request, obj, form, change):
        fields = {name: getattr(obj, name) for name in EXPENSE_FIELDS}
        saved = expense_update(expense=obj, user=request.user, **fields) if change else expense_submit(
            user=request.user, **fields
        )
        obj.pk, obj.status, obj.submitted_by = saved.pk, saved.status, saved.submitted_by

    @admin.action(description="批准所选费用", permissions=("approve",))
    def approve(self, request, queryset):
        approved = 0
        for expense in queryset.order_by("pk"):
            try:
                expense_approve(expense=expense, user=request.user)
            except DomainError as exc:
                self.message_user(request, f"{expense}：{exc.message}", messages.ERROR)
            else:
                approved += 1
        if approved:
            self.message_user(request, f"已批准 {approved} 条费用。", messages.SUCCESS)


@admin.register(Revenue)
class RevenueAdmin(admin.ModelAdmin):
    form = base_amount_form(Revenue, "revenue_date")
    list_display = ("revenue_date", "source", "shop", "amount", "currency", "amount_base", "description")
    list_select_related = ("shop", "currency")
    list_filter = ("source", "shop")
    search_fields = ("description", "shop__name", "shop__code")
    date_hierarchy = "revenue_date"
    readonly_fields = (*BASE_AMOUNT_FIELDS, "created_at", "updated_at")

    def save_model(self, request, obj, form, change):
        booked_amount_save(instance=obj, user=request.user)
