from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from consortium.licensing.demo import seed_licensing
from consortium.members.demo import seed_members
from submissions.demo import seed_submissions
from submissions.review.demo import seed_review
from workinggroups.demo import seed_workinggroups


class Command(BaseCommand):
    help = "Load the demo data (idempotent): organisations, tiers, memberships, people and demo logins."

    def handle(self, *args, **options):
        if not settings.DEMO_MODE:
            raise CommandError(
                "seed_demo creates demo accounts with a published password (a superuser among them), so it "
                "runs only in demo mode. Set DEMO_MODE=1 (`make run` does) on a machine that is not a deployment."
            )
        today = timezone.localdate()
        self.stdout.write("Seeding demo data…")
        seed_members(today=today, log=self.stdout.write)
        seed_workinggroups(today=today, log=self.stdout.write)
        seed_submissions(today=today, log=self.stdout.write)
        seed_review(today=today, log=self.stdout.write)
        seed_licensing(today=today, log=self.stdout.write)
        self.stdout.write(self.style.SUCCESS("Demo data ready."))
