"""Staff scoping for the admin, whatever decides the scope.

A model is scoped when its QuerySet has `managed_by(user)`: the objects `user`
may see on the staff side (for series-owned models, `events.models.scope_to_series`;
the outbox ORs the scopes its apps register). `ScopedAdminMixin` applies it to
a ModelAdmin: its changelist, search, actions, CSV exports and autocomplete
answers all come from the scoped queryset; every model-choice form field whose
model is scoped offers only in-scope objects; plain related list filters list
only what is in scope; an out-of-scope object's change, delete or history URL
is a 404. `view_on_site` replaces the admin's "view on site" redirect, which
sends any staff user to any object's URL (a registration's carries its
self-service token).
"""

from django.contrib import admin
from django.contrib.admin.utils import NotRelationField, get_fields_from_path, unquote
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import FieldDoesNotExist, ObjectDoesNotExist
from django.http import Http404, HttpResponseRedirect
from django.utils.translation import gettext as _


def is_scoped(queryset) -> bool:
    """Does this queryset's model follow the per-series rule?"""
    return callable(getattr(queryset, "managed_by", None))


def _scope_choice_fields(form, user) -> None:
    for field in form.fields.values():
        queryset = getattr(field, "queryset", None)
        if queryset is not None and is_scoped(queryset):
            field.queryset = queryset.managed_by(user)


def scoped_form_class(form_class, user):
    """A subclass of `form_class` whose model-choice fields offer only what `user` may pick.

    Applied per form instance (fields are copies there), so declared fields
    shared by every request are never narrowed for everybody.
    """

    def __init__(self, *args, **kwargs):
        form_class.__init__(self, *args, **kwargs)
        _scope_choice_fields(self, user)

    return type(form_class.__name__, (form_class,), {"__init__": __init__})


class ScopedRelatedFieldListFilter(admin.RelatedFieldListFilter):
    """Django's related filter, listing only the related objects the user may see."""

    def field_choices(self, field, request, model_admin):
        ordering = self.field_admin_ordering(field, request, model_admin)
        visible = field.related_model._default_manager.all().managed_by(request.user).values("pk")
        return field.get_choices(include_blank=False, limit_choices_to={"pk__in": visible}, ordering=ordering)


class ScopedAdminMixin:
    """Put first in the bases of a ModelAdmin (or inline) whose model's QuerySet has `managed_by(user)`."""

    def get_queryset(self, request):
        return super().get_queryset(request).managed_by(request.user)

    def get_form(self, request, obj=None, **kwargs):
        return scoped_form_class(super().get_form(request, obj, **kwargs), request.user)

    def get_formset(self, request, obj=None, **kwargs):
        # Inlines: the forms of the formset.
        formset = super().get_formset(request, obj, **kwargs)
        formset.form = scoped_form_class(formset.form, request.user)
        return formset

    def get_list_filter(self, request):
        return [self._scoped_filter(item) for item in super().get_list_filter(request)]

    def _scoped_filter(self, item):
        # A plain related filter lists every row of the related table.
        if not isinstance(item, str):
            return item
        try:
            field = get_fields_from_path(self.model, item)[-1]
        except (FieldDoesNotExist, NotRelationField):
            return item
        if field.is_relation and is_scoped(field.related_model._default_manager.all()):
            return (item, ScopedRelatedFieldListFilter)
        return item

    def _object_in_scope_or_404(self, request, object_id):
        # The same answer whether the object is someone else's or does not
        # exist at all, so ids reveal nothing. Someone without any permission
        # on the model gets the admin's own 403 instead.
        if object_id is None or not self.has_view_or_change_permission(request):
            return
        if self.get_object(request, unquote(object_id)) is None:
            raise Http404(_("Nothing here, or not yours to see."))

    def change_view(self, request, object_id, form_url="", extra_context=None):
        self._object_in_scope_or_404(request, object_id)
        return super().change_view(request, object_id, form_url, extra_context)

    def delete_view(self, request, object_id, extra_context=None):
        self._object_in_scope_or_404(request, object_id)
        return super().delete_view(request, object_id, extra_context)

    def history_view(self, request, object_id, extra_context=None):
        self._object_in_scope_or_404(request, object_id)
        return super().history_view(request, object_id, extra_context)


def view_on_site(request, content_type_id, object_id):
    """The admin's "view on site" redirect, for objects the user may view in the admin only."""
    try:
        content_type = ContentType.objects.get_for_id(content_type_id)
    except ContentType.DoesNotExist:
        raise Http404 from None
    model = content_type.model_class()
    model_admin = admin.site.get_model_admin(model) if model and admin.site.is_registered(model) else None
    if model_admin is None or not hasattr(model, "get_absolute_url"):
        raise Http404
    try:
        obj = model_admin.get_queryset(request).get(pk=unquote(object_id))
    except (ObjectDoesNotExist, ValueError):
        raise Http404 from None
    if not model_admin.has_view_or_change_permission(request, obj):
        raise Http404
    return HttpResponseRedirect(obj.get_absolute_url())
