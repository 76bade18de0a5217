from rest_framework.permissions import DjangoModelPermissions


class ModelPermissions(DjangoModelPermissions):
    """Django model permissions through roles; reading needs `view_<model>` too."""

    perms_map = {
        **DjangoModelPermissions.perms_map,
        "GET": ["%(app_label)s.view_%(model_name)s"],
        "HEAD": ["%(app_label)s.view_%(model_name)s"],
        "OPTIONS": ["%(app_label)s.view_%(model_name)s"],
    }


class ActionPermissions(ModelPermissions):
    """Adds per-action permissions: a viewset declares `action_permissions = {"approve": ["app.perm"]}`."""

    def has_permission(self, request, view):
        if request.user and request.user.is_authenticated and getattr(view, request.method.lower(), None) is None:
            return True  # the view answers 405 for a method it does not offer
        if not super().has_permission(request, view):
            return False
        required = getattr(view, "action_permissions", {}).get(getattr(view, "action", None), [])
        return request.user.has_perms(required)
