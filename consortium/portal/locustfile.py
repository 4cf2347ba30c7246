"""The load test's users (locust), one kind per role, read from the spec that `bench_load` writes:
each role's main pages (consortium.portal.pagecosts.demo_pages) with its session, plus a script
that uses the API with a token. Run by `make bench-load`; not meant to be run against a server
that is not a scratch one.
"""

import json
import os
import random
from pathlib import Path

from locust import HttpUser, between, task

SPEC = json.loads(Path(os.environ["BENCH_LOAD_SPEC"]).read_text())
# Behind the TLS proxy of a production deployment (the server runs with DEBUG off).
HEADERS = {"X-Forwarded-Proto": "https"}
# How many users of each role in the mix, relative to each other.
WEIGHTS = {
    None: 3,  # anonymous visitors
    "member@example.org": 4,
    "submitter@example.org": 4,
    "primary@example.org": 1,
    "chair@example.org": 2,
    "licensing@example.org": 1,
    "admin@example.org": 1,
}


def _role_user(login: str | None, pages: list[dict]) -> type[HttpUser]:
    class RoleUser(HttpUser):
        weight = WEIGHTS.get(login, 1)
        wait_time = between(0.2, 1.0)

        def on_start(self) -> None:
            session = SPEC["sessions"].get(login or "")
            if session:
                self.client.cookies.set(SPEC["session_cookie"], session)

        @task
        def page(self) -> None:
            page = random.choice(pages)
            with self.client.get(page["url"], name=page["name"], headers=HEADERS, catch_response=True) as response:
                if response.status_code != 200:
                    response.failure(f"HTTP {response.status_code}")

    RoleUser.__name__ = RoleUser.__qualname__ = f"User_{(login or 'anonymous').split('@')[0]}"
    return RoleUser


class ApiScript(HttpUser):
    """A submitter's script polling its submission's status and findings with a token."""

    weight = 3
    wait_time = between(0.2, 1.0)

    @task
    def call(self) -> None:
        name, url = random.choice(SPEC["api"])
        headers = {**HEADERS, "Authorization": f"Bearer {SPEC['token']}"}
        with self.client.get(url, name=name, headers=headers, catch_response=True) as response:
            if response.status_code != 200:
                response.failure(f"HTTP {response.status_code}")


_by_login: dict[str | None, list[dict]] = {}
for _page in SPEC["pages"]:
    _by_login.setdefault(_page["login"], []).append(_page)
for _login, _pages in _by_login.items():
    _cls = _role_user(_login, _pages)
    globals()[_cls.__name__] = _cls
del _cls, _login, _pages, _page
