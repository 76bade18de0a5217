from django.contrib import admin
from django.urls import include, path
from django.views.generic import RedirectView
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

admin.site.site_header = "跨境电商 ERP 后台"
admin.site.site_title = "跨境电商 ERP"
admin.site.index_title = "后台管理"

urlpatterns = [
    path("admin/", admin.site.urls),
    path("api/", RedirectView.as_view(url="/api/docs/", permanent=False)),
    path("api/v1/", include("erp.api.urls")),
    path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
    path("api/docs/", SpectacularSwaggerView.as_view(url_name="schema"), name="swagger-ui"),
]

handler404 = "erp.api.views.handler404"
handler500 = "erp.api.views.handler500"
