"""The speaker's page (their link: form, preview, saved) and the organizers' page of a talk's speaker edits."""

import uuid

from django.contrib import messages
from django.contrib.admin.views.decorators import staff_member_required
from django.core import signing
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST

from events.models import Event, SpeakerPhoto, photo_path
from registrations.models import Registration
from seminar_site.addresses import readable_address

from . import services
from .emails import change_rows, stored_photos
from .fields import EVENT_FIELDS, FIELD_LABELS, FIELDS, SPEAKER_FIELDS
from .forms import InvitationForm, SpeakerForm
from .models import SpeakerEdit, SpeakerInvitation
from .pages import speaker_pages


def _salt(invitation: SpeakerInvitation, what: str) -> str:
    # Bound to the invitation: a draft or form state never moves to another link.
    return f"speaker_edits.{what}:{invitation.pk}:{invitation.key}"


def _sign(invitation, what, value) -> str:
    return signing.dumps(value, salt=_salt(invitation, what), compress=True)


def _unsign(invitation, what, text, *, max_age=services.DRAFT_MAX_AGE):
    try:
        return signing.loads(text or "", salt=_salt(invitation, what), max_age=max_age)
    except signing.BadSignature:
        return None


def _private(response):
    # The address holds the link's token: never cached (never_cache) or indexed. The site's
    # Referrer-Policy (same-origin) keeps it from other sites; "no-referrer" would make
    # browsers send "Origin: null" with the form, which CSRF protection rightly refuses.
    response["X-Robots-Tag"] = "noindex, nofollow"
    return response


def _link_error(request, error: services.SpeakerEditError):
    status = 404 if error.code == "invalid" else 410
    return _private(render(request, "speaker_edits/link_error.html", {"error": error}, status=status))


def _form_page(request, invitation, form, *, state, kept_photo, error="", meanwhile=(), status=None):
    context = {
        "invitation": invitation,
        "event": invitation.event,
        "speaker": invitation.speaker,
        "form": form,
        "state": _sign(invitation, "state", state),
        "kept_photo": kept_photo,
        "error": error,
        "meanwhile": meanwhile,
        "speaker_pages": speaker_pages(invitation),
        # As in the link's email: after the talk, the page is for its record, not its announcement.
        "past": invitation.event.is_past(),
    }
    status = status or (400 if form.is_bound else 200)
    return _private(render(request, "speaker_edits/edit.html", context, status=status))


def _fresh_form_page(request, invitation, *, error=""):
    base = services.current_values(event=invitation.event, speaker=invitation.speaker)
    initial = {name: value for name, value in base.items() if name != "photo"}
    state = {"base": base, "photo": base["photo"]}
    form = SpeakerForm(initial=initial, base=base)
    return _form_page(request, invitation, form, state=state, kept_photo=base["photo"], error=error)


def _merged_form_page(request, invitation, *, base, values, error, status=409):
    """The form again with the speaker's changes laid over the details as they are now, when a draft cannot be saved.

    `values` are what the speaker previewed, `base` what their form started
    from: every field they changed keeps their text, every other one shows
    what it says now (someone else's change is never undone by saving again).
    The fields both they and someone else changed are listed with what they
    said then and say now, for the speaker to merge.
    """
    invitation.event.refresh_from_db(fields=list(EVENT_FIELDS))
    invitation.speaker.refresh_from_db(fields=list(SPEAKER_FIELDS))
    current = services.current_values(event=invitation.event, speaker=invitation.speaker)
    mine = [name for name in FIELDS if values[name] != base[name]]
    merged = current | {name: values[name] for name in mine}
    meanwhile = [
        {"name": name, "label": FIELD_LABELS[name], "then": base[name], "now": current[name]}
        for name in mine
        if current[name] != base[name]
    ]
    stored = set(
        SpeakerPhoto.objects.filter(
            digest__in=[row["then"] for row in meanwhile if row["name"] == "photo"]
        ).values_list("digest", flat=True)
    )
    for row in meanwhile:
        if row["name"] == "photo":
            row["then_url"] = photo_path(row["then"]) if row["then"] in stored else ""
            row["now_url"] = photo_path(row["now"]) if row["now"] else ""
    form = SpeakerForm(initial={name: value for name, value in merged.items() if name != "photo"}, base=current)
    state = {"base": current, "photo": merged["photo"]}
    return _form_page(
        request,
        invitation,
        form,
        state=state,
        kept_photo=merged["photo"],
        error=error,
        meanwhile=meanwhile,
        status=status,
    )


