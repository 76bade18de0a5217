from drf_spectacular.utils import extend_schema
from rest_framework import status
from rest_framework.decorators import action
from rest_framework.response import Response

from apps.core.api.scoping import ShopScopedMixin
from apps.core.api.viewsets import ErpModelViewSet, ErpReadOnlyViewSet
from apps.platforms import collection, services
from apps.platforms.models import CollectionRun, Listing, Platform, Shop

from .filters import CollectionRunFilter, ListingFilter, ShopFilter
from .serializers import (
    CollectionRunSerializer,
    ConnectionTestSerializer,
    ListingMapSerializer,
    ListingSerializer,
    PlatformSerializer,
    ShopSerializer,
    ShopSyncSerializer,
)


class PlatformViewSet(ErpModelViewSet):
    queryset = Platform.objects.all()
    serializer_class = PlatformSerializer
    filterset_fields = ["is_active", "code"]
    search_fields = ["code", "name"]
    ordering_fields = ["name", "code", "created_at"]


class ShopViewSet(ShopScopedMixin, ErpModelViewSet):
    queryset = Shop.objects.select_related("platform")
    serializer_class = ShopSerializer
    shop_field = "pk"
    filterset_class = ShopFilter
    search_fields = ["name", "code", "external_id", "marketplace"]
    ordering_fields = ["name", "code", "created_at"]
    action_permissions = {
        "sync": ["platforms.add_collectionrun"],
        "test_connection": ["platforms.change_shop"],
    }

    def perform_create(self, serializer):
        serializer.instance = services.shop_save(instance=Shop(), user=self.request.user, **serializer.validated_data)

    def perform_update(self, serializer):
        serializer.instance = services.shop_save(
            instance=serializer.instance, user=self.request.user, **serializer.validated_data
        )

    @extend_schema(request=ShopSyncSerializer, responses={202: CollectionRunSerializer, 200: CollectionRunSerializer},
                   description="启动采集（kind = orders | products | inventory）。同一店铺同一类型同时只有一个任务："
                               "已有进行中的任务时返回该任务（200），否则新建并排队（202）。")
    @action(detail=True, methods=["post"])
    def sync(self, request, pk=None):
        shop = self.get_object()
        serializer = ShopSyncSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        run, created = collection.collection_run_start(shop=shop, kind=serializer.validated_data["kind"],
                                                       user=request.user)
        return Response(CollectionRunSerializer(run).data,
                        status=status.HTTP_202_ACCEPTED if created else status.HTTP_200_OK)

    @extend_schema(request=None, responses=ConnectionTestSerializer,
                   description="用店铺凭证调用平台接口一次，检查授权是否有效。")
    @action(detail=True, methods=["post"], url_path="test-connection")
    def test_connection(self, request, pk=None):
        ok, message = collection.shop_test_connection(shop=self.get_object())
        return Response({"ok": ok, "message": message})


class ListingViewSet(ShopScopedMixin, ErpModelViewSet):
    queryset = Listing.objects.select_related("shop", "product").defer("shop__credentials")
    serializer_class = ListingSerializer
    filterset_class = ListingFilter
    search_fields = ["platform_sku", "title", "product__sku"]
    ordering_fields = ["platform_sku", "price", "created_at"]
    action_permissions = {"map": ["platforms.change_listing"]}

    @extend_schema(request=ListingMapSerializer, responses=ListingSerializer,
                   description="把平台 SKU 与主商品配对；已采集的未配对订单行随之关联该商品。")
    @action(detail=True, methods=["post"])
    def map(self, request, pk=None):
        listing = self.get_object()
        serializer = ListingMapSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        listing = services.listing_map(listing=listing, product=serializer.validated_data["product"], user=request.user)
        return Response(ListingSerializer(Listing.objects.select_related("shop", "product").defer("shop__credentials").get(pk=listing.pk)).data)


class CollectionRunViewSet(ShopScopedMixin, ErpReadOnlyViewSet):
    """Collection runs: status, progress, errors and duration."""

    queryset = CollectionRun.objects.select_related("shop").defer("shop__credentials")
    serializer_class = CollectionRunSerializer
    filterset_class = CollectionRunFilter
    ordering_fields = ["created_at", "started_at", "finished_at"]
