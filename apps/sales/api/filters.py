import datetime as dt
from zoneinfo import ZoneInfo

import django_filters
from django.conf import settings
from django.db.models import Q

from apps.inventory.models import Product
from apps.sales.models import Customer, Order, OrderLine


def _business_midnight(day: dt.date) -> dt.datetime:
    return dt.datetime.combine(day, dt.time.min, tzinfo=ZoneInfo(settings.TIME_ZONE))


class OrderFilter(django_filters.FilterSet):
    start = django_filters.DateFilter(method="filter_start", label="开始日期(业务时区，含)")
    end = django_filters.DateFilter(method="filter_end", label="结束日期(业务时区，含)")
    platform = django_filters.CharFilter(field_name="shop__platform__code")
    country = django_filters.CharFilter(method="filter_country", label="买家国家(ISO 两位代码)")
    sku = django_filters.CharFilter(method="filter_sku", label="平台 SKU 或主 SKU")
    status = django_filters.MultipleChoiceFilter(choices=Order.Status.choices, distinct=False)  # one row per order anyway

    class Meta:
        model = Order
        fields = ["shop", "platform", "status", "country", "fulfillment_channel", "warehouse", "customer", "currency",
                  "start", "end", "sku"]

    def filter_start(self, queryset, name, value):
        return queryset.filter(ordered_at__gte=_business_midnight(value))

    def filter_end(self, queryset, name, value):
        return queryset.filter(ordered_at__lt=_business_midnight(value + dt.timedelta(days=1)))

    def filter_country(self, queryset, name, value):
        # Codes are stored upper-case (cleaning normalises them): an exact match keeps the index.
        return queryset.filter(buyer_country=value.strip().upper())

    def filter_sku(self, queryset, name, value):
        # Two index conditions (platform SKU; the master product's id, looked up first so the planner
        # sees a constant) rather than an OR across a join, which scans every line.
        product_ids = list(Product.objects.filter(sku=value).values_list("pk", flat=True))
        lines = OrderLine.objects.filter(Q(platform_sku=value) | Q(product_id__in=product_ids))
        return queryset.filter(pk__in=lines.values("order_id"))


class CustomerFilter(django_filters.FilterSet):
    platform = django_filters.CharFilter(field_name="shop__platform__code")
    country = django_filters.CharFilter(method="filter_country", label="国家(ISO 两位代码)")

    class Meta:
        model = Customer
        fields = ["shop", "platform", "country"]

    def filter_country(self, queryset, name, value):
        return queryset.filter(country=value.strip().upper())  # stored upper-case; exact keeps the index
