"""The one seam from services to Celery tasks: a task is sent by the name it is registered under, so
that a service never imports its app's task module (the tasks import the services; the arrow goes
one way). Imports no app."""

from typing import Any

from celery import Task, current_app


def registered_task(name: str) -> Task:
    """The task registered as `name`. A process that has not imported the task modules yet (a web
    process) imports them first, through Celery's autodiscovery, as a worker does when it starts.
    An unknown name raises `celery.exceptions.NotRegistered`."""
    if name not in current_app.tasks:
        current_app.loader.import_default_modules()
    return current_app.tasks[name]


def task_send(name: str, *, kwargs: dict[str, Any], **options: Any) -> None:
    """`apply_async` of the task registered as `name`: the same routing, options and eager mode as
    calling the task object itself."""
    registered_task(name).apply_async(kwargs=kwargs, **options)
