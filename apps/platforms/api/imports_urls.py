from rest_framework.routers import SimpleRouter

from .imports import ImportJobViewSet

router = SimpleRouter()
router.register("imports", ImportJobViewSet, basename="import-job")
urlpatterns = router.urls
