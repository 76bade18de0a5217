from django.apps import AppConfig
from django.db.models.signals import post_migrate


class UsersConfig(AppConfig):
    name = "apps.users"
    label = "users"
    verbose_name = "用户与权限"

    def ready(self):
        from .signals import grant_new_permissions_to_roles

        post_migrate.connect(grant_new_permissions_to_roles, sender=self)
