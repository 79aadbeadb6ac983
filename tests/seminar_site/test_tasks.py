import pytest
from django.core.management import call_command
from django.tasks import task_backends
from django_tasks_db.models import DBTaskResult, get_date_max

from outbox.tasks import deliver_mail


@pytest.fixture
def site_backend(settings):
    """The site's task backend ("default"), and the library's it is built on ("library"), in one database."""
    settings.TASKS = {
        "default": {"BACKEND": "seminar_site.tasks.DatabaseBackend"},
        "library": {"BACKEND": "django_tasks_db.DatabaseBackend"},
    }
    return task_backends["default"]


def test_writes_the_row_the_librarys_backend_writes(db, site_backend, django_assert_num_queries):
    with django_assert_num_queries(1):
        result = deliver_mail.using(priority=7).enqueue(41)
    theirs = deliver_mail.using(priority=7, backend="library").enqueue(41)

    assert result.backend == "default" and result.args == [41] and result.status == "READY"
    mine, expected = DBTaskResult.objects.get(pk=result.id), DBTaskResult.objects.get(pk=theirs.id)
    for field in DBTaskResult._meta.concrete_fields:
        if field.name not in ("id", "enqueued_at", "backend_name"):
            assert getattr(mine, field.attname) == getattr(expected, field.attname), field.name
    # django_tasks_db's own pre_save receiver fills the time of a task to run at once.
    assert mine.run_after == get_date_max()
    assert mine.enqueued_at is not None and mine.enqueued_at <= expected.enqueued_at
    assert site_backend.get_result(result.id).args == [41]


def test_a_deferred_task_keeps_its_time(db, site_backend):
    later = get_date_max().replace(year=2099)

    result = deliver_mail.using(run_after=later).enqueue(5)

    assert DBTaskResult.objects.get(pk=result.id).run_after == later


def test_the_librarys_worker_runs_what_it_wrote(transactional_db, site_backend):
    # Committed for real: the worker closes its database connection between tasks, as it does in production.
    result = deliver_mail.enqueue(999_999)  # no such message: delivery says so and the task succeeds

    call_command("db_worker", "--batch", "--no-startup-delay", "--backend", "default", verbosity=0)

    done = DBTaskResult.objects.get(pk=result.id)
    assert done.status == "SUCCESSFUL"
    assert done.return_value is not None


def test_enqueued_is_signalled_once_with_the_result_returned(db, site_backend):
    from django.tasks.signals import task_enqueued

    heard = []

    def receiver(sender, task_result, **kwargs):
        heard.append(task_result)

    task_enqueued.connect(receiver)
    try:
        result = deliver_mail.enqueue(7)
    finally:
        task_enqueued.disconnect(receiver)

    assert [each.id for each in heard] == [result.id]
    assert heard[0].args == [7] and heard[0].backend == "default"
