from rest_framework import serializers

from apps.inventory.models import InventoryItem, Product, StockAdjustment, StockMovement, StockTransfer, Supplier, Warehouse


class ProductSerializer(serializers.ModelSerializer):
    category_name = serializers.CharField(source="category.name", read_only=True, default=None)

    class Meta:
        model = Product
        fields = [
            "id", "sku", "name", "name_en", "category", "category_name", "brand", "barcode", "cost_price",
            "cost_currency", "weight_kg", "length_cm", "width_cm", "height_cm", "is_bundle", "reorder_point",
            "lead_time_days", "safety_days", "default_supplier", "is_active", "created_at", "updated_at",
        ]
        read_only_fields = ["created_at", "updated_at"]

    def validate_cost_price(self, value):
        if value < 0:
            raise serializers.ValidationError("成本价不能为负数。")
        return value


class WarehouseSerializer(serializers.ModelSerializer):
    class Meta:
        model = Warehouse
        fields = ["id", "code", "name", "kind", "country", "address", "is_active", "created_at", "updated_at"]
        read_only_fields = ["created_at", "updated_at"]

    def validate_country(self, value):
        if len(value) != 2 or not value.isalpha():
            raise serializers.ValidationError("国家需为 ISO 3166-1 两位字母代码，如 DE。")
        return value.upper()


class SupplierSerializer(serializers.ModelSerializer):
    class Meta:
        model = Supplier
        fields = [
            "id", "code", "name", "contact_name", "email", "phone", "country", "currency", "lead_time_days",
            "payment_terms", "is_active", "created_at", "updated_at",
        ]
        read_only_fields = ["created_at", "updated_at"]


class StockItemSerializer(serializers.ModelSerializer):
    sku = serializers.CharField(source="product.sku", read_only=True)
    product_name = serializers.CharField(source="product.name", read_only=True)
    warehouse_code = serializers.CharField(source="warehouse.code", read_only=True)

    class Meta:
        model = InventoryItem
        fields = [
            "id", "product", "sku", "product_name", "warehouse", "warehouse_code", "on_hand", "reserved",
            "available", "reorder_point", "updated_at",
        ]
        read_only_fields = fields


class StockMovementSerializer(serializers.ModelSerializer):
    sku = serializers.CharField(source="product.sku", read_only=True)
    warehouse_code = serializers.CharField(source="warehouse.code", read_only=True)

    class Meta:
        model = StockMovement
        fields = [
            "id", "product", "sku", "warehouse", "warehouse_code", "movement_type", "quantity", "balance_after",
            "reference", "note", "occurred_at", "created_by",
        ]
        read_only_fields = fields


class StockAdjustmentSerializer(serializers.ModelSerializer):
    class Meta:
        model = StockAdjustment
        fields = ["id", "product", "warehouse", "quantity_change", "reason", "note", "created_by", "created_at"]
        read_only_fields = ["created_by", "created_at"]

    def validate_quantity_change(self, value):
        if value == 0:
            raise serializers.ValidationError("调整数量不能为 0。")
        return value


class StockTransferSerializer(serializers.ModelSerializer):
    class Meta:
        model = StockTransfer
        fields = ["id", "product", "from_warehouse", "to_warehouse", "quantity", "note", "created_by", "created_at"]
        read_only_fields = ["created_by", "created_at"]

    def validate(self, attrs):
        if attrs["from_warehouse"] == attrs["to_warehouse"]:
            raise serializers.ValidationError({"to_warehouse": ["调出仓与调入仓不能相同。"]})
        if attrs["quantity"] <= 0:
            raise serializers.ValidationError({"quantity": ["调拨数量必须大于 0。"]})
        return attrs
