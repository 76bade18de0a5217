import json

from django import forms
from django.contrib import admin
from django.db import models
from django.utils.html import escape
from django.utils.safestring import mark_safe

from apps.core.admin import ErpImportExportAdmin
from apps.core.crypto import mask_secret

from .models import CollectionRun, ImportJob, Listing, Platform, QuarantinedRecord, Shop
from .schedules import shop_schedules_ensure
from .resources import ListingResource


def masked_credentials(credentials: dict) -> str:
    """`access_token: ••••••••9876；refresh_token: ••••••••abcd` — keys with masked values."""
    if not credentials:
        return ""
    return "；".join(f"{key}: {mask_secret(value)}" for key, value in sorted(credentials.items()))


# Addresses typed without a scheme are API endpoints: assume https.
URL_FIELDS = {models.URLField: {"assume_scheme": "https"}}


def _https_formfield(db_field, **kwargs):
    if isinstance(db_field, models.URLField):
        kwargs.setdefault("assume_scheme", "https")
    return db_field.formfield(**kwargs)


@admin.register(Platform)
class PlatformAdmin(admin.ModelAdmin):
    formfield_overrides = URL_FIELDS
    list_display = ("name", "code", "website", "is_active")
    list_filter = ("is_active",)
    search_fields = ("name", "code")


class SecretJSONTextarea(forms.Textarea):
    """Never renders a value, neither the stored secret nor one typed into a form with errors."""

    def format_value(self, value):
        return None


class ShopAdminForm(forms.ModelForm):
    """Credentials are write-only: the field is empty on edit; leaving it empty keeps what is
    stored, a JSON object replaces it."""

    credentials = forms.CharField(
        label="凭证",
        required=False,
        widget=SecretJSONTextarea(attrs={"rows": 4, "autocomplete": "off", "spellcheck": "false"}),
    )

    class Meta:
        model = Shop
        fields = "__all__"
        formfield_callback = _https_formfield

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.initial["credentials"] = ""
        stored = self.instance.credentials if self.instance.pk else {}
        if stored:
            saved = f"已保存：{escape(masked_credentials(stored))}。留空则保留已保存的凭证；"
        else:
            saved = "尚未保存凭证。"
        self.fields["credentials"].help_text = mark_safe(
            saved + escape('填写 JSON 对象则整体替换，例如 {"access_token": "…"}。')
        )

    def clean_credentials(self):
        text = (self.cleaned_data.get("credentials") or "").strip()
        if not text:
            return self.instance.credentials if self.instance.pk else {}
        try:
            value = json.loads(text)
        except json.JSONDecodeError as exc:
            raise forms.ValidationError(
                f"凭证不是有效的 JSON（第 {exc.lineno} 行第 {exc.colno} 列附近）。"
                '请填写 JSON 对象，例如 {"access_token": "…"}。'
            ) from None
        if not isinstance(value, dict):
            raise forms.ValidationError('凭证必须是 JSON 对象（{…}），例如 {"access_token": "…"}。')
        return value


@admin.register(Shop)
class ShopAdmin(admin.ModelAdmin):
    form = ShopAdminForm
    formfield_overrides = URL_FIELDS
    fieldsets = (
        (None, {"fields": ("platform", "name", "code", "external_id", "marketplace", "country", "currency",
                           "timezone", "salesperson", "default_warehouse", "platform_fee_rate", "is_active")}),
        ("接口授权", {"fields": ("api_base_url", "auth_status", "credentials")}),
    )
    list_display = ("name", "code", "platform", "marketplace", "country", "currency", "auth_status",
                    "salesperson", "credentials_summary", "is_active")
    list_select_related = ("platform", "salesperson", "currency")
    list_filter = ("platform", "auth_status", "is_active", "country")
    search_fields = ("name", "code", "external_id", "marketplace")
    readonly_fields = ("credentials_masked",)

    def save_model(self, request, obj, form, change):
        super().save_model(request, obj, form, change)
        shop_schedules_ensure(shop=obj)  # a shop's collection schedules come with it

    def get_fieldsets(self, request, obj=None):
        fieldsets = super().get_fieldsets(request, obj)
        if obj is not None and not self.has_change_permission(request, obj):
            # A view-only page shows every field read-only: show the masked form, never the dict.
            return [
                (name, {**options, "fields": tuple(
                    "credentials_masked" if f == "credentials" else f for f in options["fields"]
                )})
                for name, options in fieldsets
            ]
        return fieldsets

    @admin.display(description="凭证")
    def credentials_masked(self, obj):
        return masked_credentials(obj.credentials) or "—"

    @admin.display(description="凭证")
    def credentials_summary(self, obj):
        keys = sorted(obj.credentials)
        return f"已配置（{'、'.join(keys)}）" if keys else "未配置"


@admin.register(Listing)
class ListingAdmin(ErpImportExportAdmin):
    resource_classes = (ListingResource,)
    list_display = ("platform_sku", "shop", "title", "product", "price", "currency", "platform_stock", "is_active",
                    "mapped")
    list_select_related = ("shop", "product", "currency")
    list_filter = ("shop", "is_active", ("product", admin.EmptyFieldListFilter))
    search_fields = ("platform_sku", "platform_item_id", "title", "product__sku")
    autocomplete_fields = ("product",)

    @admin.display(description="已对应商品", boolean=True)
    def mapped(self, obj):
        return obj.is_mapped


@admin.register(CollectionRun)
class CollectionRunAdmin(admin.ModelAdmin):
    """Runs are started by schedules or the API (which queues the task); here they are inspected."""

    list_display = ("__str__", "shop", "kind", "status", "records_seen", "records_created", "records_updated",
                    "records_quarantined", "started_at", "finished_at")
    list_select_related = ("shop",)
    list_filter = ("kind", "status", "shop")
    search_fields = ("shop__name", "shop__code", "error")
    readonly_fields = [f.name for f in CollectionRun._meta.fields]
    show_full_result_count = False

    def has_add_permission(self, request):
        return False


@admin.register(QuarantinedRecord)
class QuarantinedRecordAdmin(admin.ModelAdmin):
    list_display = ("external_id", "shop", "kind", "reason", "resolved", "created_at")
    list_select_related = ("shop",)
    list_filter = ("resolved", "kind", "shop")
    search_fields = ("external_id", "reason")
    readonly_fields = ("run", "shop", "kind", "external_id", "reason", "payload", "created_at", "updated_at")
    raw_id_fields = ("run",)
    actions = ("mark_resolved",)

    def has_add_permission(self, request):
        return False

    @admin.action(description="标记为已处理", permissions=("change",))
    def mark_resolved(self, request, queryset):
        count = queryset.update(resolved=True)
        self.message_user(request, f"已将 {count} 条隔离记录标记为已处理。")


@admin.register(ImportJob)
class ImportJobAdmin(admin.ModelAdmin):
    """Import jobs are submitted through the API (which queues the task); here they are inspected."""

    list_display = ("original_filename", "kind", "shop", "status", "dry_run", "total_rows", "created_count",
                    "updated_count", "unchanged_count", "rejected_count", "created_by", "created_at")
    list_select_related = ("shop", "created_by")
    list_filter = ("kind", "status", "dry_run")
    search_fields = ("original_filename", "shop__name")
    readonly_fields = [f.name for f in ImportJob._meta.fields]

    def has_add_permission(self, request):
        return False
