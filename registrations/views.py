from functools import partial

from django.contrib import messages
from django.db.models import Exists, OuterRef
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from events.models import Event, Question, sees_only_published
from events.when import deadline_text, moment_text
from seminar_site import i18n
from seminar_site.addresses import readable_address
from seminar_site.limits import (
    EMAIL_ADDRESS_GROUP,
    by_ip_and,
    by_post_field,
    count_sign_up,
    email_rate_limit,
    rate_limit,
)
from seminar_site.statements import Parameter, PreparedGet

from . import invites, services, tickets
from .forms import LostLinkForm, RegistrationForm
from .models import (
    FREE_SEAT_LINK_SALT,
    INVITE_LINK_SALT,
    KEEP_SEAT_LINK_SALT,
    MANAGE_LINK_SALT,
    Registration,
    RegistrationLog,
)


def _visible_event(request, slug):
    # No speakers: the pages of this app show the talk's title, time and place only.
    return get_object_or_404(Event.objects.visible_to(request.user).select_related("series", "venue"), slug=slug)


def _registration_from_link(token, salt=MANAGE_LINK_SALT):
    try:
        return Registration.objects.select_related("event__series", "event__venue").from_token(token, salt=salt)
    except Registration.DoesNotExist:
        return None


def link_invalid(request):
    """The page for a registrant's link that was altered, cut short, or is of an erased registration (404).

    It says nothing about anyone, and leads to the page that sends a person their links again.
    """
    return render(request, "registrations/link_invalid.html", status=404)


def _talks_to_register():
    return Event.objects.select_related("series", "venue").annotate(
        # In the same query: most talks ask nothing, and then their questions need no query of their own.
        asks_questions=Exists(Question.objects.filter(event=OuterRef("pk")))
    )


# What every sign-up of the public reads first: compiled once, not per sign-up (seminar_site/statements.py).
_PUBLISHED_TALK_TO_REGISTER = PreparedGet(
    Event, lambda: _talks_to_register().published().filter(slug=Parameter("slug", Event._meta.get_field("slug")))
)


def _talk_to_register(request, slug) -> Event:
    if not sees_only_published(request.user):
        return get_object_or_404(_talks_to_register().visible_to(request.user), slug=slug)
    try:
        return _PUBLISHED_TALK_TO_REGISTER.get(slug=slug)
    except Event.DoesNotExist:
        raise Http404("No talk matches this address.") from None


@require_http_methods(["GET", "HEAD", "POST"])
# Both limits count POSTs only: a GET here is no sign-up.
@rate_limit("register", rate="REGISTRATION_RATE_LIMIT", key=by_ip_and("slug"), exempt_networks=True)
# Registering an address that is already registered emails it the link again.
@rate_limit(EMAIL_ADDRESS_GROUP, rate="EMAIL_ADDRESS_RATE_LIMIT", key=by_post_field("email"))
def register(request, slug):
    """The form on the talk page posts here; success redirects, so reloading never posts twice."""
    if request.method != "POST":
        # A form with errors is shown at this address, so a reload, the history or the language
        # switch comes back here with a GET: the form is on the talk page.
        return redirect(_visible_event(request, slug).get_absolute_url() + "#register")
    event = _talk_to_register(request, slug)
    questions = event.questions.all() if event.asks_questions else ()
    form = RegistrationForm(request.POST, questions=questions, event=event)
    if form.is_valid():
        try:
            result = services.register(
                event=event,
                name=form.cleaned_data["name"],
                email=form.cleaned_data["email"],
                affiliation=form.cleaned_data["affiliation"],
                position=form.cleaned_data["position"],
                answers=form.answers(),
                attendance=form.chosen_attendance(),
                language=i18n.current(),
                # Past HOLD_AFTER of them, a sign-up keeps its seat only once confirmed by email.
                count_signups_from_address=partial(count_sign_up, request, slug=event.slug),
            )
        except services.RegistrationError as error:
            form.add_error(None, error.message)
            # The event's counter may have moved since it was read; the panel shows it fresh.
            event.refresh_from_db(fields=["seats_taken", "capacity"])
        else:
            if result.already_registered:
                return redirect("registrations:already_registered", slug=event.slug)
            return redirect(f"{result.registration.get_absolute_url()}?new=1")
    return render(
        request,
        "registrations/register.html",
        {"event": event, "registration_form": form, "now": timezone.now()},
        status=400,
    )


