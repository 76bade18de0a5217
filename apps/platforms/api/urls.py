from rest_framework.routers import DefaultRouter

from . import views

router = DefaultRouter()
router.register("platforms", views.PlatformViewSet, basename="platform")
router.register("shops", views.ShopViewSet, basename="shop")
router.register("listings", views.ListingViewSet, basename="listing")
urlpatterns = router.urls
