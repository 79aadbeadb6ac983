"""Baselines: what a view costs when it does (almost) nothing of its own."""

from django.db import transaction
from django.http import HttpResponse
from django.middleware.csrf import get_token
from django.shortcuts import redirect
from django.views.decorators.http import require_GET, require_POST

from .models import Row


@require_GET
def bare(request):
    """A constant response: the cost of gunicorn, Django and the middleware alone."""
    return HttpResponse("bare")


@require_GET
def form(request):
    """A form and nothing else: the visitor's own CSRF token and cookie (the rush's baseline page)."""
    return HttpResponse(f'<form method="post"><input name="csrfmiddlewaretoken" value="{get_token(request)}"></form>')


@require_POST
def insert(request):
    """One row written in a transaction, answered with a redirect as a registration is (CSRF checked as usual)."""
    with transaction.atomic():
        Row.objects.create(name=request.POST.get("name", "")[:200])
    return redirect("bench_bare")
