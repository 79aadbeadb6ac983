from django.db import migrations

from registrations.search import fold
from seminar_site.addresses import readable_address


def refold_international_domains(apps, schema_editor):
    """Search keys of addresses at an ASCII-spelled international domain get the domain as people type it."""
    Registration = apps.get_model("registrations", "Registration")
    batch = []
    at_idn = Registration.objects.filter(erased_at__isnull=True, email__icontains="xn--").only("pk", "name", "email")
    for registration in at_idn.iterator():
        registration.search_key = fold(f"{registration.name} {readable_address(registration.email)}")
        batch.append(registration)
        if len(batch) >= 1000:
            Registration.objects.bulk_update(batch, ["search_key"])
            batch = []
    Registration.objects.bulk_update(batch, ["search_key"])


class Migration(migrations.Migration):
    dependencies = [
        ("registrations", "0014_link_resent_action"),
    ]

    operations = [
        migrations.RunPython(refold_international_domains, migrations.RunPython.noop, elidable=True),
    ]
