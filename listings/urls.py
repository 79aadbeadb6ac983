from django.urls import path
from django.views.decorators.cache import cache_control

from . import feeds, views

app_name = "listings"

# Feed readers poll; a few minutes of caching spares the database.
cached = cache_control(public=True, max_age=views.MAX_AGE)

urlpatterns = [
    path("talks.atom", cached(feeds.UpcomingTalksFeed()), name="talks_atom"),
    path("talks.json", views.talks_json, name="talks_json"),
    path("series/<slug:slug>/talks.atom", cached(feeds.SeriesTalksFeed()), name="series_talks_atom"),
    path("series/<slug:slug>/talks.json", views.series_talks_json, name="series_talks_json"),
    path("series/<slug:slug>/embed/", views.series_embed_frame, name="series_embed_frame"),
    path("talks/past.atom", cached(feeds.PastTalksFeed()), name="past_talks_atom"),
    path("talks/past.json", views.past_talks_json, name="past_talks_json"),
    path("series/<slug:slug>/past.atom", cached(feeds.SeriesPastTalksFeed()), name="series_past_talks_atom"),
    path("series/<slug:slug>/past.json", views.series_past_talks_json, name="series_past_talks_json"),
]
