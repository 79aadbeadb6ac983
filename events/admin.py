import datetime

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.utils import unquote
from django.core.exceptions import PermissionDenied
from django.db import models
from django.db.models import Count
from django.http import Http404
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html
from django.utils.translation import gettext, ngettext
from django.utils.translation import gettext_lazy as _

from seminar_site.admin_columns import ZonedTimesMixin

from . import services
from .forms import CancelEventForm, EventAdminForm
from .models import Event, Question, Series, SeriesMember, Speaker, Venue
from .schedule import new_talk_initial
from .scoping import SeriesScopedAdminMixin
from .when import SHORT, talk_when

# Staff pages of other apps about one talk or one series (numbers, check-in, ...):
# {model name: [(label, URL name taking the object's pk)]}, linked from its admin page.
_staff_pages: dict[str, list[tuple[str, str]]] = {"event": [], "series": []}


def link_staff_page(model_name: str, label, url_name: str) -> None:
    """Link a staff page from the admin page of each talk ("event") or series ("series").

    Apps call this from `AppConfig.ready`; events knows nothing of them.
    """
    pages = _staff_pages[model_name]
    if url_name not in [name for _label, name in pages]:
        pages.append((label, url_name))


class StaffPagesMixin:
    """Puts the linked staff pages among the object tools of the change page."""

    def change_view(self, request, object_id, form_url="", extra_context=None):
        pages = [(label, reverse(url_name, args=[object_id])) for label, url_name in _staff_pages[self.opts.model_name]]
        return super().change_view(request, object_id, form_url, {**(extra_context or {}), "staff_pages": pages})


class SeriesMemberInline(admin.TabularInline):
    model = SeriesMember
    fields = ["user", "role"]
    autocomplete_fields = ["user"]
    extra = 0
    verbose_name = _("team member")
    verbose_name_plural = _("team: organizers and door staff")

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("user")

    def has_view_permission(self, request, obj=None):
        # Whoever may see the series may see its team.
        return request.user.has_perm("events.view_series") or request.user.has_perm("events.change_series")

    # Only superusers choose who works for a series: an organizer would
    # otherwise have to browse every account on the site.
    def has_add_permission(self, request, obj=None):
        return request.user.is_superuser

    def has_change_permission(self, request, obj=None):
        return request.user.is_superuser

    def has_delete_permission(self, request, obj=None):
        return request.user.is_superuser


@admin.register(Series)
class SeriesAdmin(SeriesScopedAdminMixin, ZonedTimesMixin, StaffPagesMixin, admin.ModelAdmin):
    list_display = ["name", "slug", "organizer_name", "organizer_email", "talk_count", "new_talk_link"]
    search_fields = ["name", "organizer_name", "organizer_email"]
    prepopulated_fields = {"slug": ["name"]}
    fieldsets = [
        (None, {"fields": ["name", "slug", "description"]}),
        (_("Organizer"), {"fields": ["organizer_name", "organizer_email"]}),
        (_("Registration"), {"fields": ["confirm_by_email"]}),
        (
            _("On other sites"),
            {
                "fields": ["embed_origins"],
            },
        ),
    ]
    inlines = [SeriesMemberInline]

    def get_fieldsets(self, request, obj=None):
        return [
            *super().get_fieldsets(request, obj),
            (
                _("Default schedule for new talks"),
                {
                    "fields": [
                        ("default_weekday", "default_start_time", "default_duration_minutes"),
                        ("default_venue", "default_capacity"),
                        "registration_opens_days_before",
                    ],
                    "description": _(
                        "A new talk of this series starts with these: the next free weekday at this time, "
                        "in this room, with registration opening this many days before."
                    ),
                },
            ),
            (
                _("Weekly digest for followers"),
                {
                    "fields": [("digest_weekday", "digest_time")],
                    "description": _(
                        "Followers who asked for a digest get the coming week's talks on this day at this time "
                        "(the default venue's time zone). No talks that week: no digest."
                    ),
                },
            ),
            (_("After each talk"), {"fields": ["ask_for_feedback"]}),
        ]

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(talk_count=Count("events"))

    @admin.display(description=_("talks"), ordering="talk_count")
    def talk_count(self, obj):
        return obj.talk_count

    @admin.display(description=_("next talk"))
    def new_talk_link(self, obj):
        url = reverse("admin:events_event_add") + f"?series={obj.pk}"
        return format_html('<a href="{}">{}</a>', url, _("Add a talk"))

    def save_related(self, request, form, formsets, change):
        super().save_related(request, form, formsets, change)
        if not change and not request.user.is_superuser:
            # Whoever starts a series runs it (and so can still see it after saving).
            SeriesMember.objects.get_or_create(
                series=form.instance, user=request.user, defaults={"role": SeriesMember.Role.ORGANIZER}
            )


