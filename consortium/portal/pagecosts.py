"""The pages a person uses, for each role, and what each costs: queries and time.

Shared by the query-count tests (tests/portal/test_query_counts.py), `make bench-pages`
(consortium/portal/bench_pages.py) and the load test's page mix (consortium/portal/locustfile.py).
The pages are found on the demo data (`seed_demo`, optionally with `seed_scale` on top): the demo
logins, NVIDIA, the Training group and its round v5.1, NVIDIA's submission with the most findings.
"""

from __future__ import annotations

import statistics
import time
from dataclasses import dataclass

from django.contrib import admin
from django.db import connection, reset_queries
from django.db.models import Count
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse


@dataclass(frozen=True)
class Page:
    name: str
    login: str | None  # the email of the demo login, None for anonymous
    url: str


@dataclass(frozen=True)
class Cost:
    page: Page
    status: int
    queries: int
    seconds: float  # the median of the timed requests


def _first_slug(model, **filters) -> str | None:
    obj = model.objects.filter(**filters).order_by("pk").first()
    return obj.slug if obj else None


def demo_pages(
    *,
    member: str = "member@example.org",
    submitter: str = "submitter@example.org",
    primary: str = "primary@example.org",
    chair: str = "chair@example.org",
    dataset_admin: str = "licensing@example.org",
    staff: str = "admin@example.org",
    organisation: str = "nvidia",
    group: str = "training",
    round: str | None = None,
    dataset: str | None = None,
) -> list[Page]:
    """Every page of issue 15's list, as the role that uses it; admin changelists as staff."""
    from consortium.licensing.models import Dataset
    from submissions.models import Submission
    from workinggroups.models import Round

    dataset = dataset or _first_slug(Dataset)
    if round is None:  # the group's round with the most submissions: its lists are the longest
        busiest = (
            Round.objects.filter(group__slug=group, published=True)
            .annotate(n=Count("submissions"))
            .order_by("-n", "-pk")
            .first()
        )
        round = busiest.slug if busiest else "training-v5-1"
    submission = (
        Submission.objects.filter(organisation__slug=organisation)
        .annotate(n=Count("versions__check_runs__findings"))
        .order_by("-n", "pk")
        .first()
    )
    pages = [
        Page("home (anonymous)", None, "/"),
        Page("working groups (anonymous)", None, reverse("workinggroups:group_list")),
        Page("rounds (anonymous)", None, reverse("workinggroups:round_list")),
        Page("API rounds (anonymous)", None, reverse("api:rounds")),
        Page("home (member)", member, "/"),
        Page("dashboard (member)", member, reverse("portal:dashboard")),
        Page("directory", member, reverse("members:directory")),
        Page("organisation", member, reverse("members:organisation", kwargs={"slug": organisation})),
        Page("working groups", member, reverse("workinggroups:group_list")),
        Page("working group", member, reverse("workinggroups:group_detail", kwargs={"slug": group})),
        Page("rounds", member, reverse("workinggroups:round_list")),
        Page("round", member, reverse("workinggroups:round_detail", kwargs={"slug": round})),
        Page("my calendar", member, reverse("workinggroups:my_calendar")),
        Page("datasets", member, reverse("licensing:catalogue")),
        Page("my grants", member, reverse("licensing:mine")),
        Page("dashboard (submitter)", submitter, reverse("portal:dashboard")),
        Page("my submissions", submitter, reverse("submissions:mine")),
        Page("round submissions (submitter)", submitter, reverse("submissions:round", kwargs={"slug": round})),
        Page("results", submitter, reverse("submissions:results", kwargs={"slug": round})),
        Page("API rounds (submitter)", submitter, reverse("api:rounds")),
        Page("datasets (submitter)", submitter, reverse("licensing:catalogue")),
        Page("my grants (submitter)", submitter, reverse("licensing:mine")),
        Page("dashboard (primary contact)", primary, reverse("portal:dashboard")),
        Page("organisation (primary contact)", primary, reverse("members:organisation", kwargs={"slug": organisation})),
        Page("roster", primary, reverse("members:roster", kwargs={"slug": organisation})),
        Page("dashboard (chair)", chair, reverse("portal:dashboard")),
        Page("working group (chair)", chair, reverse("workinggroups:group_detail", kwargs={"slug": group})),
        Page("group members (chair)", chair, reverse("workinggroups:group_members", kwargs={"slug": group})),
        Page("join requests (chair)", chair, reverse("workinggroups:join_requests", kwargs={"slug": group})),
        Page("group rounds (chair)", chair, reverse("workinggroups:group_rounds", kwargs={"slug": group})),
        Page("schedule (chair)", chair, reverse("workinggroups:round_schedule", kwargs={"slug": round})),
        Page("round submissions (chair)", chair, reverse("submissions:round", kwargs={"slug": round})),
        Page("dashboard (dataset admin)", dataset_admin, reverse("portal:dashboard")),
        Page("dashboard (staff)", staff, reverse("portal:dashboard")),
        Page("workers", staff, reverse("submissions:workers")),
        Page("disagreements", staff, reverse("submissions:disagreements")),
        Page("round submissions (staff)", staff, reverse("submissions:round", kwargs={"slug": round})),
    ]
    if dataset:
        pages += [
            Page("dataset", member, reverse("licensing:dataset", kwargs={"slug": dataset})),
            Page("dataset (submitter)", submitter, reverse("licensing:dataset", kwargs={"slug": dataset})),
        ]
    if submission is not None:
        pk = submission.pk
        pages += [
            Page("submission", submitter, reverse("submissions:detail", kwargs={"pk": pk})),
            Page("API submission", submitter, reverse("api:submission", kwargs={"submission_id": pk})),
            Page("API findings", submitter, reverse("api:findings", kwargs={"submission_id": pk})),
            Page("submission (staff)", staff, reverse("submissions:detail", kwargs={"pk": pk})),
        ]
    pages += [Page("licensing pending work", dataset_admin, reverse("admin:licensing_dataset_dashboard"))]
    for model in sorted(admin.site._registry, key=lambda m: (m._meta.app_label, m._meta.model_name)):
        opts = model._meta
        login = dataset_admin if opts.app_label == "licensing" else staff
        url = reverse(f"admin:{opts.app_label}_{opts.model_name}_changelist")
        pages.append(Page(f"admin {opts.app_label}.{opts.model_name}", login, url))
    return pages


def clients_for(pages: list[Page]) -> dict[str | None, Client]:
    """One logged-in client per login (and one anonymous)."""
    from django.contrib.auth import get_user_model

    User = get_user_model()
    clients: dict[str | None, Client] = {}
    for login in {p.login for p in pages}:
        client = Client()
        if login is not None:
            client.force_login(User.objects.get(email__iexact=login))
        clients[login] = client
    return clients


def measure(page: Page, client: Client, *, repeat: int = 1) -> Cost:
    """Fetch the page once to count its queries (after one warm-up), then `repeat` more times to
    time it; the median of the timed requests."""
    client.get(page.url)  # warm-up: sessions, caches, template loading
    reset_queries()  # the log is a bounded deque: a full one would count nothing
    with CaptureQueriesContext(connection) as queries:
        response = client.get(page.url)
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        client.get(page.url)
        times.append(time.perf_counter() - start)
    return Cost(page, response.status_code, len(queries), statistics.median(times) if times else 0.0)
