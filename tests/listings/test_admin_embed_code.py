"""The series admin page: the snippets to paste (listings) and the sites that may frame them (events)."""

from tests.admin_forms import inline_management_data


def test_series_admin_offers_the_embed_code_and_takes_the_sites_that_may_frame_it(admin_client, series):
    url = f"/admin/events/series/{series.pk}/change/"
    page = admin_client.get(url).content.decode()

    assert "https://seminars.example.edu/static/listings/embed.js" in page
    assert "data-source=&quot;https://seminars.example.edu/series/ifml-seminar/talks.json&quot;" in page
    assert "https://seminars.example.edu/series/ifml-seminar/embed/" in page

    data = {
        "name": series.name,
        "slug": series.slug,
        "description": "",
        "organizer_name": series.organizer_name,
        "organizer_email": series.organizer_email,
        "embed_origins": "HTTPS://www.CS.utexas.edu/\nhttps://ml.utexas.edu",
        "default_duration_minutes": "60",
    } | inline_management_data(admin_client, url)
    response = admin_client.post(url, data)
    assert response.status_code == 302
    series.refresh_from_db()
    assert series.embed_origins == "https://www.cs.utexas.edu\nhttps://ml.utexas.edu"

    response = admin_client.post(
        url, data | {"embed_origins": "https://ok.example.edu\nhttps://x.example; script-src *"}
    )
    assert response.status_code == 200
    assert "is not a web origin" in response.content.decode()
    series.refresh_from_db()
    assert series.embed_origins == "https://www.cs.utexas.edu\nhttps://ml.utexas.edu"


def test_embed_code_escapes_the_series_name(admin_client, series):
    series.name = 'Theory <script>alert("x")</script>'
    series.save()
    page = admin_client.get(f"/admin/events/series/{series.pk}/change/").content.decode()
    assert "<script>alert" not in page
    # Escaped once for the snippet itself, once more to show the snippet as text.
    assert "Theory &amp;lt;script&amp;gt;alert(&amp;quot;x&amp;quot;)&amp;lt;/script&amp;gt;: upcoming talks" in page
