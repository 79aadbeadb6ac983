"""Materials as people reach them: a file (for whoever may see it), a registrant's own page, the speaker's page.

A file is always a download of a PDF from the site's own view, never a page
of the site: `Content-Type: application/pdf`, `Content-Disposition: attachment`
with its name, `X-Content-Type-Options: nosniff` and a CSP that sandboxes it
and allows it nothing, so whatever it holds cannot run with the site's origin.
"""

from django.contrib import messages
from django.contrib.admin.views.decorators import staff_member_required
from django.core.exceptions import ValidationError
from django.http import FileResponse, Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.cache import get_conditional_response, patch_cache_control
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_safe

from events.models import Event
from registrations.models import Registration
from registrations.views import link_invalid
from speaker_edits.services import SpeakerEditError, invitation_from_token

from . import services
from .forms import SpeakerMaterialForm
from .models import REGISTRANT_LINK_SALT, Material
from .pdf import MEDIA_TYPE
from .sources import visible

# A sandbox with no permission at all: no script, no form, no plugin, an opaque origin.
FILE_POLICY = "default-src 'none'; sandbox"
# Public files may be kept by caches a little: a file made private, or removed, goes within minutes.
PUBLIC_MAX_AGE = 300


def _file_response(request, material: Material, *, public: bool):
    etag = f'"{material.sha256}"'
    if public:
        not_modified = get_conditional_response(request, etag=etag)
        if not_modified is not None:
            not_modified["Cache-Control"] = f"public, max-age={PUBLIC_MAX_AGE}"
            return not_modified
    try:
        handle = material.file.open("rb")
    except FileNotFoundError:
        raise Http404("The file is missing from the storage.") from None
    response = FileResponse(handle, as_attachment=True, filename=material.download_name, content_type=MEDIA_TYPE)
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Security-Policy"] = FILE_POLICY
    response["Cross-Origin-Resource-Policy"] = "same-origin"
    response["ETag"] = etag
    if public:
        patch_cache_control(response, public=True, max_age=PUBLIC_MAX_AGE)
    else:
        patch_cache_control(response, private=True, no_store=True)
        response["X-Robots-Tag"] = "noindex"
    return response


@require_safe
def file(request, key, filename):
    """An uploaded file, for whoever may see it: anyone when public, else staff of the talk's series."""
    material = get_object_or_404(Material.objects.files().select_related("event"), key=key)
    if not visible(material, request.user):
        # The same answer as for a file that does not exist.
        raise Http404("No such file.")
    return _file_response(request, material, public=material.is_public and not request.user.is_authenticated)


def _registration(token) -> Registration | None:
    try:
        return Registration.objects.select_related("event__series", "event__venue").from_token(
            token, salt=REGISTRANT_LINK_SALT
        )
    except Registration.DoesNotExist:
        return None


@require_safe
def registrant_file(request, token, key, filename):
    """A file for registrants, through a registrant's own link (never another talk's)."""
    registration = _registration(token)
    if registration is None or registration.status == Registration.Status.CANCELLED:
        raise Http404("No registration matches this link, or it was cancelled.")
    material = get_object_or_404(Material.objects.for_registration(registration).files(), key=key)
    return _file_response(request, material, public=False)


@never_cache
@require_safe
def registrant(request, token):
    """A registrant's page of their talk's materials: public ones and those for registrants."""
    registration = _registration(token)
    if registration is None:
        return link_invalid(request)
    event = registration.event
    cancelled = registration.status == Registration.Status.CANCELLED
    materials = (
        []
        if cancelled
        else [
            material.as_talk_material(registration)
            for material in Material.objects.for_registration(registration).order_by("created_at", "pk")
        ]
    )
    response = render(
        request,
        "materials/registrant.html",
        {"registration": registration, "event": event, "materials": materials, "cancelled": cancelled},
    )
    response["X-Robots-Tag"] = "noindex, nofollow"
    return response


@never_cache
@require_http_methods(["GET", "POST"])
def speaker(request, event_id, token):
    """The speaker's page (their edit link): add slides or another material, remove what they added."""
    try:
        invitation = invitation_from_token(event_id=event_id, token=token)
    except SpeakerEditError as error:
        # As the speaker's edit page answers: not ours (404), or no longer working (410).
        status = 404 if error.code == "invalid" else 410
        response = render(request, "speaker_edits/link_error.html", {"error": error}, status=status)
        response["X-Robots-Tag"] = "noindex, nofollow"
        return response
    event, speaker = invitation.event, invitation.speaker
    form = SpeakerMaterialForm()
    if request.method == "POST" and "remove" in request.POST:
        material = Material.objects.filter(event=event, key=request.POST["remove"]).first()
        if material is not None and services.remove_material(material=material, speaker=speaker):
            messages.success(request, _("“%(title)s” is removed.") % {"title": material.display_title})
        else:
            messages.info(request, _("That was removed already, or was not added by you."))
        return redirect(request.path)
    if request.method == "POST":
        form = SpeakerMaterialForm(request.POST, request.FILES)
        if form.is_valid():
            try:
                material = services.add_material(
                    event=event,
                    kind=form.cleaned_data["kind"],
                    title=form.cleaned_data["title"],
                    visibility=form.cleaned_data["visibility"],
                    url=form.cleaned_data["url"],
                    upload=form.cleaned_data["file"] or None,
                    speaker=speaker,
                )
            except ValidationError as error:
                form.add_error(None, error)
            else:
                messages.success(
                    request,
                    _("“%(title)s” is added. The organizers have been told.") % {"title": material.display_title},
                )
                return redirect(request.path)
    added = Material.objects.filter(event=event, added_by_speaker=speaker).order_by("created_at", "pk")
    response = render(
        request,
        "materials/speaker.html",
        {
            "invitation": invitation,
            "event": event,
            "speaker": speaker,
            "form": form,
            "added": [(material, material.as_talk_material()) for material in added],
            "edit_url": reverse("speaker_edits:edit", kwargs={"event_id": event.pk, "token": invitation.token}),
        },
        status=400 if form.errors else 200,
    )
    response["X-Robots-Tag"] = "noindex, nofollow"
    return response


@staff_member_required
def event(request, pk):
    """From a talk's admin page to its materials in the admin."""
    talk = get_object_or_404(Event.objects.managed_by(request.user), pk=pk)
    return redirect(reverse("admin:materials_material_changelist") + f"?event__id__exact={talk.pk}")
