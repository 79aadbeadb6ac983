"""Organizers add their talks' materials and announce them."""

from django.apps import apps as global_apps
from django.db import migrations


def grant(apps, schema_editor):
    from django.contrib.auth.management import create_permissions

    db = schema_editor.connection.alias
    create_permissions(global_apps.get_app_config("materials"), verbosity=0, using=db, apps=apps)
    Permission = apps.get_model("auth", "Permission")
    Group = apps.get_model("auth", "Group")
    group, _ = Group.objects.using(db).get_or_create(name="Organizers")
    group.permissions.add(
        *Permission.objects.using(db).filter(
            content_type__app_label="materials",
            codename__in=[
                f"{action}_{model}"
                for action in ("view", "add", "change", "delete")
                for model in ("material", "announcement")
            ],
        )
    )


def revoke(apps, schema_editor):
    db = schema_editor.connection.alias
    Group = apps.get_model("auth", "Group")
    group = Group.objects.using(db).filter(name="Organizers").first()
    if group is not None:
        group.permissions.remove(*group.permissions.filter(content_type__app_label="materials"))


class Migration(migrations.Migration):
    dependencies = [
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
        ("materials", "0001_initial"),
        ("registrations", "0002_organizers_group"),
    ]

    operations = [migrations.RunPython(grant, revoke)]
