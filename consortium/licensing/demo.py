"""Demo datasets, licences, agreements, requests and grants (issue 6)."""

import datetime as dt


def seed_licensing(*, today: dt.date, log=print) -> None:
    pass
