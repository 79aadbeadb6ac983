"""The "Door staff" role: checking people in at the door of their series' talks, nothing else.

Organizers may check people in too. Which series a person works for is set
per series (events.SeriesMember); these groups only carry the permissions.
"""

from django.apps import apps as global_apps
from django.db import migrations

CHECK_IN = "check_in_registration"


def add_door_staff_group(apps, schema_editor):
    from django.contrib.auth.management import create_permissions

    db = schema_editor.connection.alias
    # The new permission is normally created after migrate (post_migrate).
    create_permissions(global_apps.get_app_config("registrations"), verbosity=0, using=db, apps=apps)
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    check_in = Permission.objects.using(db).get(content_type__app_label="registrations", codename=CHECK_IN)
    door, _ = Group.objects.using(db).get_or_create(name="Door staff")
    door.permissions.set([check_in])
    organizers, _ = Group.objects.using(db).get_or_create(name="Organizers")
    organizers.permissions.add(check_in)


def remove_door_staff_group(apps, schema_editor):
    db = schema_editor.connection.alias
    apps.get_model("auth", "Group").objects.using(db).filter(name="Door staff").delete()


class Migration(migrations.Migration):
    dependencies = [
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
        ("events", "0006_series_team"),
        ("registrations", "0007_registration_attendance"),
    ]

    operations = [
        migrations.AlterModelOptions(
            name="registration",
            options={
                "ordering": ["event", "created_at", "pk"],
                "permissions": [("check_in_registration", "Can check people in at the door")],
                "verbose_name": "registration",
                "verbose_name_plural": "registrations",
            },
        ),
        migrations.RunPython(add_door_staff_group, remove_door_staff_group),
    ]
