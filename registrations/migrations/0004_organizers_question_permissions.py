"""Organizers edit the questions of their talks' registration forms and read the answers."""

from django.apps import apps as global_apps
from django.db import migrations

GROUP_NAME = "Organizers"

PERMISSIONS = {
    "events": {"question": ["view", "add", "change", "delete"]},
    "registrations": {"answer": ["view"]},
}


def _permissions(apps, schema_editor):
    from django.contrib.auth.management import create_permissions

    for label in PERMISSIONS:
        create_permissions(
            global_apps.get_app_config(label), verbosity=0, using=schema_editor.connection.alias, apps=apps
        )
    Permission = apps.get_model("auth", "Permission")
    return [
        Permission.objects.using(schema_editor.connection.alias).get(
            content_type__app_label=label, content_type__model=model, codename=f"{verb}_{model}"
        )
        for label, models in PERMISSIONS.items()
        for model, verbs in models.items()
        for verb in verbs
    ]


def grant(apps, schema_editor):
    Group = apps.get_model("auth", "Group")
    group, _ = Group.objects.using(schema_editor.connection.alias).get_or_create(name=GROUP_NAME)
    group.permissions.add(*_permissions(apps, schema_editor))


def revoke(apps, schema_editor):
    Group = apps.get_model("auth", "Group")
    group = Group.objects.using(schema_editor.connection.alias).filter(name=GROUP_NAME).first()
    if group is not None:
        group.permissions.remove(*_permissions(apps, schema_editor))


class Migration(migrations.Migration):
    dependencies = [
        ("events", "0004_question"),
        ("registrations", "0003_answer"),
    ]

    operations = [migrations.RunPython(grant, revoke)]
