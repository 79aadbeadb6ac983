"""The task queue's list (django_tasks_db's admin, for superusers) with its times' zone, as every list here."""

from django.contrib import admin
from django_tasks_db.admin import DBTaskResultAdmin as QueueAdmin
from django_tasks_db.models import DBTaskResult

from .admin_columns import site_time

admin.site.unregister(DBTaskResult)


@admin.register(DBTaskResult)
class DBTaskResultAdmin(QueueAdmin):
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
