"""Background work for the task worker (`manage.py db_worker`)."""

from django.tasks import task

from . import services


@task
def fan_out(dispatch_id: int) -> int:
    """Queue one announcement or digest to each follower who asked for it; a no-op once done."""
    return services.fan_out(dispatch_id=dispatch_id)
