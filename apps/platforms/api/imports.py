"""`imports/`: upload a file to import (a Celery job), follow its progress, read its errors."""
import django_filters
from django.conf import settings
from django.db.models import Q
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.exceptions import NotFound, PermissionDenied
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.response import Response

from apps.core.api.permissions import ActionPermissions
from apps.core.api.scoping import scope_to_user_shops, user_shop_ids
from apps.platforms.imports.jobs import KIND_PERMISSIONS, import_job_create
from apps.platforms.models import ImportJob, Shop

# Errors shown per job in the list; the job itself shows them all.
LIST_ERRORS = 10


class ImportJobSerializer(serializers.ModelSerializer):
    kind_display = serializers.CharField(source="get_kind_display", read_only=True)
    status_display = serializers.CharField(source="get_status_display", read_only=True)
    shop_code = serializers.CharField(source="shop.code", read_only=True, default=None)
    created_by_username = serializers.CharField(source="created_by.username", read_only=True, default=None)
    progress = serializers.SerializerMethodField(help_text="已处理行数占总行数的百分比")
    errors_total = serializers.SerializerMethodField(help_text="保存的错误条数（列表中只显示前几条）")
    errors = serializers.SerializerMethodField(help_text="[{row, field, message}]，row 为文件行号（表头为第 1 行）")

    class Meta:
        model = ImportJob
        fields = [
            "id", "kind", "kind_display", "status", "status_display", "shop", "shop_code", "original_filename",
            "dry_run", "total_rows", "processed_rows", "progress", "created_count", "updated_count",
            "unchanged_count", "rejected_count", "errors_total", "errors", "started_at", "finished_at",
            "created_by", "created_by_username", "created_at", "updated_at",
        ]
        read_only_fields = fields

    def get_progress(self, job) -> float:
        if job.status in (ImportJob.Status.SUCCEEDED, ImportJob.Status.REJECTED, ImportJob.Status.FAILED):
            return 100.0
        if not job.total_rows:
            return 0.0
        return round(min(job.processed_rows / job.total_rows, 1) * 100, 1)

    def get_errors_total(self, job) -> int:
        return len(job.errors or [])

    def get_errors(self, job) -> list[dict]:
        errors = job.errors or []
        view = self.context.get("view")
        if view is not None and getattr(view, "action", None) == "list":
            return errors[:LIST_ERRORS]
        return errors


class ImportJobCreateSerializer(serializers.Serializer):
    file = serializers.FileField(help_text="CSV、TSV/TXT（亚马逊 All Orders 报告）或 XLSX")
    kind = serializers.ChoiceField(choices=ImportJob.Kind.choices)
    shop = serializers.IntegerField(required=False, allow_null=True, help_text="店铺 id；订单文件必填")
    dry_run = serializers.BooleanField(default=False, help_text="试运行：校验并统计将新增/更新的数量，不写入")

    def validate_file(self, file):
        limit_mb = getattr(settings, "IMPORT_MAX_UPLOAD_MB", 200)
        if file.size > limit_mb * 1024 * 1024:
            raise serializers.ValidationError(f"文件不能超过 {limit_mb} MB。")
        if file.size == 0:
            raise serializers.ValidationError("文件是空的。")
        return file


class ImportJobFilter(django_filters.FilterSet):
    class Meta:
        model = ImportJob
        fields = ["kind", "status", "shop", "dry_run"]


class ImportJobViewSet(mixins.CreateModelMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin,
                       viewsets.GenericViewSet):
    """Import jobs. A user sees the jobs of their shops and those bound to no shop (products,
    stock levels, listings across shops)."""

    queryset = ImportJob.objects.select_related("shop", "created_by").defer("shop__credentials")
    serializer_class = ImportJobSerializer
    permission_classes = [ActionPermissions]
    parser_classes = [MultiPartParser, FormParser]
    filterset_class = ImportJobFilter
    search_fields = ["original_filename"]
    ordering_fields = ["created_at", "finished_at", "status"]

    def get_queryset(self):
        queryset = super().get_queryset()
        shop_ids = user_shop_ids(self.request.user)
        if shop_ids is None:
            return queryset
        return queryset.filter(Q(shop_id__in=shop_ids) | Q(shop__isnull=True))

    @extend_schema(request={"multipart/form-data": ImportJobCreateSerializer}, responses={201: ImportJobSerializer},
                   description="上传文件创建导入任务（异步执行）。订单文件须指定店铺；有任何错误行则整个文件不写入。")
    def create(self, request, *args, **kwargs):
        incoming = ImportJobCreateSerializer(data=request.data)
        incoming.is_valid(raise_exception=True)
        data = incoming.validated_data
        if not request.user.has_perms(KIND_PERMISSIONS[data["kind"]]):
            raise PermissionDenied(f"没有导入“{ImportJob.Kind(data['kind']).label}”所需的权限。")
        shop = None
        if data.get("shop") is not None:
            shops = scope_to_user_shops(Shop.objects.select_related("platform"), request.user, "pk")
            shop = shops.filter(pk=data["shop"]).first()
            if shop is None:
                raise NotFound("店铺不存在。")
        job = import_job_create(
            file=data["file"], kind=data["kind"], shop=shop, dry_run=data["dry_run"], user=request.user
        )
        job = self.get_queryset().get(pk=job.pk)
        return Response(self.get_serializer(job).data, status=status.HTTP_201_CREATED)