class SharedWithOtherSeriesMixin:
    """Speakers and venues are shared by all series: staff may change one only while no other series uses it."""

    def _used_elsewhere(self, request, obj) -> bool:
        return obj.events.exclude(pk__in=Event.objects.managed_by(request.user)).exists()

    def has_change_permission(self, request, obj=None):
        allowed = super().has_change_permission(request, obj)
        if not allowed or obj is None or request.user.is_superuser:
            return allowed
        return not self._used_elsewhere(request, obj)

    def has_delete_permission(self, request, obj=None):
        allowed = super().has_delete_permission(request, obj)
        if not allowed or obj is None or request.user.is_superuser:
            return allowed
        return not self._used_elsewhere(request, obj)


class SpeakerForm(forms.ModelForm):
    remove_photo = forms.BooleanField(
        label=_("Remove the uploaded photo"),
        required=False,
        help_text=_("The photo URL, if any, is shown instead."),
    )

    class Meta:
        model = Speaker
        fields = ["name", "position", "affiliation", "bio", "photo_url", "website"]

    def save(self, commit=True):
        if self.cleaned_data.get("remove_photo"):
            self.instance.photo = None
        return super().save(commit)


@admin.register(Speaker)
class SpeakerAdmin(SeriesScopedAdminMixin, SharedWithOtherSeriesMixin, admin.ModelAdmin):
    form = SpeakerForm
    list_display = ["name", "position", "affiliation"]
    search_fields = ["name", "affiliation"]
    readonly_fields = ["uploaded_photo"]
    fieldsets = [
        (None, {"fields": ["name", "position", "affiliation"]}),
        (_("Profile"), {"fields": ["bio", "photo_url", "uploaded_photo", "remove_photo", "website"]}),
    ]

    @admin.display(description=_("uploaded photo"))
    def uploaded_photo(self, obj):
        if not obj.photo_id:
            return _("None")
        return format_html('<img src="{}" alt="" width="120">', obj.photo_src)


@admin.register(Venue)
class VenueAdmin(SharedWithOtherSeriesMixin, admin.ModelAdmin):
    # Every series may book any room, so every venue is listed; a room used by
    # another series' talks is only changed by a superuser, since renaming it
    # sends updated invites to that series' registrants.
    list_display = ["room", "building", "default_capacity", "time_zone"]
    search_fields = ["room", "building", "address"]
    fieldsets = [
        (None, {"fields": ["room", "building", "address", "map_url"]}),
        (_("Defaults for talks here"), {"fields": ["default_capacity", "time_zone"]}),
    ]


class WhenListFilter(admin.SimpleListFilter):
    title = _("when")
    parameter_name = "when"

    def lookups(self, request, model_admin):
        return [("upcoming", _("Upcoming")), ("past", _("Past"))]

    def queryset(self, request, queryset):
        # The changelist applies its own ordering afterwards.
        if self.value() == "upcoming":
            return queryset.upcoming()
        if self.value() == "past":
            return queryset.past()
        return queryset


class QuestionInline(admin.StackedInline):
    """What the registration form asks besides name, email, affiliation and position."""

    model = Question
    extra = 0
    fields = [("label", "position"), ("kind", "required"), "choices", "help_text"]
    ordering = ["position", "pk"]
    formfield_overrides = {models.TextField: {"widget": forms.Textarea(attrs={"rows": 4, "cols": 60})}}
    verbose_name_plural = _("questions on the registration form")


class DuplicateForm(forms.Form):
    weeks = forms.IntegerField(label=_("Weeks later"), min_value=1, max_value=52, initial=1)
    copy_speaker_texts = forms.BooleanField(
        label=_("Copy the title, abstract and speakers too"),
        required=False,
        help_text=_("Leave unticked for a new speaker: the copy then says “talk to be announced”."),
    )
    copy_stream_link = forms.BooleanField(
        label=_("Copy the link to join online"),
        required=False,
        help_text=_(
            "Leave unticked when each session has its own meeting, and add the new link on the copy. Tick it for a "
            "recurring meeting that keeps the same link."
        ),
    )

    def __init__(self, *args, stream_link: bool, **kwargs):
        """`stream_link`: whether any talk to copy has a link to join online (else nothing asks about it)."""
        super().__init__(*args, **kwargs)
        if not stream_link:
            del self.fields["copy_stream_link"]


