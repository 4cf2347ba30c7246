"""Moved to consortium.common.mail (the bottom floor). Kept so that code written against the old
place still imports; new code imports from consortium.common.mail."""

from consortium.common.mail import mail_enqueue, site_link

__all__ = ["mail_enqueue", "site_link"]
