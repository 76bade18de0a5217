import django_filters

from apps.platforms.models import CollectionRun, Listing, Shop


class ShopFilter(django_filters.FilterSet):
    platform = django_filters.CharFilter(field_name="platform__code")

    class Meta:
        model = Shop
        fields = ["platform", "country", "currency", "auth_status", "is_active"]


class ListingFilter(django_filters.FilterSet):
    platform = django_filters.CharFilter(field_name="shop__platform__code")
    mapped = django_filters.BooleanFilter(field_name="product", lookup_expr="isnull", exclude=True)
    sku = django_filters.CharFilter(field_name="platform_sku", lookup_expr="icontains")

    class Meta:
        model = Listing
        fields = ["shop", "platform", "product", "mapped", "sku", "is_active"]


class CollectionRunFilter(django_filters.FilterSet):
    platform = django_filters.CharFilter(field_name="shop__platform__code")
    start = django_filters.IsoDateTimeFilter(field_name="created_at", lookup_expr="gte")
    end = django_filters.IsoDateTimeFilter(field_name="created_at", lookup_expr="lte")

    class Meta:
        model = CollectionRun
        fields = ["shop", "platform", "kind", "status", "start", "end"]
