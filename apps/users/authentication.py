"""JWT authentication that reads the user's permissions and shop reach with the user (apps.users.access)."""
from drf_spectacular.contrib.rest_framework_simplejwt import SimpleJWTScheme
from rest_framework_simplejwt import authentication

from .access import user_access_load


class JWTAuthentication(authentication.JWTAuthentication):
    def get_user(self, validated_token):
        user = super().get_user(validated_token)
        user_access_load(user)
        return user


class JWTScheme(SimpleJWTScheme):
    """The OpenAPI description of this authentication: simplejwt's bearer scheme."""

    target_class = "apps.users.authentication.JWTAuthentication"
