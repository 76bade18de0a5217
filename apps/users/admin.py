from django import forms
from django.contrib import admin
from django.contrib.admin.widgets import FilteredSelectMultiple
from django.contrib.auth.admin import GroupAdmin as DjangoGroupAdmin
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.contrib.auth.forms import AdminUserCreationForm, UserChangeForm
from django.contrib.auth.models import Group, Permission
from django.db.models import Count

from apps.core.admin import ReadOnlyAdminMixin

from .models import AuditLog, Role, User, UserRole


def _roles_field() -> forms.ModelMultipleChoiceField:
    # `groups` goes through UserRole, which the admin cannot edit directly; this field sets it.
    return forms.ModelMultipleChoiceField(
        queryset=Group.objects.order_by("name"),
        required=False,
        label="角色",
        widget=FilteredSelectMultiple("角色", is_stacked=False),
        help_text="用户拥有所属角色的全部权限。",
    )


class UserRolesFormMixin:
    def _init_roles(self):
        if self.instance.pk:
            self.fields["roles"].initial = list(self.instance.groups.all())

    def _save_m2m(self):
        super()._save_m2m()
        if "roles" in self.cleaned_data:
            self.instance.groups.set(self.cleaned_data["roles"])


class UserAdminChangeForm(UserRolesFormMixin, UserChangeForm):
    roles = _roles_field()

    class Meta(UserChangeForm.Meta):
        model = User
        exclude = ("groups",)
        fields = None

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._init_roles()


class UserAdminCreationForm(UserRolesFormMixin, AdminUserCreationForm):
    roles = _roles_field()

    class Meta(AdminUserCreationForm.Meta):
        model = User
        fields = ("username", "display_name", "email")


@admin.register(User)
class UserAdmin(DjangoUserAdmin):
    form = UserAdminChangeForm
    add_form = UserAdminCreationForm
    fieldsets = (
        (None, {"fields": ("username", "password")}),
        ("个人信息", {"fields": ("display_name", "first_name", "last_name", "email", "phone")}),
        ("角色与店铺", {"fields": ("roles", "shops")}),
        ("权限", {"fields": ("is_active", "is_staff", "is_superuser", "user_permissions")}),
        ("重要日期", {"fields": ("last_login", "date_joined")}),
    )
    add_fieldsets = (
        (None, {
            "classes": ("wide",),
            "fields": ("username", "display_name", "email", "usable_password", "password1", "password2"),
        }),
        ("角色与店铺", {"fields": ("roles", "shops")}),
    )
    filter_horizontal = ("shops", "user_permissions")
    list_display = ("username", "display_name", "email", "phone", "role_names", "is_staff", "is_active", "last_login")
    list_filter = ("is_staff", "is_superuser", "is_active", "groups")
    search_fields = ("username", "display_name", "email", "phone", "first_name", "last_name")

    def get_queryset(self, request):
        return super().get_queryset(request).prefetch_related("groups")

    @admin.display(description="角色")
    def role_names(self, obj):
        return "、".join(sorted(group.name for group in obj.groups.all())) or "—"


class RoleForm(forms.ModelForm):
    """A role is a Django group plus its description; name and permissions live on the group."""

    name = forms.CharField(label="角色名称", max_length=150)
    permissions = forms.ModelMultipleChoiceField(
        queryset=Permission.objects.select_related("content_type"),
        required=False,
        label="权限",
        widget=FilteredSelectMultiple("权限", is_stacked=False),
    )

    class Meta:
        model = Role
        fields = ("code", "description", "spans_all_shops")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.instance.group_id:
            self.fields["name"].initial = self.instance.group.name
            self.fields["permissions"].initial = list(self.instance.group.permissions.all())

    def clean_name(self):
        name = self.cleaned_data["name"].strip()
        clash = Group.objects.filter(name=name)
        if self.instance.group_id:
            clash = clash.exclude(pk=self.instance.group_id)
        if clash.exists():
            raise forms.ValidationError("已存在同名的角色（权限组）。")
        return name

    def save(self, commit=True):
        role = super().save(commit=False)
        group = role.group if role.group_id else Group()
        group.name = self.cleaned_data["name"]
        group.save()
        role.group = group
        if commit:
            role.save()
            self._save_m2m()
        return role

    def _save_m2m(self):
        super()._save_m2m()
        self.instance.group.permissions.set(self.cleaned_data["permissions"])


@admin.register(Role)
class RoleAdmin(admin.ModelAdmin):
    form = RoleForm
    fieldsets = (
        (None, {"fields": ("name", "code", "description", "spans_all_shops", "is_system")}),
        ("权限", {"fields": ("permissions",)}),
    )
    readonly_fields = ("is_system",)
    list_display = ("role_name", "code", "description", "spans_all_shops", "is_system", "permission_count")
    list_select_related = ("group",)
    list_filter = ("spans_all_shops", "is_system")
    search_fields = ("group__name", "code", "description")

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(permission_total=Count("group__permissions"))

    @admin.display(description="角色名称", ordering="group__name")
    def role_name(self, obj):
        return obj.group.name

    @admin.display(description="权限数", ordering="permission_total")
    def permission_count(self, obj):
        return obj.permission_total

    def has_delete_permission(self, request, obj=None):
        # Predefined roles are referenced by code and re-synced after migrations.
        if obj is not None and obj.is_system:
            return False
        return super().has_delete_permission(request, obj)


class RoleInline(admin.StackedInline):
    model = Role
    can_delete = False
    fields = ("code", "description", "spans_all_shops", "is_system")
    readonly_fields = ("is_system",)
    verbose_name = verbose_name_plural = "角色说明"


admin.site.unregister(Group)


@admin.register(Group)
class GroupAdmin(DjangoGroupAdmin):
    inlines = (RoleInline,)
    list_display = ("name", "role_code", "role_spans_all_shops")
    list_select_related = ("role",)

    @admin.display(description="角色代码")
    def role_code(self, obj):
        role = getattr(obj, "role", None)
        return role.code if role else "—"

    @admin.display(description="可见全部店铺", boolean=True)
    def role_spans_all_shops(self, obj):
        role = getattr(obj, "role", None)
        return role.spans_all_shops if role else None


@admin.register(UserRole)
class UserRoleAdmin(admin.ModelAdmin):
    list_display = ("user", "group", "assigned_at")
    list_select_related = ("user", "group")
    list_filter = ("group",)
    search_fields = ("user__username", "user__display_name", "group__name")
    autocomplete_fields = ("user",)


@admin.register(AuditLog)
class AuditLogAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ("created_at", "user", "action", "object_type", "object_id", "object_repr", "ip_address")
    list_select_related = ("user",)
    list_filter = ("object_type",)
    search_fields = ("action", "object_type", "object_id", "object_repr", "user__username", "request_id")
    date_hierarchy = "created_at"
    show_full_result_count = False
