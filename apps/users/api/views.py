from django.conf import settings
from drf_spectacular.utils import extend_schema
from rest_framework import generics, permissions, status
from rest_framework.response import Response
from rest_framework.views import APIView
from rest_framework_simplejwt.exceptions import TokenError
from rest_framework_simplejwt.tokens import RefreshToken
from rest_framework_simplejwt.views import TokenObtainPairView, TokenRefreshView

from apps.users import services

from .serializers import ChangePasswordSerializer, LoginSerializer, LogoutSerializer, MeSerializer, RegisterSerializer
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
