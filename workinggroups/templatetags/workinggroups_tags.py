"""Template filters of the working groups app: `{{ text|markdown }}`, `{{ moment|in_zone:zone_name }}`."""

import datetime as dt

from django import template

from consortium.common.markdown import render_markdown
from workinggroups import schedules

register = template.Library()


@register.filter
def markdown(text: str):
    return render_markdown(text)


@register.filter
def in_zone(moment: dt.datetime | None, time_zone: str) -> str:
    """ "Fri 15 May 2026, 13:00 PDT (20:00 UTC)": the wall clock of `time_zone`, UTC beside it (with
    the UTC date too when it differs)."""
    if moment is None:
        return "—"
    try:
        zone = schedules.zone(time_zone)
    except ValueError:
        return moment.isoformat()
    return schedules.format_moment_with_utc(moment, zone)


@register.filter
def local_input(moment: dt.datetime | None, time_zone: str) -> str:
    """The value of a datetime-local input showing `moment` in `time_zone`."""
    if moment is None:
        return ""
    return moment.astimezone(schedules.zone(time_zone)).strftime("%Y-%m-%dT%H:%M")
