"""The task backend: django_tasks_db's, its task rows written by an INSERT compiled once.

Tasks are written on busy paths: the outbox's wake-ups of the email worker
(outbox/delivery.py: up to two a second per process in a rush of sign-ups),
an announcement's fan-out. The library's backend writes each through
`Model.save`, whose compiling of the INSERT costs more than the row; this backend writes the
same row (same values, the same pre_save and post_save signals, so
django_tasks_db's own receiver still fills `run_after`) with
`seminar_site.statements.PreparedInsert`, and builds the TaskResult it returns
once. Everything else (the worker, results, pruning) is the library's.
"""

import functools

from django.db.models import Expression
from django_tasks_db import backend
from django_tasks_db.compat import normalize_json, task_enqueued

from .statements import PreparedInsert


@functools.cache
def _new_task() -> PreparedInsert:
    # The model is imported once apps are loaded: the backend itself is built earlier, from settings.
    from django_tasks_db.models import DBTaskResult

    return PreparedInsert(DBTaskResult)


class DatabaseBackend(backend.DatabaseBackend):
    def enqueue(self, task, args, kwargs):
        # As the library's enqueue, with the result built once instead of twice (for the signal, then the caller).
        self.validate_task(task)
        result = self._task_to_db_task(task, args, kwargs).task_result
        task_enqueued.send(type(self), task_result=result)
        return result

    def _task_to_db_task(self, task, args, kwargs):
        task_id = self._get_id()
        if isinstance(task_id, Expression):
            # An id the database makes (an `id_function` option): the library's own insert.
            return super()._task_to_db_task(task, args, kwargs)
        new_task = _new_task()
        # The values django_tasks_db's DatabaseBackend._task_to_db_task gives (tests/seminar_site/test_tasks.py).
        return new_task.insert(
            new_task.model(
                id=task_id,
                args_kwargs=normalize_json({"args": args, "kwargs": kwargs}),
                priority=task.priority,
                task_path=task.module_path,
                queue_name=task.queue_name,
                run_after=task.run_after,
                backend_name=self.alias,
            )
        )
