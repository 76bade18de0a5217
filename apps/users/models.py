from django.contrib.auth.models import AbstractUser, Group
from django.db import models


class User(AbstractUser):
    """An ERP user. Roles are Django groups (through `user_roles`); `shops` is the data scope."""

    display_name = models.CharField("显示名称", max_length=100, blank=True)
    phone = models.CharField("电话", max_length=40, blank=True)
    groups = models.ManyToManyField(
        Group,
        through="UserRole",
        verbose_name="角色",
        blank=True,
        related_name="user_set",
        related_query_name="user",
        help_text="用户拥有所属角色的全部权限。",
    )
    shops = models.ManyToManyField(
        "platforms.Shop", verbose_name="可见店铺", blank=True, related_name="users", db_table="user_shops"
    )

    class Meta:
        db_table = "users"
        verbose_name = "用户"
        verbose_name_plural = "用户"
        ordering = ["username"]

    def __str__(self):
        return self.display_name or self.username

    @property
    def sees_all_shops(self) -> bool:
        """Superusers and users holding a role that spans all shops are not limited to `shops`."""
        if self.is_superuser:
            return True
        if "_sees_all_shops" in self.__dict__:  # read with the permissions (apps.users.access)
            return self._sees_all_shops
        return Role.objects.filter(group__user=self, spans_all_shops=True).exists()


class Role(models.Model):
    """Describes a Django group used as a role (管理员, 运营, 仓库, 财务, 只读)."""

    group = models.OneToOneField(Group, verbose_name="权限组", on_delete=models.CASCADE, primary_key=True, related_name="role")
    code = models.SlugField("代码", max_length=32, unique=True)
    description = models.CharField("说明", max_length=255, blank=True)
    spans_all_shops = models.BooleanField("可见全部店铺", default=False)
    is_system = models.BooleanField("系统内置", default=False)

    class Meta:
        db_table = "roles"
        verbose_name = "角色"
        verbose_name_plural = "角色"
        ordering = ["code"]

    def __str__(self):
        return self.group.name


class UserRole(models.Model):
    user = models.ForeignKey(User, verbose_name="用户", on_delete=models.CASCADE)
    group = models.ForeignKey(Group, verbose_name="角色", on_delete=models.CASCADE)
    assigned_at = models.DateTimeField("授予时间", auto_now_add=True)

    class Meta:
        db_table = "user_roles"
        verbose_name = "用户角色"
        verbose_name_plural = "用户角色"
        constraints = [models.UniqueConstraint(fields=["user", "group"], name="user_role_unique")]

    def __str__(self):
        return f"{self.user} → {self.group}"


class AuditLog(models.Model):
    """Who did what to which object, written in the same transaction as the action."""

    user = models.ForeignKey(User, verbose_name="用户", on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    action = models.CharField("操作", max_length=64)
    object_type = models.CharField("对象类型", max_length=64, blank=True)
    object_id = models.CharField("对象ID", max_length=64, blank=True)
    object_repr = models.CharField("对象", max_length=200, blank=True)
    changes = models.JSONField("变更内容", default=dict, blank=True)
    request_id = models.CharField("请求ID", max_length=64, blank=True)
    ip_address = models.GenericIPAddressField("IP 地址", null=True, blank=True)
    created_at = models.DateTimeField("时间", auto_now_add=True, db_index=True)

    class Meta:
        db_table = "audit_log"
        verbose_name = "审计日志"
        verbose_name_plural = "审计日志"
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["object_type", "object_id"], name="audit_object_idx")]

    def __str__(self):
        return f"{self.created_at:%Y-%m-%d %H:%M} {self.user} {self.action}"
