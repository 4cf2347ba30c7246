"""Template helpers for dataset pages: safe Markdown and sizes."""

import markdown as md
import nh3
from django import template
from django.utils.safestring import mark_safe

register = template.Library()


@register.filter
def render_markdown(text: str) -> str:
    """Markdown to HTML, cleaned by nh3 (no scripts, no event handlers, safe links)."""
    html = md.markdown(text or "", extensions=["extra", "sane_lists"], output_format="html")
    return mark_safe(nh3.clean(html, link_rel="noopener noreferrer nofollow"))  # noqa: S308


@register.filter
def short_hash(value: str) -> str:
    return f"{value[:12]}…" if value else ""
