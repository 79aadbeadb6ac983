"""The site's URLs, plus a view that fails with personal data in its way (error report tests)."""

import logging

from django.urls import path
from django.views.decorators.csrf import csrf_exempt

from seminar_site.urls import handler500  # noqa: F401 - handler500 is read here
from seminar_site.urls import urlpatterns as site_urlpatterns
from tests.seminar_site.failing_urls import database_away

logger = logging.getLogger("registrations.views")


@csrf_exempt  # posted by the test without a form to take a token from
def fail_with_personal_data(request, token):
    email = request.POST.get("email", "")
    logger.warning("Looking up the registration of %s", email)
    raise ValueError(f"No registration of {email} matches {token}")


urlpatterns = [
    path("r/<str:token>/explode/", fail_with_personal_data),
    path("test/database-away/", database_away),
    *site_urlpatterns,
]
