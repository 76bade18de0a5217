"""CSV/XLSX import and export of exchange rates and expenses (base amounts from the day's rate)."""
from django.core.exceptions import NON_FIELD_ERRORS, ValidationError

from apps.core.exceptions import MissingExchangeRate
from apps.core.resources import ChoiceWidget, DateWidget, ErpResource, MoneyWidget, NaturalKeyWidget, TextWidget, column
from apps.platforms.models import Shop

from .models import Currency, ExchangeRate, Expense
from .selectors import to_base
from .services import expense_submit, expense_update

EXPENSE_FIELDS = ("category", "shop", "expense_date", "currency", "amount", "description")

# Exchange rates --------------------------------------------------------------------------------

EXCHANGE_RATE_COLUMNS = ("currency", "base_currency", "rate_date", "rate", "source")


class ExchangeRateResource(ErpResource):
    """Daily rates: 1 `currency` = `rate` `base_currency` on `rate_date`."""

    currency = column("currency", NaturalKeyWidget(Currency, "code", label="币种", required=True, upper=True))
    base_currency = column(
        "base_currency", NaturalKeyWidget(Currency, "code", label="本位币", required=True, upper=True)
    )
    rate_date = column("rate_date", DateWidget(required=True))
    rate = column("rate", MoneyWidget(required=True, places=8))
    source = column("source", TextWidget(strip=True, max_length=32))

    required_columns = ("rate",)

    class Meta:
        model = ExchangeRate
        fields = EXCHANGE_RATE_COLUMNS
        export_order = EXCHANGE_RATE_COLUMNS
        import_id_fields = ("currency", "base_currency", "rate_date")

    def import_instance(self, instance, row, **kwargs):
        super().import_instance(instance, row, **kwargs)
        if instance.rate is not None and instance.rate <= 0:
            raise ValidationError({"rate": [f"汇率必须大于 0（当前 {instance.rate}）。"]})

    def export_queryset(self, queryset):
        return queryset.select_related("currency", "base_currency").order_by(
            "currency_id", "base_currency_id", "rate_date"
        )


# Expenses --------------------------------------------------------------------------------------

EXPENSE_COLUMNS = (
    "expense_date", "category", "shop", "description", "currency", "amount", "exchange_rate", "amount_base",
    "status",
)


class ExpenseResource(ErpResource):
    """Expenses, identified by (date, category, shop, description) since they carry no number.
    Imported expenses wait for approval; the rate and base amount come from the expense day's rate;
    an expense already approved or rejected cannot be changed by a file."""

    expense_date = column("expense_date", DateWidget(required=True))
    category = column("category", ChoiceWidget(Expense.Category, required=True))
    shop = column("shop", NaturalKeyWidget(Shop, "code", label="店铺"))
    description = column("description", TextWidget(required=True, max_length=255))
    currency = column("currency", NaturalKeyWidget(Currency, "code", label="币种", required=True, upper=True))
    amount = column("amount", MoneyWidget(required=True))
    exchange_rate = column("exchange_rate", MoneyWidget(places=8), readonly=True)
    amount_base = column("amount_base", MoneyWidget(), readonly=True)
    status = column("status", TextWidget(), readonly=True)

    required_columns = ("currency", "amount")

    class Meta:
        model = Expense
        fields = EXPENSE_COLUMNS
        export_order = EXPENSE_COLUMNS
        import_id_fields = ("expense_date", "category", "shop", "description")

    def get_instance(self, instance_loader, row):
        try:
            lookup = {
                name: self.fields[name].clean(row) for name in self.get_import_id_fields()
            }
        except (ValueError, KeyError):
            return None
        matches = list(Expense.objects.filter(**lookup).order_by("pk")[:2])
        if len(matches) > 1:
            matches[0]._import_ambiguous = True
        return matches[0] if matches else None

    def import_instance(self, instance, row, **kwargs):
        if getattr(instance, "_import_ambiguous", False):
            raise ValidationError({NON_FIELD_ERRORS: [
                "有多条费用的日期、类别、店铺与说明都相同，无法确定更新哪一条；请先在后台合并或修改说明。"
            ]})
        super().import_instance(instance, row, **kwargs)
        if instance.amount is not None and instance.amount <= 0:
            raise ValidationError({"amount": [f"金额必须大于 0（当前 {instance.amount}）。"]})
        try:
            instance.amount_base, instance.exchange_rate = to_base(
                amount=instance.amount, currency=instance.currency_id, on_date=instance.expense_date
            )
        except MissingExchangeRate as exc:
            raise ValidationError({"currency": [exc.message]}) from None

    def validate_instance(self, instance, import_validation_errors=None, validate_unique=True):
        if not import_validation_errors and instance.pk and instance.status != Expense.Status.SUBMITTED:
            raise ValidationError({NON_FIELD_ERRORS: [
                f"该费用状态为「{instance.get_status_display()}」，只有待审批的费用可以通过导入修改。"
            ]})
        super().validate_instance(instance, import_validation_errors, validate_unique)

    def save_instance(self, instance, is_create, row, **kwargs):
        # Through the expense services, so the import is audited like any other submission.
        self.before_save_instance(instance, row, **kwargs)
        user = kwargs.get("user")
        user = user if getattr(user, "pk", None) else None
        fields = {name: getattr(instance, name) for name in EXPENSE_FIELDS}
        if instance.pk is None:
            saved = expense_submit(user=user, **fields)
        else:
            saved = expense_update(expense=instance, user=user, **fields)
        instance.pk = saved.pk
        instance.refresh_from_db()
        self.after_save_instance(instance, row, **kwargs)

    def export_queryset(self, queryset):
        return queryset.select_related("shop", "currency").order_by(
            "expense_date", "category", "shop__code", "description", "pk"
        )
