from rest_framework import viewsets

from .permissions import ActionPermissions


class ErpModelViewSet(viewsets.ModelViewSet):
    """A resource under /api/v1: JWT auth (settings), model permissions, filters, pagination."""

    permission_classes = [ActionPermissions]


class ErpReadOnlyViewSet(viewsets.ReadOnlyModelViewSet):
    permission_classes = [ActionPermissions]
