from django.core.management.base import BaseCommand
from django.utils import timezone

from consortium.members.demo import seed_members


class Command(BaseCommand):
    help = "Load the demo data (idempotent): organisations, tiers, memberships, people and demo logins."

    def handle(self, *args, **options):
        today = timezone.localdate()
        self.stdout.write("Seeding demo data…")
        seed_members(today=today, log=self.stdout.write)
        # Later apps add their own seeders here (working groups, rounds, submissions, datasets).
        self.stdout.write(self.style.SUCCESS("Demo data ready."))
