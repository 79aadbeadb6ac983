"""What the people who run the site watch: metrics for Prometheus at /metrics, error reports to Sentry.

Built on prometheus-client itself rather than django-prometheus: the site needs
a dozen metrics of its own, labelled by route name, figures the apps compute
from the database at scrape time, and a scrape address behind a token or a
list of networks that is answered before host checks and redirects.
django-prometheus's middleware and export view would still need all of that
around them, and its database and cache metrics need its own backends in
place of the site's (seminar_site.cache).
"""
