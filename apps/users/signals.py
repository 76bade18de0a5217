from django.apps import apps as global_apps


def grant_new_permissions_to_roles(sender, **kwargs):
    """After migrate, predefined roles gain the permissions of models added since (never loses any)."""
    from django.contrib.auth.models import Group

    from .roles import ROLE_DEFINITIONS, sync_roles

    if not Group.objects.filter(name__in=[d.name for d in ROLE_DEFINITIONS]).exists():
        return
    sync_roles(kwargs.get("apps") or global_apps, only_add=True)
