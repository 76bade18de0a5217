from django.db.models import Prefetch
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from apps.core.exceptions import InvalidStateTransition

from apps.core.api.permissions import ActionPermissions
from apps.core.api.viewsets import ErpModelViewSet, ErpReadOnlyViewSet
from apps.inventory import services
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

from .filters import ProductFilter, PurchaseOrderFilter, ShipmentFilter, StockItemFilter, StockMovementFilter
from .serializers import (
    ProductSerializer,
    PurchaseOrderReceiveSerializer,
    PurchaseOrderSerializer,
    ShipmentSerializer,
    ShipmentShipSerializer,
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


class PurchaseOrderViewSet(ErpModelViewSet):
    """Purchase orders: draft → approve → receive (partial receipts) or cancel."""

    queryset = PurchaseOrder.objects.select_related("supplier").prefetch_related(
        Prefetch("lines", queryset=PurchaseOrderLine.objects.select_related("product"))
    )
    serializer_class = PurchaseOrderSerializer
    filterset_class = PurchaseOrderFilter
    search_fields = ["number", "supplier__name", "note"]
    ordering_fields = ["order_date", "expected_date", "number", "created_at"]
    action_permissions = {
        "approve": ["inventory.change_purchaseorder"],
        "receive": ["inventory.change_purchaseorder"],
        "cancel": ["inventory.change_purchaseorder"],
    }

    def perform_destroy(self, instance):
        if instance.status != PurchaseOrder.Status.DRAFT:
            raise InvalidStateTransition(f"采购单 {instance.number} 已{instance.get_status_display()}，只能删除草稿。")
        instance.delete()

    def _respond(self, po):
        return Response(self.get_serializer(self.get_queryset().get(pk=po.pk)).data)

    @extend_schema(request=None, responses=PurchaseOrderSerializer, description="审批草稿采购单。")
    @action(detail=True, methods=["post"])
    def approve(self, request, pk=None):
        return self._respond(services.purchase_order_approve(purchase_order=self.get_object(), user=request.user))

    @extend_schema(request=PurchaseOrderReceiveSerializer, responses=PurchaseOrderSerializer,
                   description="部分或全部收货；库存通过采购入库流水增加；超出采购数量会被拒绝。")
    @action(detail=True, methods=["post"])
    def receive(self, request, pk=None):
        po = self.get_object()
        serializer = PurchaseOrderReceiveSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        lines = [services.ReceiptLine(line_id=row["line"], quantity=row["quantity"])
                 for row in serializer.validated_data["lines"]]
        return self._respond(services.purchase_order_receive(purchase_order=po, lines=lines, user=request.user))

    @extend_schema(request=None, responses=PurchaseOrderSerializer, description="取消尚未收货的采购单。")
    @action(detail=True, methods=["post"])
    def cancel(self, request, pk=None):
        return self._respond(services.purchase_order_cancel(purchase_order=self.get_object(), user=request.user))


class ShipmentViewSet(mixins.CreateModelMixin, ErpReadOnlyViewSet):
    """Outbound: creating reserves stock, `ship/` consumes it, `cancel/` releases it."""

    queryset = Shipment.objects.prefetch_related(
        Prefetch("lines", queryset=ShipmentLine.objects.select_related("product"))
    )
    serializer_class = ShipmentSerializer
    filterset_class = ShipmentFilter
    search_fields = ["number", "tracking_number", "carrier"]
    ordering_fields = ["created_at", "shipped_at", "number"]
    action_permissions = {"ship": ["inventory.change_shipment"], "cancel": ["inventory.change_shipment"]}

    def create(self, request, *args, **kwargs):
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        shipment = services.shipment_create(
            number=data["number"], warehouse=data["warehouse"], order=data.get("order"),
            carrier=data.get("carrier", ""),
            lines=[services.ShipmentLineInput(product=row["product"], quantity=row["quantity"]) for row in data["lines"]],
            user=request.user,
        )
        return Response(self.get_serializer(self.get_queryset().get(pk=shipment.pk)).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=ShipmentShipSerializer, responses=ShipmentSerializer,
                   description="发货：消耗预留库存并写入销售出库流水；库存不足时拒绝。")
    @action(detail=True, methods=["post"])
    def ship(self, request, pk=None):
        shipment = self.get_object()
        serializer = ShipmentShipSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        shipment = services.shipment_ship(
            shipment=shipment, tracking_number=serializer.validated_data["tracking_number"], user=request.user
        )
        return Response(self.get_serializer(self.get_queryset().get(pk=shipment.pk)).data)

    @extend_schema(request=None, responses=ShipmentSerializer, description="取消未发货的出库单并释放预留库存。")
    @action(detail=True, methods=["post"])
    def cancel(self, request, pk=None):
        shipment = services.shipment_cancel(shipment=self.get_object(), user=request.user)
        return Response(self.get_serializer(self.get_queryset().get(pk=shipment.pk)).data)
