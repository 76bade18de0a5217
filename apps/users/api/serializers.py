from django.contrib.auth import password_validation
from rest_framework import serializers
from rest_framework_simplejwt.serializers import TokenObtainPairSerializer

from apps.users.models import User
from apps.users.selectors import user_permission_codes, user_role_codes


class UserShopSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    code = serializers.CharField()
    name = serializers.CharField()
    platform = serializers.CharField(source="platform.code")


class RoleBriefSerializer(serializers.Serializer):
    code = serializers.CharField()
    name = serializers.CharField()


class MeSerializer(serializers.ModelSerializer):
    roles = serializers.SerializerMethodField()
    shops = serializers.SerializerMethodField()
    sees_all_shops = serializers.BooleanField(read_only=True)
    permissions = serializers.SerializerMethodField()

    class Meta:
        model = User
        fields = [
            "id", "username", "email", "display_name", "phone", "is_superuser", "roles", "shops",
            "sees_all_shops", "permissions",
        ]
        read_only_fields = ["id", "username", "is_superuser"]

    def get_roles(self, user) -> list[dict]:
        return RoleBriefSerializer(user_role_codes(user), many=True).data

    def get_shops(self, user) -> list[dict]:
        return UserShopSerializer(user.shops.select_related("platform").order_by("id"), many=True).data

    def get_permissions(self, user) -> list[str]:
        return user_permission_codes(user)


class LoginSerializer(TokenObtainPairSerializer):
    def validate(self, attrs):
        data = super().validate(attrs)
        data["user"] = MeSerializer(self.user).data
        return data


class RegisterSerializer(serializers.ModelSerializer):
    password = serializers.CharField(write_only=True, style={"input_type": "password"})

    class Meta:
        model = User
        fields = ["id", "username", "email", "display_name", "password"]
        read_only_fields = ["id"]

    def validate(self, attrs):
        candidate = User(username=attrs.get("username"), email=attrs.get("email", ""))
        password_validation.validate_password(attrs["password"], user=candidate)
        return attrs


class ChangePasswordSerializer(serializers.Serializer):
    old_password = serializers.CharField(write_only=True)
    new_password = serializers.CharField(write_only=True)

    def validate_old_password(self, value):
        if not self.context["request"].user.check_password(value):
            raise serializers.ValidationError("原密码不正确。")
        return value

    def validate_new_password(self, value):
        password_validation.validate_password(value, user=self.context["request"].user)
        return value


class LogoutSerializer(serializers.Serializer):
    refresh = serializers.CharField()
