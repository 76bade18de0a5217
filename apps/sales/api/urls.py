from rest_framework.routers import SimpleRouter

from . import views

router = SimpleRouter()
router.register("orders", views.OrderViewSet, basename="order")
router.register("customers", views.CustomerViewSet, basename="customer")
router.register("salespeople", views.SalespersonViewSet, basename="salesperson")
urlpatterns = router.urls