@never_cache
def edit(request, event_id, token):
    """The speaker's link: the form, then a preview, then (confirmed) the saved talk."""
    try:
        invitation = services.invitation_from_token(event_id=event_id, token=token)
    except services.SpeakerEditError as error:
        return _link_error(request, error)
    if request.method != "POST":
        return _fresh_form_page(request, invitation)
    action = request.POST.get("action")
    if action == "confirm":
        return _confirm(request, invitation)
    if action == "change":
        return _back_to_form(request, invitation)
    return _preview(request, invitation)


def _preview(request, invitation):
    # However long the form was open: what it started from is checked when the
    # preview is saved (changed_meanwhile), a photo kept in it just below.
    state = _unsign(invitation, "state", request.POST.get("state"), max_age=None)
    if state is None:
        return _unreadable(request, invitation)
    form = SpeakerForm(request.POST, request.FILES, base=state["base"])
    if not form.is_valid():
        return _form_page(request, invitation, form, state=state, kept_photo=state["photo"])
    base = state["base"]
    values = form.values(kept_photo=state["photo"])
    if form.processed_photo is not None:
        services.store_photo(photo=form.processed_photo)
    elif values["photo"] and values["photo"] != base["photo"] and not services.renew_photo(digest=values["photo"]):
        # Uploaded before going back from a preview, and erased since as never saved.
        form.add_error("photo", _("Your new photo was lost. Upload it again, please."))
        state = state | {"photo": base["photo"]}
        return _form_page(request, invitation, form, state=state, kept_photo=state["photo"])
    if state["photo"] and state["photo"] not in (base["photo"], values["photo"]):
        # The speaker dropped a photo they uploaded for an earlier preview: it was never saved.
        services.discard_photo(digest=state["photo"])
    state = state | {"photo": values["photo"]}
    if values == base:
        form.add_error(None, _("Nothing is changed yet: edit a field, then look at the preview."))
        return _form_page(request, invitation, form, state=state, kept_photo=state["photo"])
    draft = {"id": uuid.uuid4().hex, "base": base, "values": values}
    rows = [
        {"name": name, "label": FIELD_LABELS[name], "before": base[name], "after": values[name]}
        for name in FIELDS
        if values[name] != base[name]
    ]
    context = {
        "invitation": invitation,
        "event": invitation.event,
        "speaker": invitation.speaker,
        "values": values,
        "photo_src": SpeakerPhoto(digest=values["photo"]).get_absolute_url() if values["photo"] else "",
        "rows": rows,
        "draft": _sign(invitation, "draft", draft),
        "past": invitation.event.is_past(),
    }
    return _private(render(request, "speaker_edits/preview.html", context))


def _unreadable(request, invitation):
    # Only a page altered, or one of another link, cannot be read.
    return _fresh_form_page(
        request, invitation, error=_("This page could not be read. Here are the details as they are now.")
    )


def _expired_draft(request, invitation):
    """A preview kept past DRAFT_MAX_AGE: its photo may be erased since. The changes go back in the form."""
    draft = _unsign(invitation, "draft", request.POST.get("draft"), max_age=None)
    if draft is None:
        return _unreadable(request, invitation)
    base, values = draft["base"], draft["values"]
    error = _("This preview was open too long. Your changes are in the form again: preview them, then save.")
    if values["photo"] not in ("", base["photo"]) and not services.renew_photo(digest=values["photo"]):
        values = values | {"photo": base["photo"]}
        lost = _("Your new photo was lost. Upload it again, please.")
        error = f"{error} {lost}"
    return _merged_form_page(request, invitation, base=base, values=values, error=error, status=200)


def _back_to_form(request, invitation):
    draft = _unsign(invitation, "draft", request.POST.get("draft"))
    if draft is None:
        return _expired_draft(request, invitation)
    values = draft["values"]
    form = SpeakerForm(initial={name: value for name, value in values.items() if name != "photo"}, base=draft["base"])
    state = {"base": draft["base"], "photo": values["photo"]}
    return _form_page(request, invitation, form, state=state, kept_photo=values["photo"])