def _talk_zone(event):
    return event.local_time_zone


class EventAdmin(SeriesScopedAdminMixin, ZonedTimesMixin, StaffPagesMixin, admin.ModelAdmin):
    form = EventAdminForm
    list_display = ["when", "title", "speaker_names", "room", "series", "status"]
    list_display_links = ["when", "title"]
    actions = ["duplicate"]
    list_filter = [WhenListFilter, "series", "status", "start"]
    list_select_related = ["series", "venue"]
    search_fields = ["title", "slug", "speakers__name", "speakers__affiliation", "abstract"]
    date_hierarchy = "start"
    ordering = ["-start", "-pk"]
    prepopulated_fields = {"slug": ["title"]}
    autocomplete_fields = ["speakers"]
    readonly_fields = ["seats_taken", "online_seats_taken", "sequence", "created_at", "updated_at"]
    # Shown read-only to whoever may only view the talk: on the talk's clock, as everywhere.
    time_zones = dict.fromkeys(["start", "end", "registration_opens", "registration_closes"], _talk_zone)
    save_on_top = True
    inlines = [QuestionInline]
    fieldsets = [
        (None, {"fields": ["series", "title", "slug", "status", "announce_to_followers"]}),
        (_("Speakers and abstract"), {"fields": ["speakers", "abstract"]}),
        (
            _("When and where"),
            {
                "fields": ["venue", "start", "end"],
                "description": _(
                    "Enter times in the site's time zone; the talk page shows them in the venue's "
                    "(an online talk without a venue keeps the site's)."
                ),
            },
        ),
        (
            _("Registration"),
            {
                "fields": [
                    "capacity",
                    "seats_taken",
                    "registration_opens",
                    "registration_closes",
                    "waitlist_enabled",
                    "waitlist_limit",
                    "confirm_by_email",
                ]
            },
        ),
        (
            _("Online attendance"),
            {
                "fields": [
                    "attendance_mode",
                    "online_capacity",
                    "online_seats_taken",
                    "stream_url",
                    "stream_reveal_minutes",
                ],
                "description": _(
                    "In person, online or both: online places never take a seat in the room. Only registrants "
                    "attending online see the stream link, from the time you choose; changing it emails them the "
                    "new one."
                ),
            },
        ),
        (_("Record"), {"fields": ["sequence", "created_at", "updated_at"], "classes": ["collapse"]}),
    ]

    def get_queryset(self, request):
        return super().get_queryset(request).prefetch_related("speakers")

    def get_fieldsets(self, request, obj=None):
        fieldsets = super().get_fieldsets(request, obj)
        if obj is None or not obj.is_cancelled:
            return fieldsets
        # A cancelled talk's page says why: its organizers may still correct or complete that.
        (name, options), *rest = fieldsets
        fields = list(options["fields"])
        fields.insert(fields.index("status") + 1, "cancellation_note")
        return [(name, {**options, "fields": fields}), *rest]

    def render_change_form(self, request, context, add=False, change=False, form_url="", obj=None):
        if obj is not None and self._may_be_cancelled(obj) and self.has_change_permission(request, obj):
            context["cancel_url"] = reverse("admin:events_event_cancel", args=[obj.pk])
        return super().render_change_form(request, context, add, change, form_url, obj)

    def get_urls(self):
        # Before the admin's own: its last pattern takes any "<id>/..." path.
        return [
            path("<path:object_id>/cancel/", self.admin_site.admin_view(self.cancel_view), name="events_event_cancel"),
            *super().get_urls(),
        ]

    @staticmethod
    def _may_be_cancelled(event) -> bool:
        try:
            services.check_cancellable(event)
        except services.EventError:
            return False
        return True

    def cancel_view(self, request, object_id):
        """Cancel a talk: GET asks (who will be told, and why, optionally), POST cancels it, once."""
        if not self.has_change_permission(request):
            raise PermissionDenied
        event = self.get_object(request, unquote(object_id))
        if event is None or not self.has_change_permission(request, event):
            # As on the change page: someone else's talk and no talk at all look the same.
            raise Http404(gettext("Nothing here, or not yours to see."))
        change_url = reverse("admin:events_event_change", args=[event.pk])
        try:
            services.check_cancellable(event)
        except services.EventError as error:
            # A second submit lands here, and so does an old tab: the talk stays as it is, nobody is emailed.
            self.message_user(request, error.message, messages.WARNING)
            return redirect(change_url)
        form = CancelEventForm(request.POST if request.method == "POST" else None)
        if form.is_valid():
            try:
                event = services.cancel_event(event=event, note=form.cleaned_data["note"])
            except services.EventError as error:
                self.message_user(request, error.message, messages.WARNING)
            else:
                self.log_change(request, event, gettext("Cancelled the talk."))
                self.say_cancelled(request, event)
            return redirect(change_url)
        return TemplateResponse(
            request,
            "admin/events/event/cancel_confirmation.html",
            {
                **self.admin_site.each_context(request),
                "title": gettext("Cancel this talk?"),
                "opts": self.opts,
                "object": event,
                "form": form,
                "consequences": self.cancellation_consequences(event),
                "change_url": change_url,
            },
        )

    def cancellation_consequences(self, event) -> list[str]:
        """What cancelling `event` does besides its page, one sentence each, for the confirmation page.

        Events knows nobody to tell; an app that does (registrations) says whom it emails.
        """
        return []

    def say_cancelled(self, request, event) -> None:
        """The message after `event` was cancelled (an app that emails about it says whom)."""
        self.message_user(request, gettext("The talk is cancelled."), messages.SUCCESS)

    def get_changeform_initial_data(self, request):
        # A new talk starts from its series' default schedule (?series=<id>, or
        # the organizer's only series); else as a one-hour slot a week out.
        initial = super().get_changeform_initial_data(request)
        initial.pop("series", None)
        series = self._series_for_new_talk(request)
        if series is not None:
            initial |= new_talk_initial(series)
        start = timezone.localtime().replace(minute=0, second=0, microsecond=0) + datetime.timedelta(days=7)
        initial.setdefault("start", start)
        initial.setdefault("end", start + datetime.timedelta(hours=1))
        return initial

    def _series_for_new_talk(self, request):
        series = Series.objects.managed_by(request.user)
        wanted = request.GET.get("series", "")
        if wanted:
            return series.filter(pk=wanted).first() if wanted.isdigit() else None
        only = list(series[:2])
        return only[0] if len(only) == 1 else None

    @admin.action(description=_("Schedule again, one or more weeks later (as a draft)"), permissions=["add"])
    def duplicate(self, request, queryset):
        events = list(queryset.order_by("start", "pk").select_related("venue"))
        stream_link = any(event.stream_url for event in events)
        form = DuplicateForm(request.POST if "apply" in request.POST else None, stream_link=stream_link)
        if form.is_valid():
            copy_stream_link = form.cleaned_data.get("copy_stream_link", False)
            copies = [
                services.duplicate_event(
                    event=event,
                    weeks=form.cleaned_data["weeks"],
                    copy_speaker_texts=form.cleaned_data["copy_speaker_texts"],
                    copy_stream_link=copy_stream_link,
                )
                for event in events
            ]
            links_to_add = stream_link and not copy_stream_link
            if len(copies) == 1:
                done = (
                    _("Draft copy made: complete it, give it its link to join online, and publish it.")
                    if links_to_add
                    else _("Draft copy made: complete it and publish it.")
                )
                self.message_user(request, done, messages.SUCCESS)
                return redirect(reverse("admin:events_event_change", args=[copies[0].pk]))
            done = ngettext("%(count)d draft copy made.", "%(count)d draft copies made.", len(copies)) % {
                "count": len(copies)
            }
            if links_to_add:
                done += " " + gettext("Links to join online were not copied: give each copy that needs one its own.")
            self.message_user(request, done, messages.SUCCESS)
            return None
        return TemplateResponse(
            request,
            "admin/events/event/duplicate.html",
            {
                **self.admin_site.each_context(request),
                "title": _("Schedule again"),
                "opts": self.opts,
                "form": form,
                "events": events,
                # One talk: the page is that talk's, and the breadcrumbs lead back to it.
                "original": events[0] if len(events) == 1 else None,
                "stream_link": stream_link,
                "action_checkbox_name": admin.helpers.ACTION_CHECKBOX_NAME,
            },
        )

    @admin.display(description=_("date and time"), ordering="start")
    def when(self, obj):
        return talk_when(obj, style=SHORT)

    @admin.display(description=_("speakers"))
    def speaker_names(self, obj):
        return ", ".join(speaker.name for speaker in obj.speakers.all())

    @admin.display(description=_("room"), ordering="venue__room")
    def room(self, obj):
        return obj.short_place


admin.site.register(Event, EventAdmin)
