import factory
from django.contrib.auth.models import Group

from apps.users.models import AuditLog, User


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        django_get_or_create = ("username",)
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    email = factory.LazyAttribute(lambda o: f"{o.username}@example.com")
    password = factory.django.Password("Secret-pass-123")

    @factory.post_generation
    def roles(self, create, extracted, **kwargs):
        """`UserFactory(roles=["运营"])` puts the user in those predefined role groups."""
        if create and extracted:
            self.groups.add(*Group.objects.filter(name__in=extracted))


class AdminUserFactory(UserFactory):
    username = "admin-test"
    is_staff = True
    is_superuser = True


class AuditLogFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = AuditLog

    user = factory.SubFactory(UserFactory)
    action = "order.update"
    object_type = "sales.order"
    object_id = "1"