@require_GET
def already_registered(request, slug):
    # Says nothing about the existing registration: anyone can type any address.
    event = _visible_event(request, slug)
    return render(request, "registrations/already_registered.html", {"event": event})


def _attendance_context(registration, now):
    """What the registrant's page says about attending online: the stream link, and a switch of side."""
    event = registration.event
    live = registration.is_active and event.status == Event.Status.PUBLISHED and not event.is_past(now)
    hybrid = event.has_online and event.has_in_person
    reveal_at = event.stream_reveal_at
    # A place that still waits for its confirmation by email moves nowhere until then.
    live = live and not registration.awaits_confirmation
    return {
        "stream_revealed": registration.sees_stream(now),
        "stream_reveal_text": moment_text(event, reveal_at),
        "can_switch_to_online": live
        and hybrid
        and not registration.is_online
        and services.has_free_place(event, Registration.Attendance.ONLINE),
        "can_switch_to_in_person": live
        and hybrid
        and registration.is_online
        and services.has_free_place(event, Registration.Attendance.IN_PERSON),
    }


def _hold_context(registration, now) -> dict:
    """What a registrant's pages say about a place kept until they confirm by email, or released for want of it."""
    event = registration.event
    released = None
    if registration.status == Registration.Status.CANCELLED and registration.hold_reason:
        expiries = registration.log.filter(action=RegistrationLog.Action.HOLD_EXPIRED)
        released = expiries.values_list("created_at", flat=True).last()
    return {
        "hold_until": deadline_text(event, registration.hold_until, now=now),
        "hold_expired": registration.awaits_confirmation and registration.hold_until <= now,
        "released_at": deadline_text(event, released, now=now),
        "can_register_again": not event.is_cancelled and event.start > now,
    }


@never_cache
@require_GET
def manage(request, token):
    """The registrant's own page, reached only through the signed link."""
    registration = _registration_from_link(token)
    if registration is None:
        return link_invalid(request)
    now = timezone.now()
    return render(
        request,
        "registrations/registration_detail.html",
        {
            "registration": registration,
            "event": registration.event,
            "waitlist_position": registration.waitlist_position(),
            "answers": registration.answers.select_related("question"),
            **_attendance_context(registration, now),
            **_hold_context(registration, now),
            "is_new": request.GET.get("new") == "1",
            "now": now,
        },
    )


@never_cache
@require_http_methods(["GET", "POST"])
def keep_seat(request, token):
    """The button in a held seat's email: GET says what it does (mail scanners open links), POST does it.

    Keeps a held seat or waiting-list place, or takes an offered seat; a second
    press changes nothing and says it is done. This link does nothing else.
    """
    registration = _registration_from_link(token, KEEP_SEAT_LINK_SALT)
    if registration is None:
        return link_invalid(request)
    if request.method == "POST":
        was = registration.status
        try:
            services.confirm_hold(registration=registration)
        except services.RegistrationError as error:
            if error.code != "not_held":  # pressed twice: the page below says it is done
                messages.error(request, error.message)
        else:
            if was == Registration.Status.WAITLISTED:
                messages.success(request, _("Thank you: you keep your place on the waiting list."))
            else:
                messages.success(
                    request,
                    _("Done: the seat is yours. Your confirmation with the calendar invite is on its way to %(email)s.")
                    % {"email": readable_address(registration.email)},
                )
        return redirect(request.path)
    now = timezone.now()
    return render(
        request,
        "registrations/keep_seat.html",
        {
            "registration": registration,
            "event": registration.event,
            "waitlist_position": registration.waitlist_position(),
            **_hold_context(registration, now),
            "now": now,
        },
    )


