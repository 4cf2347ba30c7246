"""Submissions, check runs and the worker hardware that runs them."""

from django.db import models


class WorkerPool(models.Model):
    """A class of worker hardware; each pool is one Celery queue."""

    name = models.CharField(max_length=80, unique=True)
    queue = models.SlugField(
        max_length=80, unique=True, help_text="Celery queue: workers start with -Q <queue>"
    )
    description = models.TextField(blank=True, help_text="The hardware class, e.g. 8 vCPU, 32 GB")

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class Worker(models.Model):
    """One Celery worker process, registered by itself at start-up (submissions/heartbeat.py)."""

    hostname = models.CharField(max_length=255, unique=True, help_text="Celery node name, e.g. celery@host")
    pool = models.ForeignKey(
        WorkerPool, null=True, blank=True, on_delete=models.SET_NULL, related_name="workers"
    )
    queues = models.JSONField(default=list, blank=True)
    facts = models.JSONField(default=dict, blank=True, help_text="CPU, memory, GPUs, Python and packages")
    started_at = models.DateTimeField()
    last_heartbeat = models.DateTimeField(db_index=True)
    stopped_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["hostname"]

    def __str__(self) -> str:
        return self.hostname


class WorkerPing(models.Model):
    """A task a worker ran for a liveness probe (healthz tests, `manage.py ping_worker`)."""

    marker = models.CharField(max_length=100, unique=True)
    hostname = models.CharField(max_length=255, blank=True)
    at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return f"{self.marker} on {self.hostname}"
