from django.db import migrations

import registrations.search


def fill_search_keys(apps, schema_editor):
    Registration = apps.get_model("registrations", "Registration")
    batch = []
    for registration in Registration.objects.filter(erased_at__isnull=True).only("pk", "name", "email").iterator():
        registration.search_key = registrations.search.fold(f"{registration.name} {registration.email}")
        batch.append(registration)
        if len(batch) >= 1000:
            Registration.objects.bulk_update(batch, ["search_key"])
            batch = []
    Registration.objects.bulk_update(batch, ["search_key"])


class Migration(migrations.Migration):
    dependencies = [
        ("registrations", "0010_registration_language"),
    ]

    operations = [
        migrations.AddField(
            model_name="registration",
            name="search_key",
            field=registrations.search.SearchKeyField(
                blank=True, default="", editable=False, verbose_name="search key"
            ),
        ),
        migrations.RunPython(fill_search_keys, migrations.RunPython.noop, elidable=True),
    ]
