import django_filters

from apps.finance.models import ExchangeRate, Expense, FinancialRecord, Revenue


class ExchangeRateFilter(django_filters.FilterSet):
    start = django_filters.DateFilter(field_name="rate_date", lookup_expr="gte")
    end = django_filters.DateFilter(field_name="rate_date", lookup_expr="lte")

    class Meta:
        model = ExchangeRate
        fields = ["currency", "base_currency", "rate_date", "start", "end"]


class FinancialRecordFilter(django_filters.FilterSet):
    start = django_filters.IsoDateTimeFilter(field_name="occurred_at", lookup_expr="gte")
    end = django_filters.IsoDateTimeFilter(field_name="occurred_at", lookup_expr="lte")
    platform = django_filters.CharFilter(field_name="shop__platform__code")

    class Meta:
        model = FinancialRecord
        fields = ["record_type", "direction", "shop", "platform", "order", "currency", "start", "end"]


class ExpenseFilter(django_filters.FilterSet):
    start = django_filters.DateFilter(field_name="expense_date", lookup_expr="gte")
    end = django_filters.DateFilter(field_name="expense_date", lookup_expr="lte")

    class Meta:
        model = Expense
        fields = ["category", "status", "shop", "currency", "start", "end"]


class RevenueFilter(django_filters.FilterSet):
    start = django_filters.DateFilter(field_name="revenue_date", lookup_expr="gte")
    end = django_filters.DateFilter(field_name="revenue_date", lookup_expr="lte")

    class Meta:
        model = Revenue
        fields = ["source", "shop", "currency", "start", "end"]
