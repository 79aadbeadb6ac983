"""What the event admin's forms post, for tests that submit them."""

from django.utils import timezone


def event_form_data(*, series, venue, speakers, start, end, **fields):
    """The event add/change form's fields, as a browser posts them; `fields` override by name."""
    start, end = timezone.localtime(start), timezone.localtime(end)
    data = {
        "series": series.pk,
        "title": "A new talk",
        "slug": "a-new-talk",
        "status": "published",
        "speakers": [speaker.pk for speaker in speakers],
        "abstract": "Something interesting.",
        "venue": venue.pk,
        "start_0": start.strftime("%Y-%m-%d"),
        "start_1": start.strftime("%H:%M:%S"),
        "end_0": end.strftime("%Y-%m-%d"),
        "end_1": end.strftime("%H:%M:%S"),
        "capacity": "",
        "registration_opens_0": "",
        "registration_opens_1": "",
        "registration_closes_0": "",
        "registration_closes_1": "",
        "waitlist_enabled": "on",
        "waitlist_limit": "",
        "attendance_mode": "in_person",
        "online_capacity": "",
        "stream_url": "",
        "stream_reveal_minutes": "",
    }
    return data | fields


def inline_management_data(client, url):
    """The management forms of whatever inlines the event admin has (other apps may add some)."""
    response = client.get(url)
    data = {}
    for inline in response.context["inline_admin_formsets"]:
        form = inline.formset.management_form
        data |= {form[name].html_name: form[name].value() for name in form.fields}
    return data
