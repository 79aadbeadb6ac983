import datetime

from django import forms
from django.contrib import admin
from django.db import models
from django.db.models import Count
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from .models import Event, Question, Series, Speaker, Venue
from .when import SHORT, talk_when


@admin.register(Series)
class SeriesAdmin(admin.ModelAdmin):
    list_display = ["name", "slug", "organizer_name", "organizer_email", "talk_count"]
    search_fields = ["name", "organizer_name", "organizer_email"]
    prepopulated_fields = {"slug": ["name"]}
    fieldsets = [
        (None, {"fields": ["name", "slug", "description"]}),
        ("Organizer", {"fields": ["organizer_name", "organizer_email"]}),
        (
            _("On other sites"),
            {
                "fields": ["embed_origins"],
            },
        ),
    ]

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(talk_count=Count("events"))

    @admin.display(description="talks", ordering="talk_count")
    def talk_count(self, obj):
        return obj.talk_count


@admin.register(Speaker)
class SpeakerAdmin(admin.ModelAdmin):
    list_display = ["name", "position", "affiliation"]
    search_fields = ["name", "affiliation"]
    fieldsets = [
        (None, {"fields": ["name", "position", "affiliation"]}),
        ("Profile", {"fields": ["bio", "photo_url", "website"]}),
    ]


@admin.register(Venue)
class VenueAdmin(admin.ModelAdmin):
    list_display = ["room", "building", "default_capacity", "time_zone"]
    search_fields = ["room", "building", "address"]
    fieldsets = [
        (None, {"fields": ["room", "building", "address", "map_url"]}),
        ("Defaults for talks here", {"fields": ["default_capacity", "time_zone"]}),
    ]


class WhenListFilter(admin.SimpleListFilter):
    title = "when"
    parameter_name = "when"

    def lookups(self, request, model_admin):
        return [("upcoming", "Upcoming"), ("past", "Past")]

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


class EventAdmin(admin.ModelAdmin):
    list_display = ["when", "title", "speaker_names", "room", "series", "status"]
    list_display_links = ["when", "title"]
    list_filter = [WhenListFilter, "series", "status", "start"]
    list_select_related = ["series", "venue"]
    search_fields = ["title", "slug", "speakers__name", "speakers__affiliation", "abstract"]
    date_hierarchy = "start"
    ordering = ["-start", "-pk"]
    prepopulated_fields = {"slug": ["title"]}
    autocomplete_fields = ["speakers"]
    readonly_fields = ["seats_taken", "online_seats_taken", "sequence", "created_at", "updated_at"]
    save_on_top = True
    inlines = [QuestionInline]
    fieldsets = [
        (None, {"fields": ["series", "title", "slug", "status"]}),
        ("Speakers and abstract", {"fields": ["speakers", "abstract"]}),
        (
            "When and where",
            {
                "fields": ["venue", "start", "end"],
                "description": "Enter times in the site's time zone; the talk page shows them in the venue's.",
            },
        ),
        (
            "Registration",
            {
                "fields": [
                    "capacity",
                    "seats_taken",
                    "registration_opens",
                    "registration_closes",
                    "waitlist_enabled",
                    "waitlist_limit",
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
        ("Record", {"fields": ["sequence", "created_at", "updated_at"], "classes": ["collapse"]}),
    ]

    def get_queryset(self, request):
        return super().get_queryset(request).prefetch_related("speakers")

    def get_changeform_initial_data(self, request):
        # A new talk starts as a one-hour slot a week out, at the top of the hour.
        initial = super().get_changeform_initial_data(request)
        start = timezone.localtime().replace(minute=0, second=0, microsecond=0) + datetime.timedelta(days=7)
        initial.setdefault("start", start)
        initial.setdefault("end", start + datetime.timedelta(hours=1))
        return initial

    @admin.display(description="date and time", ordering="start")
    def when(self, obj):
        return talk_when(obj, style=SHORT)

    @admin.display(description="speakers")
    def speaker_names(self, obj):
        return ", ".join(speaker.name for speaker in obj.speakers.all())

    @admin.display(description="room", ordering="venue__room")
    def room(self, obj):
        return obj.venue.room


admin.site.register(Event, EventAdmin)
