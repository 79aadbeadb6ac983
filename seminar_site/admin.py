"""The task queue's list and pages (django_tasks_db's admin, for superusers) with its times' zone, as everywhere."""

from django.contrib import admin
from django_tasks_db.admin import DBTaskResultAdmin as QueueAdmin
from django_tasks_db.models import DBTaskResult

from .admin_columns import ZonedTimesMixin, site_time

admin.site.unregister(DBTaskResult)


@admin.register(DBTaskResult)
class DBTaskResultAdmin(ZonedTimesMixin, QueueAdmin):
    list_display = [
        "id",
        "task_name",
        "status",
        site_time(DBTaskResult, "enqueued_at"),
        site_time(DBTaskResult, "started_at"),
        site_time(DBTaskResult, "finished_at"),
        "priority",
        "queue_name",
    ]
