"""The licensing admin: how dataset admins run the whole life cycle.

Only dataset admins (staff in the Dataset admins group) and staff admins reach it. Changes of state
go through services (audited); signature records and published agreement versions are read-only.
"""

# Split by topic; importing the modules registers their ModelAdmins with the admin site.
from consortium.licensing.admin import (  # noqa: F401
    acceptances,
    access_requests,
    agreements,
    datasets,
    grants,
    licences,
)
