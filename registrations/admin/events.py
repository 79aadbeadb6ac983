"""The talk admin of `events` with seat counts, registrations, capacity changes and calendar updates."""

from django.contrib import admin, messages
from django.db import transaction
from django.utils.translation import gettext, ngettext
from django.utils.translation import gettext_lazy as _

from events.admin import EventAdmin
from events.models import Event

from .. import services
from ..models import Registration, place_counts
from .forms import EventUpdateForm
from .inlines import RegistrationInline


class EventWithRegistrationsAdmin(EventAdmin):
    """The talk admin of `events`, plus seat counts and the registrations (events knows no registrants)."""

    form = EventUpdateForm
    list_display = [*EventAdmin.list_display, "confirmed", "held", "capacity", "waitlisted"]
    inlines = [*EventAdmin.inlines, RegistrationInline]

    def _registrant_count(self, obj) -> int:
        return Registration.objects.filter(event=obj).confirmed().count() if obj is not None else 0

    def get_fieldsets(self, request, obj=None):
        fieldsets = super().get_fieldsets(request, obj)
        if not self._registrant_count(obj):
            return fieldsets
        return [*fieldsets, (_("Registrants' calendars"), {"fields": ["send_update"]})]

    def get_form(self, request, obj=None, change=False, **kwargs):
        form = super().get_form(request, obj, change=change, **kwargs)
        return type(form.__name__, (form,), {"registrant_count": self._registrant_count(obj)})

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(**place_counts())

    @admin.display(description=_("confirmed"), ordering="confirmed_count")
    def confirmed(self, obj):
        return obj.confirmed_count

    @admin.display(description=_("held"), ordering="held_count")
    def held(self, obj):
        """Seats kept until their person confirms by email: taken, but may come back."""
        return obj.held_count

    @admin.display(description=_("waiting"), ordering="waitlisted_count")
    def waitlisted(self, obj):
        return obj.waitlisted_count

    def save_model(self, request, obj, form, change):
        # Read before the save clears it: publishing this talk now tells its registrants it is on again.
        form.cancellation_was_announced = obj.cancellation_announced
        if form.asks():
            # The organizer answered; save_related acts on it once the speakers are saved too.
            obj.announce_changes = False
        # A new capacity goes through the service, under the event lock, so it
        # is checked against the places taken now and promotes at once.
        changes = {
            field: (getattr(obj, field), change_capacity)
            for field, change_capacity in (
                ("capacity", services.change_capacity),
                ("online_capacity", services.change_online_capacity),
            )
            if change and field in form.changed_data
        }
        for field in changes:
            setattr(obj, field, form.initial[field])
        super().save_model(request, obj, form, change)
        for capacity, change_capacity in changes.values():
            try:
                promoted = change_capacity(event=obj, capacity=capacity, actor=request.user)
            except services.RegistrationError as error:
                self.message_user(
                    request,
                    gettext("The capacity was not changed: %(reason)s") % {"reason": error.message},
                    messages.ERROR,
                )
            else:
                if promoted:
                    self.message_user(
                        request,
                        ngettext(
                            "%(count)d registration promoted from the waiting list.",
                            "%(count)d registrations promoted from the waiting list.",
                            len(promoted),
                        )
                        % {"count": len(promoted)},
                        messages.SUCCESS,
                    )

    def save_related(self, request, form, formsets, change):
        super().save_related(request, form, formsets, change)
        self._say_who_hears_of_the_status(request, form)
        if not form.asks():
            return
        # The answer covers the whole save: a new stream link too goes with the update, or alone without one.
        event, changes, send = form.instance, form.announced_changes(), form.sends_update()
        link_changed = bool(form.initial.get("stream_url"))
        transaction.on_commit(
            lambda: services.announce_talk_changes(
                event=event, changed_fields=changes, send_update=send, link_changed=link_changed, actor=request.user
            )
        )
        if send:
            self.message_user(
                request,
                ngettext(
                    "An update of the talk goes to its %(count)d registrant.",
                    "An update of the talk goes to its %(count)d registrants.",
                    form.registrant_count,
                )
                % {"count": form.registrant_count},
                messages.SUCCESS,
            )
        elif told_of_link := self._told_of_new_link(event, changes):
            self.message_user(
                request,
                ngettext(
                    "No update was sent; the %(count)d registrant attending online is sent the new link.",
                    "No update was sent; the %(count)d registrants attending online are sent the new link.",
                    told_of_link,
                )
                % {"count": told_of_link},
            )
        else:
            self.message_user(request, _("No update was sent: registrants' calendars show the talk as before."))

    @staticmethod
    def _told_of_new_link(event, changes) -> int:
        """How many registrants a new stream link saved without an update goes to alone (send_stream_link)."""
        if not changes & set(Event.STREAM_FIELDS):
            return 0
        return services.stream_link_recipients(event=event).count()

    def _say_who_hears_of_the_status(self, request, form):
        # Publishing a cancelled talk again emails its registrants by itself: say so. (A talk is
        # cancelled on its own page, not in this form: see cancellation_consequences and say_cancelled.)
        event = form.instance
        if not (event.status == Event.Status.PUBLISHED and getattr(form, "cancellation_was_announced", False)):
            return
        told = Registration.objects.filter(event=event).active().count()
        if told:
            message = ngettext(
                "The talk is on again: its %(count)d registrant is told by email.",
                "The talk is on again: its %(count)d registrants are told by email.",
                told,
            )
            self.message_user(request, message % {"count": told}, messages.SUCCESS)

    def cancellation_consequences(self, event) -> list[str]:
        counts = Registration.objects.filter(event=event).aggregate(**place_counts(prefix=""))
        confirmed, held, waiting = counts["confirmed_count"], counts["held_count"], counts["waitlisted_count"]
        if not confirmed + held + waiting:
            return [gettext("Nobody is registered for this talk: nobody will be emailed.")]
        consequences = [
            ngettext(
                "%(count)d registrant with a seat (confirmed: %(confirmed)d, held until they confirm: %(held)d) "
                "will be emailed that the talk is cancelled, with your message.",
                "%(count)d registrants with a seat (confirmed: %(confirmed)d, held until they confirm: %(held)d) "
                "will be emailed that the talk is cancelled, with your message.",
                confirmed + held,
            )
            % {"count": confirmed + held, "confirmed": confirmed, "held": held},
            ngettext(
                "%(count)d person on the waiting list will be emailed too.",
                "%(count)d people on the waiting list will be emailed too.",
                waiting,
            )
            % {"count": waiting},
        ]
        if confirmed:
            consequences.append(gettext("The confirmed registrants' email will remove the talk from their calendars."))
        return consequences

    def say_cancelled(self, request, event):
        told = Registration.objects.filter(event=event).active().count()
        if not told:
            super().say_cancelled(request, event)
            return
        message = ngettext(
            "The talk is cancelled: its %(count)d registrant is told by email.",
            "The talk is cancelled: its %(count)d registrants are told by email.",
            told,
        )
        self.message_user(request, message % {"count": told}, messages.SUCCESS)


admin.site.unregister(Event)
admin.site.register(Event, EventWithRegistrationsAdmin)
