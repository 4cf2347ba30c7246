"""Template helpers for dataset pages: safe Markdown and sizes."""

from django import template

from consortium.common import markdown

register = template.Library()


@register.filter
def render_markdown(text: str) -> str:
    """Markdown to safe HTML: the portal's one renderer (consortium/common/markdown.py)."""
    return markdown.render_markdown(text)


@register.filter
def short_hash(value: str) -> str:
    return f"{value[:12]}…" if value else ""
