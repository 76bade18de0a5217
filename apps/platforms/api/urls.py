from rest_framework.routers import SimpleRouter

from . import views

router = SimpleRouter()
router.register("platforms", views.PlatformViewSet, basename="platform")
router.register("shops", views.ShopViewSet, basename="shop")
router.register("listings", views.ListingViewSet, basename="listing")
router.register("collection-runs", views.CollectionRunViewSet, basename="collection-run")
urlpatterns = router.urls
