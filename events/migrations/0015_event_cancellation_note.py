"""A cancelled talk says why: the organizers' note, sent with the cancellation and shown on its page."""

import django.db.models.functions.text
import django.db.models.lookups
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('events', '0014_cancellation_announced'),
    ]

    operations = [
        migrations.AddField(
            model_name='event',
            name='cancellation_note',
            field=models.TextField(blank=True, help_text="Shown on the talk's page. Registrants were emailed the message you wrote when you cancelled; changing it here emails nobody.", max_length=2000, verbose_name='why it was cancelled'),
        ),
        migrations.AddConstraint(
            model_name='event',
            constraint=models.CheckConstraint(condition=django.db.models.lookups.LessThanOrEqual(django.db.models.functions.text.Length('cancellation_note'), 2000), name='event_cancellation_note_length'),
        ),
    ]
