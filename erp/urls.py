from django.contrib import admin
from django.urls import path

admin.site.site_header = "跨境电商 ERP 后台"
admin.site.site_title = "跨境电商 ERP"
admin.site.index_title = "后台管理"

urlpatterns = [
    path("admin/", admin.site.urls),
]
