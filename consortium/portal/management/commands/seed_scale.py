import time

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import connection

from consortium.members.models import Organisation
from consortium.portal.scale import ScaleCounts, seed_scale


class Command(BaseCommand):
    help = (
        "Add scale data on top of the demo data (idempotent; needs DEMO_MODE): 60 organisations, 5,000 people, "
        "40 rounds, 20,000 submission versions with their checks and findings, datasets, grants, audit events."
    )

    def add_arguments(self, parser):
        parser.add_argument("--scale", type=float, default=1.0, help="Scale factor for every count (default 1)")
        for name in ("organisations", "people", "rounds", "versions", "datasets"):
            parser.add_argument(f"--{name}", type=int, default=None, help=f"Number of {name} (overrides --scale)")

    def handle(self, *args, **options):
        if not settings.DEMO_MODE:
            raise CommandError(
                "seed_scale adds invented data and runs only with DEMO_MODE on (DEMO_MODE=true); "
                "never point it at a production database."
            )
        if options["scale"] <= 0:
            raise CommandError("--scale must be a positive number, e.g. 1 or 0.01.")
        if not Organisation.objects.filter(slug="nvidia").exists():
            raise CommandError("seed_scale builds on the demo data: run `python manage.py seed_demo` first.")
        counts = ScaleCounts.at(
            options["scale"], **{k: options[k] for k in ("organisations", "people", "rounds", "versions", "datasets")}
        )
        self.stdout.write(
            f"Seeding scale data: {counts.organisations} organisations, {counts.people} people, "
            f"{counts.rounds} rounds, {counts.versions} submission versions, {counts.datasets} datasets…"
        )
        start = time.perf_counter()
        created = seed_scale(counts=counts, log=self.stdout.write)
        if connection.vendor == "postgresql" and any(created.values()):
            # Fresh planner statistics after bulk loading, as autovacuum would give them a little
            # later: plans and the admin's estimated counts then see the real sizes.
            with connection.cursor() as cursor:
                cursor.execute("ANALYZE")
        took = time.perf_counter() - start
        if any(created.values()):
            for what, n in created.items():
                self.stdout.write(f"  created {n:>7,} {what}")
        else:
            self.stdout.write("  nothing to add: the scale data is already there")
        self.stdout.write(self.style.SUCCESS(f"Scale data ready in {took:.1f} s."))
