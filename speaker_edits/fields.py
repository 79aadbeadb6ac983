"""What a speaker may change through their link."""

from django.utils.translation import gettext_lazy

# What a speaker may change, in the order the form and the emails show them.
EVENT_FIELDS = ("title", "abstract")
SPEAKER_FIELDS = ("affiliation", "website", "bio", "photo")
FIELDS = (*EVENT_FIELDS, *SPEAKER_FIELDS)
FIELD_LABELS = {
    "title": gettext_lazy("Title"),
    "abstract": gettext_lazy("Abstract"),
    "affiliation": gettext_lazy("Affiliation"),
    "website": gettext_lazy("Website"),
    "bio": gettext_lazy("Bio"),
    "photo": gettext_lazy("Photo"),
}
# The fields registrants' invites show, as send_event_update names them (the
# invite lists each speaker as "name (affiliation)").
INVITE_FIELDS = {"title": "title", "abstract": "abstract", "affiliation": "speakers"}
