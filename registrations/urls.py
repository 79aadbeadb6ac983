from django.urls import path

from . import views

app_name = "registrations"

urlpatterns = [
    path("events/<slug:slug>/register/", views.register, name="register"),
    path("events/<slug:slug>/register/already/", views.already_registered, name="already_registered"),
    path("lost-link/", views.lost_link, name="lost_link"),
    path("lost-link/sent/", views.lost_link_sent, name="lost_link_sent"),
    path("r/<str:token>/", views.manage, name="manage"),
    path("r/<str:token>/cancel/", views.cancel, name="cancel"),
    path("r/<str:token>/ticket.png", views.ticket_png, name="ticket_png"),
    path("calendar/<str:token>/invite.ics", views.invite_ics, name="invite_ics"),
    path("r/<str:token>/attendance/", views.switch_attendance, name="switch_attendance"),
    # Emailed links with powers of their own (one token, one power); "r/" keeps them masked in logs.
    path("r/<str:token>/keep/", views.keep_seat, name="keep_seat"),
    path("r/<str:token>/free/", views.free_seat, name="free_seat"),
]
