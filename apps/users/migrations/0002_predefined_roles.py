from django.db import migrations


def create_roles(apps, schema_editor):
    from apps.users.roles import sync_roles

    sync_roles(apps)


def delete_roles(apps, schema_editor):
    from apps.users.roles import ROLE_DEFINITIONS

    Group = apps.get_model("auth", "Group")
    Group.objects.filter(name__in=[d.name for d in ROLE_DEFINITIONS]).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("users", "0001_initial"),
        ("contenttypes", "0002_remove_content_type_name"),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("finance", "0002_initial"),
        ("inventory", "0002_initial"),
        ("platforms", "0002_initial"),
        ("sales", "0002_initial"),
    ]

    operations = [migrations.RunPython(create_roles, delete_roles)]
