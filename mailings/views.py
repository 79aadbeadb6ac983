from django.contrib.admin.views.decorators import staff_member_required
from django.shortcuts import get_object_or_404, redirect
from django.urls import reverse

from events.models import Event


@staff_member_required
def compose(request, pk):
    """From a talk's admin page to a new message to its registrants."""
    event = get_object_or_404(Event.objects.managed_by(request.user), pk=pk)
    return redirect(reverse("admin:mailings_mailing_add") + f"?event={event.pk}")
