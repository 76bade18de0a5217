from django.conf import settings
from drf_spectacular.utils import extend_schema
from rest_framework import generics, permissions, status
from rest_framework.response import Response
from rest_framework.views import APIView
from rest_framework_simplejwt.exceptions import TokenError
from rest_framework_simplejwt.tokens import RefreshToken
from rest_framework_simplejwt.views import TokenObtainPairView, TokenRefreshView

from apps.core.api.viewsets import ErpModelViewSet
from apps.users import services
from apps.users.models import Role, User

from .serializers import (
    ChangePasswordSerializer,
    LoginSerializer,
    LogoutSerializer,
    MeSerializer,
    RegisterSerializer,
    RoleSerializer,
    UserAdminSerializer,
)
from .throttles import LoginIpThrottle, LoginUsernameThrottle


class LoginView(TokenObtainPairView):
    """Username and password → access and refresh tokens, and the user."""

    serializer_class = LoginSerializer
    throttle_classes = [LoginIpThrottle, LoginUsernameThrottle]


class RefreshView(TokenRefreshView):
    """A refresh token → a new access token and a new refresh token (the old one is blacklisted)."""


class LogoutView(APIView):
    """Blacklists the given refresh token."""

    @extend_schema(request=LogoutSerializer, responses={204: None})
    def post(self, request):
        serializer = LogoutSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        try:
            token = RefreshToken(serializer.validated_data["refresh"])
        except TokenError as exc:
            return Response({"refresh": [str(exc)]}, status=status.HTTP_400_BAD_REQUEST)
        if str(token.get(settings.SIMPLE_JWT["USER_ID_CLAIM"])) != str(request.user.pk):
            return Response({"refresh": ["该令牌不属于当前用户。"]}, status=status.HTTP_400_BAD_REQUEST)
        token.blacklist()
        return Response(status=status.HTTP_204_NO_CONTENT)


class RegisterView(generics.CreateAPIView):
    """Self-service sign-up (when enabled); the new user has no role and no shops."""

    serializer_class = RegisterSerializer
    permission_classes = [permissions.AllowAny]
    authentication_classes = []

    def create(self, request, *args, **kwargs):
        if not settings.REGISTRATION_OPEN:
            return Response({"detail": "注册已关闭，请联系管理员开通账号。"}, status=status.HTTP_403_FORBIDDEN)
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        user = services.user_register(
            username=serializer.validated_data["username"],
            email=serializer.validated_data.get("email", ""),
            password=serializer.validated_data["password"],
            display_name=serializer.validated_data.get("display_name", ""),
        )
        return Response(MeSerializer(user).data, status=status.HTTP_201_CREATED)


class MeView(generics.RetrieveUpdateAPIView):
    """The signed-in user, their roles, shops and permissions."""

    serializer_class = MeSerializer
    http_method_names = ["get", "patch", "options"]

    def get_object(self):
        return self.request.user


class ChangePasswordView(APIView):
    @extend_schema(request=ChangePasswordSerializer, responses={204: None})
    def post(self, request):
        serializer = ChangePasswordSerializer(data=request.data, context={"request": request})
        serializer.is_valid(raise_exception=True)
        services.user_change_password(user=request.user, new_password=serializer.validated_data["new_password"])
        return Response(status=status.HTTP_204_NO_CONTENT)


class UserViewSet(ErpModelViewSet):
    """Administrators manage users, their roles and their shops."""

    queryset = User.objects.prefetch_related("groups", "shops").order_by("username")
    serializer_class = UserAdminSerializer
    filterset_fields = ["is_active", "is_staff", "groups"]
    search_fields = ["username", "email", "display_name"]
    ordering_fields = ["username", "date_joined", "last_login"]

    def perform_create(self, serializer):
        serializer.instance = services.user_save(instance=User(), actor=self.request.user, **serializer.validated_data)

    def perform_update(self, serializer):
        serializer.instance = services.user_save(
            instance=serializer.instance, actor=self.request.user, **serializer.validated_data
        )

    def perform_destroy(self, instance):
        services.user_delete(user=instance, actor=self.request.user)


class RoleViewSet(ErpModelViewSet):
    """Roles (groups with model permissions); `permissions` are `app_label.codename` strings."""

    queryset = Role.objects.select_related("group").prefetch_related("group__permissions__content_type")
    serializer_class = RoleSerializer
    search_fields = ["code", "group__name"]
    ordering_fields = ["code"]
    lookup_field = "pk"

    def _save(self, serializer, instance):
        data = serializer.validated_data
        serializer.instance = services.role_save(
            instance=instance, name=data.get("group", {}).get("name", instance.group.name if instance else ""),
            code=data.get("code", instance.code if instance else ""),
            description=data.get("description", instance.description if instance else ""),
            spans_all_shops=data.get("spans_all_shops", instance.spans_all_shops if instance else False),
            permissions=data.get("permissions"), actor=self.request.user,
        )

    def perform_create(self, serializer):
        self._save(serializer, None)

    def perform_update(self, serializer):
        self._save(serializer, serializer.instance)

    def perform_destroy(self, instance):
        services.role_delete(role=instance, actor=self.request.user)
