from rest_framework.routers import SimpleRouter

from . import views

router = SimpleRouter()
router.register("products", views.ProductViewSet, basename="product")
router.register("warehouses", views.WarehouseViewSet, basename="warehouse")
router.register("suppliers", views.SupplierViewSet, basename="supplier")
router.register("stock", views.StockViewSet, basename="stock")
router.register("stock-movements", views.StockMovementViewSet, basename="stock-movement")
router.register("stock-adjustments", views.StockAdjustmentViewSet, basename="stock-adjustment")
router.register("stock-transfers", views.StockTransferViewSet, basename="stock-transfer")
router.register("purchase-orders", views.PurchaseOrderViewSet, basename="purchase-order")
router.register("shipments", views.ShipmentViewSet, basename="shipment")
urlpatterns = router.urls
