from rest_framework import mixins, status, viewsets
from rest_framework.response import Response

from apps.core.api.permissions import ActionPermissions
from apps.core.api.viewsets import ErpModelViewSet, ErpReadOnlyViewSet
from apps.inventory import services
from apps.inventory.models import InventoryItem, Product, StockAdjustment, StockMovement, StockTransfer, Supplier, Warehouse

from .filters import ProductFilter, StockItemFilter, StockMovementFilter
from .serializers import (
    ProductSerializer,
    StockAdjustmentSerializer,
    StockItemSerializer,
    StockMovementSerializer,
    StockTransferSerializer,
    SupplierSerializer,
    WarehouseSerializer,
)


class ProductViewSet(ErpModelViewSet):
    queryset = Product.objects.select_related("category")
    serializer_class = ProductSerializer
    filterset_class = ProductFilter
    search_fields = ["sku", "name", "name_en", "barcode"]
    ordering_fields = ["sku", "name", "cost_price", "created_at"]


class WarehouseViewSet(ErpModelViewSet):
    queryset = Warehouse.objects.all()
    serializer_class = WarehouseSerializer
    filterset_fields = ["kind", "country", "is_active"]
    search_fields = ["code", "name"]
    ordering_fields = ["code", "name"]


class SupplierViewSet(ErpModelViewSet):
    queryset = Supplier.objects.all()
    serializer_class = SupplierSerializer
    filterset_fields = ["country", "currency", "is_active"]
    search_fields = ["code", "name", "contact_name", "email"]
    ordering_fields = ["code", "name", "lead_time_days"]


class StockViewSet(ErpReadOnlyViewSet):
    """Stock per product and warehouse; changed only through adjustments, transfers, receipts, shipments."""

    queryset = InventoryItem.objects.select_related("product", "warehouse")
    serializer_class = StockItemSerializer
    filterset_class = StockItemFilter
    search_fields = ["product__sku", "product__name"]
    ordering_fields = ["on_hand", "available", "reserved", "updated_at"]


class StockMovementViewSet(ErpReadOnlyViewSet):
    """The read-only stock ledger."""

    queryset = StockMovement.objects.select_related("product", "warehouse")
    serializer_class = StockMovementSerializer
    filterset_class = StockMovementFilter
    search_fields = ["product__sku", "reference", "note"]
    ordering_fields = ["occurred_at", "quantity"]


class _CreateThroughServiceViewSet(mixins.CreateModelMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin,
                                   viewsets.GenericViewSet):
    """Documents that are created by a service (`perform(data, user)` in subclasses) and never edited."""

    permission_classes = [ActionPermissions]

    def create(self, request, *args, **kwargs):
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        instance = self.perform(serializer.validated_data, request.user)
        return Response(self.get_serializer(instance).data, status=status.HTTP_201_CREATED)


class StockAdjustmentViewSet(_CreateThroughServiceViewSet):
    queryset = StockAdjustment.objects.all()
    serializer_class = StockAdjustmentSerializer
    filterset_fields = ["warehouse", "product", "reason"]
    ordering_fields = ["created_at"]

    def perform(self, data, user):
        return services.stock_adjustment_create(**data, user=user)


class StockTransferViewSet(_CreateThroughServiceViewSet):
    queryset = StockTransfer.objects.all()
    serializer_class = StockTransferSerializer
    filterset_fields = ["from_warehouse", "to_warehouse", "product"]
    ordering_fields = ["created_at"]

    def perform(self, data, user):
        return services.stock_transfer_create(**data, user=user)
