from rest_framework import serializers

from apps.inventory.models import Product
from apps.platforms.models import CollectionRun, Listing, Platform, Shop


class PlatformSerializer(serializers.ModelSerializer):
    class Meta:
        model = Platform
        fields = ["id", "code", "name", "website", "is_active", "created_at", "updated_at"]
        read_only_fields = ["created_at", "updated_at"]


class ShopSerializer(serializers.ModelSerializer):
    """`credentials` can be written but is never returned; `has_credentials` says whether any are set."""

    platform_code = serializers.CharField(source="platform.code", read_only=True)
    credentials = serializers.JSONField(write_only=True, required=False)
    has_credentials = serializers.SerializerMethodField()

    class Meta:
        model = Shop
        fields = [
            "id", "platform", "platform_code", "name", "code", "external_id", "marketplace", "country", "currency",
            "timezone", "api_base_url", "credentials", "has_credentials", "auth_status", "salesperson",
            "default_warehouse", "platform_fee_rate", "is_active", "created_at", "updated_at",
        ]
        read_only_fields = ["auth_status", "created_at", "updated_at"]
        extra_kwargs = {"external_id": {"required": False, "default": ""}}

    def get_has_credentials(self, shop) -> bool:
        return bool(shop.credentials)

    def validate_credentials(self, value):
        if not isinstance(value, dict):
            raise serializers.ValidationError("凭证必须是 JSON 对象。")
        return value

    def validate_country(self, value):
        if len(value) != 2 or not value.isalpha():
            raise serializers.ValidationError("国家需为 ISO 3166-1 两位字母代码，如 US。")
        return value.upper()


class ListingSerializer(serializers.ModelSerializer):
    shop_code = serializers.CharField(source="shop.code", read_only=True)
    product_sku = serializers.CharField(source="product.sku", read_only=True, default=None)
    is_mapped = serializers.BooleanField(read_only=True)

    class Meta:
        model = Listing
        fields = [
            "id", "shop", "shop_code", "platform_sku", "platform_item_id", "title", "product", "product_sku",
            "is_mapped", "price", "currency", "platform_stock", "is_active", "created_at", "updated_at",
        ]
        read_only_fields = ["created_at", "updated_at"]


class ListingMapSerializer(serializers.Serializer):
    product = serializers.PrimaryKeyRelatedField(queryset=Product.objects.all(), required=False)
    sku = serializers.SlugRelatedField(
        slug_field="sku", queryset=Product.objects.all(), required=False, source="product_by_sku"
    )

    def validate(self, attrs):
        product = attrs.get("product") or attrs.get("product_by_sku")
        if product is None:
            raise serializers.ValidationError({"product": ["请提供商品 id 或 sku。"]})
        return {"product": product}


class CollectionRunSerializer(serializers.ModelSerializer):
    shop_code = serializers.CharField(source="shop.code", read_only=True)
    duration_seconds = serializers.FloatField(read_only=True)

    class Meta:
        model = CollectionRun
        fields = [
            "id", "shop", "shop_code", "kind", "status", "window_start", "window_end", "pages", "records_seen",
            "records_created", "records_updated", "records_quarantined", "error", "started_at", "finished_at",
            "duration_seconds", "created_at",
        ]
        read_only_fields = fields


class ShopSyncSerializer(serializers.Serializer):
    kind = serializers.ChoiceField(choices=CollectionRun.Kind.choices, default=CollectionRun.Kind.ORDERS)


class ConnectionTestSerializer(serializers.Serializer):
    ok = serializers.BooleanField()
    message = serializers.CharField()
