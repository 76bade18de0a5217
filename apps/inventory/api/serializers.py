from rest_framework import serializers

from apps.inventory.models import (
    InventoryItem,
    Product,
    PurchaseOrder,
    PurchaseOrderLine,
    Shipment,
    ShipmentLine,
    StockAdjustment,
    StockMovement,
    StockTransfer,
    Supplier,
    Warehouse,
)


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


class PurchaseOrderLineSerializer(serializers.ModelSerializer):
    sku = serializers.CharField(source="product.sku", read_only=True)

    class Meta:
        model = PurchaseOrderLine
        fields = ["id", "product", "sku", "quantity_ordered", "quantity_received", "unit_cost"]
        read_only_fields = ["quantity_received"]


class PurchaseOrderSerializer(serializers.ModelSerializer):
    lines = PurchaseOrderLineSerializer(many=True)
    supplier_name = serializers.CharField(source="supplier.name", read_only=True)

    class Meta:
        model = PurchaseOrder
        fields = [
            "id", "number", "supplier", "supplier_name", "warehouse", "status", "currency", "order_date",
            "expected_date", "approved_by", "approved_at", "note", "lines", "created_at", "updated_at",
        ]
        read_only_fields = ["status", "approved_by", "approved_at", "created_at", "updated_at"]

    def validate_lines(self, lines):
        if not lines:
            raise serializers.ValidationError("采购单至少需要一行明细。")
        products = [line["product"].pk for line in lines]
        if len(products) != len(set(products)):
            raise serializers.ValidationError("同一商品在采购单中只能出现一次。")
        for line in lines:
            if line["quantity_ordered"] <= 0:
                raise serializers.ValidationError("采购数量必须大于 0。")
            if line["unit_cost"] < 0:
                raise serializers.ValidationError("采购单价不能为负数。")
        return lines

    def create(self, validated_data):
        from apps.inventory.services import purchase_order_create

        return purchase_order_create(**validated_data)

    def update(self, instance, validated_data):
        from apps.inventory.services import purchase_order_update

        return purchase_order_update(purchase_order=instance, **validated_data)


class ReceiptLineSerializer(serializers.Serializer):
    line = serializers.IntegerField()
    quantity = serializers.IntegerField(min_value=1)


class PurchaseOrderReceiveSerializer(serializers.Serializer):
    lines = ReceiptLineSerializer(many=True, allow_empty=False)


class ShipmentLineSerializer(serializers.ModelSerializer):
    sku = serializers.CharField(source="product.sku", read_only=True)

    class Meta:
        model = ShipmentLine
        fields = ["id", "product", "sku", "quantity"]


class ShipmentSerializer(serializers.ModelSerializer):
    lines = ShipmentLineSerializer(many=True)

    class Meta:
        model = Shipment
        fields = [
            "id", "number", "warehouse", "order", "status", "carrier", "tracking_number", "shipped_at", "lines",
            "created_at", "updated_at",
        ]
        read_only_fields = ["status", "shipped_at", "created_at", "updated_at"]

    def validate_lines(self, lines):
        if not lines:
            raise serializers.ValidationError("出库单至少需要一行明细。")
        for line in lines:
            if line["quantity"] <= 0:
                raise serializers.ValidationError("出库数量必须大于 0。")
        return lines


class ShipmentShipSerializer(serializers.Serializer):
    tracking_number = serializers.CharField(required=False, allow_blank=True, default="")
