"""Talks remember whether their registrants were told of a cancellation, so that publishing one again tells them
it is on; a talk cancelled before this migration was announced when it was cancelled."""

from django.db import migrations, models


def cancelled_talks_were_announced(apps, schema_editor):
    Event = apps.get_model("events", "Event")
    Event.objects.filter(status="cancelled").update(cancellation_announced=True)


class Migration(migrations.Migration):
    dependencies = [
        ("events", "0013_confirm_by_email"),
    ]

    operations = [
        migrations.AddField(
            model_name="event",
            name="cancellation_announced",
            field=models.BooleanField(default=False, editable=False, verbose_name="cancellation announced"),
        ),
        migrations.RunPython(cancelled_talks_were_announced, migrations.RunPython.noop),
    ]