def _confirm(request, invitation):
    draft = _unsign(invitation, "draft", request.POST.get("draft"))
    if draft is None:
        return _expired_draft(request, invitation)
    try:
        edit, _created = services.save_edit(
            invitation=invitation, base=draft["base"], values=draft["values"], draft_id=draft["id"]
        )
    except services.SpeakerEditError as error:
        if error.code == "changed_meanwhile":
            return _merged_form_page(
                request, invitation, base=draft["base"], values=draft["values"], error=error.message
            )
        if error.code == "photo_missing":
            values = draft["values"] | {"photo": draft["base"]["photo"]}
            return _merged_form_page(request, invitation, base=draft["base"], values=values, error=error.message)
        return _link_error(request, error)
    if edit is None:
        return _fresh_form_page(request, invitation, error=_("Nothing to save: the details already say this."))
    return redirect(reverse("speaker_edits:saved", kwargs={"event_id": invitation.event_id, "token": invitation.token}))


@never_cache
def saved(request, event_id, token):
    try:
        invitation = services.invitation_from_token(event_id=event_id, token=token)
    except services.SpeakerEditError as error:
        return _link_error(request, error)
    context = {
        "invitation": invitation,
        "event": invitation.event,
        "speaker": invitation.speaker,
        "speaker_pages": speaker_pages(invitation),
    }
    return _private(render(request, "speaker_edits/saved.html", context))


def _managed_event(request, pk) -> Event:
    return get_object_or_404(Event.objects.managed_by(request.user).select_related("series", "venue"), pk=pk)


@staff_member_required
@never_cache
def event_edits(request, pk):
    """A talk's speaker links (send one, revoke one) and the history of what speakers changed."""
    event = _managed_event(request, pk)
    form = InvitationForm(event=event, initial_deadline=services.default_deadline(event))
    if request.method == "POST":
        form = InvitationForm(request.POST, event=event, initial_deadline=services.default_deadline(event))
        if form.is_valid():
            try:
                invitation = services.invite_speaker(
                    event=event,
                    speaker=form.cleaned_data["speaker"],
                    email=form.cleaned_data["email"],
                    expires_at=form.cleaned_data["expires_at"],
                    actor=request.user,
                )
            except services.SpeakerEditError as error:
                form.add_error(None, error.message)
            else:
                messages.success(
                    request,
                    _("A link to edit the talk is on its way to %(email)s.")
                    % {"email": readable_address(invitation.email)},
                )
                return redirect("speaker_edits:event", pk=event.pk)
    edits = list(SpeakerEdit.objects.filter(event=event).select_related("speaker", "invite_update_decided_by"))
    stored = stored_photos(edits)
    context = {
        "title": _("Speakers' own edits: %(talk)s") % {"talk": event.title},
        "event": event,
        "form": form,
        "invitations": SpeakerInvitation.objects.filter(event=event).select_related("speaker", "created_by"),
        "edits": [(edit, change_rows(edit, absolute=False, stored=stored)) for edit in edits],
        "pending": [edit for edit in edits if edit.invite_update == SpeakerEdit.InviteUpdate.PENDING],
        "registrant_count": Registration.objects.filter(event=event).confirmed().count(),
    }
    return render(request, "speaker_edits/event_edits.html", context, status=400 if form.errors else 200)


@staff_member_required
@require_POST
def revoke(request, pk, invitation_pk):
    event = _managed_event(request, pk)
    invitation = get_object_or_404(SpeakerInvitation, pk=invitation_pk, event=event)
    if services.revoke_invitation(invitation=invitation, actor=request.user):
        messages.success(request, _("The link of %(speaker)s no longer works.") % {"speaker": invitation.speaker.name})
    else:
        messages.info(request, _("That link was already revoked."))
    return redirect("speaker_edits:event", pk=event.pk)


@staff_member_required
@require_POST
def decide_update(request, pk):
    event = _managed_event(request, pk)
    send = request.POST.get("send") == "yes"
    answered = services.decide_invite_update(event=event, send=send, actor=request.user)
    if not answered:
        messages.info(request, _("Someone already decided about this update."))
    elif send:
        count = Registration.objects.filter(event=event).confirmed().count()
        messages.success(
            request,
            ngettext(
                "An update of the talk goes to its %(count)d registrant.",
                "An update of the talk goes to its %(count)d registrants.",
                count,
            )
            % {"count": count},
        )
    else:
        messages.info(request, _("No update was sent: registrants' calendars show the talk as before."))
    return redirect("speaker_edits:event", pk=event.pk)
