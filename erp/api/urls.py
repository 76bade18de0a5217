from django.urls import include, path

app_name = "api-v1"

urlpatterns = [
    path("", include("apps.users.api.urls")),
    path("", include("apps.platforms.api.urls")),
    path("", include("apps.inventory.api.urls")),
    path("", include("apps.finance.api.urls")),
    path("", include("apps.sales.api.urls")),
    path("", include("apps.platforms.api.imports_urls")),
    path("", include("erp.api.analysis_urls")),
]
