"""Demo working groups, chairs, meetings, rounds and registrations (issue 4)."""

import datetime as dt


def seed_workinggroups(*, today: dt.date, log=print) -> None:
    pass