@never_cache
@require_http_methods(["GET", "POST"])
def free_seat(request, token):
    """ "Can't come? Free your seat" from the reminder, or "pass it on" from an offer: GET asks, POST frees.

    A second press changes nothing. This link does nothing else.
    """
    registration = _registration_from_link(token, FREE_SEAT_LINK_SALT)
    if registration is None:
        return link_invalid(request)
    if request.method == "POST":
        try:
            services.free_seat(registration=registration)
        except services.RegistrationError as error:
            if error.code not in ("already_cancelled", "released"):  # the page below says it is free
                messages.error(request, error.message)
        else:
            messages.success(request, _("Your seat is free for the next person. Thank you for letting us know!"))
        return redirect(request.path)
    now = timezone.now()
    return render(
        request,
        "registrations/free_seat.html",
        {"registration": registration, "event": registration.event, **_hold_context(registration, now), "now": now},
    )


@never_cache
@require_GET
def ticket_png(request, token):
    """The QR code of the registrant's check-in link, for their own page (reached with the manage token)."""
    registration = _registration_from_link(token)
    if registration is None:
        raise Http404("No registration matches this link.")  # an image: no page to show
    if not registration.has_ticket:
        raise Http404("Only a confirmed seat in the room has a ticket.")
    response = HttpResponse(tickets.qr_png(registration.checkin_url), content_type="image/png")
    response["Cache-Control"] = "private, no-store"
    return response


@never_cache
@require_GET
def invite_ics(request, token):
    """The registrant's own calendar entry, from the signed link in their emails and on their page.

    The same UID and SEQUENCE as the invite we email them, so importing it
    updates that entry instead of adding a second one.
    """
    try:
        registration = Registration.objects.select_related("event__series", "event__venue").from_token(
            token, salt=INVITE_LINK_SALT
        )
    except Registration.DoesNotExist:
        raise Http404("No registration matches this link.") from None
    response = HttpResponse(
        invites.build_invite(registration=registration, method=invites.PUBLISH),
        content_type="text/calendar; charset=utf-8",
    )
    response["Content-Disposition"] = f'attachment; filename="{registration.event.slug}.ics"'
    return response


@never_cache
@require_POST
# Every switch emails the registrant: someone holding the link cannot flood their inbox.
@rate_limit("switch-attendance", rate="EMAIL_RATE_LIMIT", key=by_ip_and("token"))
def switch_attendance(request, token):
    """The one-click switch between in person and online on the registrant's page."""
    registration = _registration_from_link(token)
    if registration is None:
        return link_invalid(request)
    attendance = request.POST.get("attendance", "")
    if attendance not in Registration.Attendance.values:
        messages.error(request, _("Please choose in person or online."))
        return redirect(registration.get_absolute_url())
    try:
        services.switch_attendance(registration=registration, attendance=attendance)
    except services.RegistrationError as error:
        messages.info(request, error.message)
    else:
        messages.success(
            request,
            _("You now attend online. The confirmation is on its way.")
            if attendance == Registration.Attendance.ONLINE
            else _("You now have a seat in the room. The confirmation is on its way."),
        )
    return redirect(registration.get_absolute_url())


@never_cache
@require_http_methods(["GET", "POST"])
def cancel(request, token):
    """GET asks for confirmation, POST cancels (or leaves the waiting list)."""
    registration = _registration_from_link(token)
    if registration is None:
        return link_invalid(request)
    if request.method == "POST":
        was_waitlisted = registration.status == Registration.Status.WAITLISTED
        try:
            services.cancel_registration(registration=registration)
        except services.RegistrationError as error:
            messages.info(request, error.message)
        else:
            messages.success(
                request,
                _("You left the waiting list.") if was_waitlisted else _("Your registration is cancelled. Thank you!"),
            )
        return redirect(registration.get_absolute_url())
    return render(
        request,
        "registrations/registration_confirm_cancel.html",
        {"registration": registration, "event": registration.event},
    )


@require_http_methods(["GET", "POST"])
@email_rate_limit("lost-link")
def lost_link(request):
    """A registrant types their address and gets their self-service links again, by email only."""
    form = LostLinkForm(request.POST or None)
    if form.is_valid():
        services.resend_links(email=form.cleaned_data["email"])
        # The same answer whether or not the address is registered.
        return redirect("registrations:lost_link_sent")
    return render(request, "registrations/lost_link.html", {"form": form}, status=400 if form.errors else 200)


@require_GET
def lost_link_sent(request):
    return render(request, "registrations/lost_link_sent.html")
