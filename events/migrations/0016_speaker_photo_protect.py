"""A speaker's photo is deleted only once no speaker shows it (events.services.erase_unused_photos); no SQL."""

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('events', '0015_event_cancellation_note'),
    ]

    operations = [
        migrations.AlterField(
            model_name='speaker',
            name='photo',
            field=models.ForeignKey(blank=True, help_text='Uploaded by the speaker; shown instead of the photo URL.', null=True, on_delete=django.db.models.deletion.PROTECT, related_name='+', to='events.speakerphoto', verbose_name='uploaded photo'),
        ),
    ]
