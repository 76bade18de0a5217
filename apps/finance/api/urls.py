from rest_framework.routers import SimpleRouter

from . import views

router = SimpleRouter()
router.register("currencies", views.CurrencyViewSet, basename="currency")
router.register("exchange-rates", views.ExchangeRateViewSet, basename="exchange-rate")
router.register("financial-records", views.FinancialRecordViewSet, basename="financial-record")
router.register("expenses", views.ExpenseViewSet, basename="expense")
router.register("revenues", views.RevenueViewSet, basename="revenue")
urlpatterns = router.urls
