"""The seam from services to tasks: a task is sent by its registered name, with the task's own
eager mode, found even where no task module was imported yet, and an unknown name fails loudly."""

import os
import subprocess
import sys
from pathlib import Path

import pytest
from celery import shared_task
from celery.exceptions import NotRegistered

from consortium.common.dispatch import task_send

PROJECT = Path(__file__).resolve().parents[2]
RECEIVED: list[dict] = []


@shared_task(name="tests.dispatch_probe")
def dispatch_probe(**kwargs: object) -> None:
    RECEIVED.append(kwargs)


def test_task_send_runs_the_task_registered_under_the_name(settings):
    settings.CELERY_TASK_ALWAYS_EAGER = True  # the task object's own eager mode applies, as with .delay()
    RECEIVED.clear()
    task_send("tests.dispatch_probe", kwargs={"run_id": 7, "attempt": 2}, queue="default")
    assert RECEIVED == [{"run_id": 7, "attempt": 2}]


def test_an_unknown_task_name_raises():
    with pytest.raises(NotRegistered):
        task_send("tests.no_such_task", kwargs={})


def test_a_web_process_finds_the_task_although_no_task_module_was_imported():
    script = (
        "import sys, django; django.setup()\n"
        "assert 'submissions.tasks' not in sys.modules, 'imported before the seam asked'\n"
        "from consortium.common.dispatch import registered_task\n"
        "print(registered_task('submissions.check_run_execute').name)\n"
    )
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "tests.settings"}
    done = subprocess.run(
        [sys.executable, "-c", script], cwd=PROJECT, env=env, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "submissions.check_run_execute"
