"""A Celery worker bootstep: register the worker with its hardware facts, then beat every few seconds.

The database is the source of truth for which workers are alive (healthz, the reaper), so the
heartbeat is written there rather than relying on broker events.
"""

import logging

from celery import bootsteps

logger = logging.getLogger(__name__)


# consortium/celery.py loads this module before Django is set up: the methods import what needs it.
class HeartbeatStep(bootsteps.StartStopStep):
    requires = {"celery.worker.components:Timer"}

    def __init__(self, worker, **kwargs):
        super().__init__(worker, **kwargs)
        self.tref = None

    def start(self, worker):
        from django.conf import settings

        from submissions import services

        queues = sorted(q.name for q in worker.app.amqp.queues.consume_from.values()) if worker.app else []
        try:
            services.worker_register(hostname=worker.hostname, queues=queues)
        except Exception:  # a database hiccup must not stop the worker from starting
            logger.exception("worker registration failed; will retry with the next heartbeat")
        self.tref = worker.timer.call_repeatedly(
            settings.WORKER_HEARTBEAT_INTERVAL, self._beat, (worker.hostname, queues), priority=10
        )

    def _beat(self, hostname: str, queues: list[str]) -> None:
        from django.db import close_old_connections

        from submissions import services

        try:
            services.worker_heartbeat(hostname=hostname, queues=queues)
        except Exception:
            logger.exception("heartbeat failed")
        finally:
            close_old_connections()

    def stop(self, worker):
        from submissions import services

        if self.tref is not None:
            self.tref.cancel()
        try:
            services.worker_stopped(hostname=worker.hostname)
        except Exception:
            logger.exception("could not record worker stop")
