"""The bottom floor (docs/architecture.md): helpers every app may use (mail outbox and absolute links,
Markdown, pagination, CSV export, dashboard items, service errors on forms, staff groups, the seam
from services to tasks). Imports no app of ours; apps register into it from their AppConfig.ready()."""
