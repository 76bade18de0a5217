from drf_spectacular.utils import extend_schema
from rest_framework.decorators import action
from rest_framework.response import Response

from apps.core.api.scoping import ShopScopedMixin
from apps.core.api.viewsets import ErpModelViewSet
from apps.platforms import services
from apps.platforms.models import Listing, Platform, Shop

from .filters import ListingFilter, ShopFilter
from .serializers import ListingMapSerializer, ListingSerializer, PlatformSerializer, ShopSerializer


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


class ListingViewSet(ShopScopedMixin, ErpModelViewSet):
    queryset = Listing.objects.select_related("shop", "product")
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
        return Response(ListingSerializer(Listing.objects.select_related("shop", "product").get(pk=listing.pk)).data)
