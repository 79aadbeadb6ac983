"""History entries of calendar updates say what changed in words ("New time, new place"), not field names ("end, start")."""

from django.conf import settings
from django.db import migrations
from django.utils.text import capfirst
from django.utils.translation import gettext, override

# As registrations.services.notifications.UPDATE_NOTES had them when this was written.
NOTES = (
    (("start", "end"), "new time"),
    (("venue",), "new place"),
    (("title",), "new title"),
    (("speakers",), "new speakers"),
    (("abstract",), "new abstract"),
)
FIELD_NAMES = {name for names, _label in NOTES for name in names}


def readable(note: str) -> str | None:
    names = set(note.split(", "))
    if not names <= FIELD_NAMES:
        return None  # written in words already
    return capfirst(", ".join(gettext(label) for fields, label in NOTES if names & set(fields)))


def write_in_words(apps, schema_editor):
    RegistrationLog = apps.get_model("registrations", "RegistrationLog")
    updates = RegistrationLog.objects.filter(action="update_sent").exclude(note="")
    with override(settings.LANGUAGE_CODE):
        for note in updates.order_by().values_list("note", flat=True).distinct():
            if (words := readable(note)) is not None:
                updates.filter(note=note).update(note=words)


class Migration(migrations.Migration):

    dependencies = [
        ("registrations", "0016_talk_cancelled_and_on_again_actions"),
    ]

    operations = [
        migrations.RunPython(write_in_words, migrations.RunPython.noop),
    ]
