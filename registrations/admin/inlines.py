"""Read-only inlines: a registration's answers and history, and a talk's registrations."""

from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from ..models import Answer, Registration, RegistrationLog


class ReadOnlyInline(admin.TabularInline):
    """Rows shown for reference: they change only through the services, never in this form."""

    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False


class RegistrationLogInline(ReadOnlyInline):
    model = RegistrationLog
    fields = ["created_at", "action", "from_status", "to_status", "actor", "note"]
    readonly_fields = fields

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("actor")


class AnswerInline(ReadOnlyInline):
    model = Answer
    fields = ["question", "answer"]
    readonly_fields = fields
    verbose_name_plural = _("answers to the talk's questions")

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("question")

    @admin.display(description=_("answer"))
    def answer(self, obj):
        return obj.display_value


class RegistrationInline(ReadOnlyInline):
    model = Registration
    fields = ["name", "email", "affiliation", "position", "status", "attendance", "created_at", "checked_in_at"]
    readonly_fields = fields
    show_change_link = True
    ordering = ["status", "created_at", "pk"]
