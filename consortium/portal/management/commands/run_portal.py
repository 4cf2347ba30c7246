import os
import shutil
import sys
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand

from consortium.members.demo import DEMO_LOGINS, DEMO_PASSWORD
from submissions.models import WorkerPool


class Command(BaseCommand):
    help = "Run the web server, a Celery worker and the beat scheduler together (Ctrl-C stops all)."

    def handle(self, *args, **options):
        # Honcho sets PORT for each process itself, so the portal reads PORTAL_HOST/PORTAL_PORT.
        host, port = os.environ.get("PORTAL_HOST", "127.0.0.1"), os.environ.get("PORTAL_PORT", "8000")
        db = settings.DATABASES["default"]["ENGINE"].rsplit(".", 1)[-1]
        broker = "Redis" if settings.REDIS_URL else f"embedded filesystem broker in {settings.BROKER_DIR}"
        self.stdout.write(self.style.SUCCESS(f"\nPortal: http://{host}:{port}/"))
        self.stdout.write(f"Database: {db} · Broker: {broker}")
        if settings.DEMO_MODE:
            self.stdout.write(f"Demo logins (password {DEMO_PASSWORD}):")
            for email, name, org, *_ in DEMO_LOGINS:
                self.stdout.write(f"  {email:<24} {name}{f' ({org})' if org else ''}")
        self.stdout.write("Ctrl-C stops the web server, the worker and beat.\n")
        bin_dir = str(Path(sys.executable).parent)
        env = {**os.environ, "PATH": bin_dir + os.pathsep + os.environ.get("PATH", "")}
        # The embedded worker serves every pool's queue, so all checks run on this one machine.
        queues = sorted({settings.CELERY_TASK_DEFAULT_QUEUE, *WorkerPool.objects.values_list("queue", flat=True)})
        env.setdefault("WORKER_QUEUES", ",".join(queues))
        self.stdout.write(f"Worker queues: {env['WORKER_QUEUES']}")
        honcho = shutil.which("honcho", path=env["PATH"])
        procfile = str(Path(settings.BASE_DIR) / "Procfile")
        os.chdir(settings.BASE_DIR)
        os.execve(honcho, [honcho, "start", "-f", procfile], env)
