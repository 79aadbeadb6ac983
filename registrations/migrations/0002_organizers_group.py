"""The "Organizers" group: everything needed to run talks and their registrations, nothing about user accounts."""

from django.apps import apps as global_apps
from django.db import migrations

GROUP_NAME = "Organizers"

PERMISSIONS = {
    "events": {
        "series": ["view", "add", "change", "delete"],
        "speaker": ["view", "add", "change", "delete"],
        "venue": ["view", "add", "change", "delete"],
        "event": ["view", "add", "change", "delete"],
    },
    "registrations": {
        "registration": ["view", "add", "change"],
        "registrationlog": ["view"],
        "outgoingmail": ["view", "change"],
    },
}


def create_organizers_group(apps, schema_editor):
    from django.contrib.auth.management import create_permissions

    # Permissions are normally created after migrate (post_migrate), which
    # has not happened yet on a fresh database.
    for label in PERMISSIONS:
        create_permissions(
            global_apps.get_app_config(label), verbosity=0, using=schema_editor.connection.alias, apps=apps
        )
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    group, _ = Group.objects.using(schema_editor.connection.alias).get_or_create(name=GROUP_NAME)
    wanted = [
        Permission.objects.using(schema_editor.connection.alias).get(
            content_type__app_label=label, content_type__model=model, codename=f"{verb}_{model}"
        )
        for label, models in PERMISSIONS.items()
        for model, verbs in models.items()
        for verb in verbs
    ]
    group.permissions.set(wanted)


def remove_organizers_group(apps, schema_editor):
    apps.get_model("auth", "Group").objects.using(schema_editor.connection.alias).filter(name=GROUP_NAME).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
        ("events", "0001_initial"),
        ("registrations", "0001_initial"),
    ]

    operations = [migrations.RunPython(create_organizers_group, remove_organizers_group)]
