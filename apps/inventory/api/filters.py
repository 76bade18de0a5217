import django_filters
from django.db.models import F

from apps.inventory.models import InventoryItem, Product, PurchaseOrder, Shipment, StockMovement


class ProductFilter(django_filters.FilterSet):
    sku = django_filters.CharFilter(lookup_expr="icontains")
    supplier = django_filters.NumberFilter(field_name="default_supplier")

    class Meta:
        model = Product
        fields = ["sku", "category", "is_active", "is_bundle", "supplier"]


class StockItemFilter(django_filters.FilterSet):
    sku = django_filters.CharFilter(field_name="product__sku", lookup_expr="icontains")
    low_stock = django_filters.BooleanFilter(method="filter_low_stock", label="低于补货点")

    class Meta:
        model = InventoryItem
        fields = ["warehouse", "product", "sku", "low_stock"]

    def filter_low_stock(self, queryset, name, value):
        below = queryset.filter(available__lt=F("reorder_point"))
        return below if value else queryset.exclude(pk__in=below.values("pk"))


class StockMovementFilter(django_filters.FilterSet):
    sku = django_filters.CharFilter(field_name="product__sku")
    start = django_filters.IsoDateTimeFilter(field_name="occurred_at", lookup_expr="gte")
    end = django_filters.IsoDateTimeFilter(field_name="occurred_at", lookup_expr="lte")

    class Meta:
        model = StockMovement
        fields = ["warehouse", "product", "sku", "movement_type", "reference", "start", "end"]


class PurchaseOrderFilter(django_filters.FilterSet):
    start = django_filters.DateFilter(field_name="order_date", lookup_expr="gte")
    end = django_filters.DateFilter(field_name="order_date", lookup_expr="lte")
    sku = django_filters.CharFilter(field_name="lines__product__sku", distinct=True)

    class Meta:
        model = PurchaseOrder
        fields = ["supplier", "warehouse", "status", "start", "end", "sku"]


class ShipmentFilter(django_filters.FilterSet):
    start = django_filters.IsoDateTimeFilter(field_name="created_at", lookup_expr="gte")
    end = django_filters.IsoDateTimeFilter(field_name="created_at", lookup_expr="lte")

    class Meta:
        model = Shipment
        fields = ["warehouse", "status", "order", "start", "end"]
