import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "seminar_site.settings")

application = get_wsgi_application()

# The page cache's release fingerprint reads the site's files (a few hundred, tens of milliseconds):
# once as the worker starts, not in its first visitor's request.
from seminar_site.pagecache.release import release  # noqa: E402

release()
