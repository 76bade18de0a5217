from django.contrib.auth import password_validation
from django.contrib.auth.models import Group
from django.core.exceptions import ValidationError as DjangoValidationError
from rest_framework import serializers
from rest_framework_simplejwt.serializers import TokenObtainPairSerializer

from apps.platforms.models import Shop
from apps.users.models import Role, User
from apps.users.selectors import user_permission_codes, user_role_codes


def _check_password(password: str, user: User) -> None:
    """Runs the configured password validators; their messages belong to the `password` field."""
    try:
        password_validation.validate_password(password, user=user)
    except DjangoValidationError as exc:
        raise serializers.ValidationError({"password": exc.messages}) from exc


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
        _check_password(attrs["password"], candidate)
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


class UserAdminSerializer(serializers.ModelSerializer):
    """Users as administrators manage them: roles (group ids) and shops (the data scope)."""

    password = serializers.CharField(write_only=True, required=False, style={"input_type": "password"})
    roles = serializers.PrimaryKeyRelatedField(source="groups", many=True, required=False,
                                               queryset=Group.objects.all())
    shops = serializers.PrimaryKeyRelatedField(many=True, required=False, queryset=Shop.objects.all())

    class Meta:
        model = User
        fields = [
            "id", "username", "email", "display_name", "phone", "is_active", "is_staff", "roles", "shops",
            "password", "last_login", "date_joined",
        ]
        read_only_fields = ["last_login", "date_joined"]

    def validate(self, attrs):
        password = attrs.get("password")
        if self.instance is None and not password:
            raise serializers.ValidationError({"password": ["新建用户必须设置密码。"]})
        if password:
            candidate = self.instance or User(username=attrs.get("username", ""), email=attrs.get("email", ""))
            _check_password(password, candidate)
        return attrs


class RoleSerializer(serializers.ModelSerializer):
    """A role is a Django group; `permissions` are `app_label.codename` strings."""

    name = serializers.CharField(source="group.name", max_length=150)
    permissions = serializers.ListField(child=serializers.CharField(), required=False)

    class Meta:
        model = Role
        fields = ["group", "code", "name", "description", "spans_all_shops", "is_system", "permissions"]
        read_only_fields = ["group", "is_system"]

    def to_representation(self, role):
        data = super().to_representation(role)
        data["permissions"] = sorted(
            f"{p.content_type.app_label}.{p.codename}" for p in role.group.permissions.all()
        )
        return data

    def validate_permissions(self, codes):
        unknown = [code for code in codes if "." not in code]
        if unknown:
            raise serializers.ValidationError(f"权限格式应为 app_label.codename：{', '.join(unknown)}")
        return codes
