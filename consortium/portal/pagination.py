"""Moved to consortium.common.pagination (the bottom floor). Kept only until workinggroups/views.py,
being split on another branch, imports it from there."""

from consortium.common.pagination import PER_PAGE, paginate

__all__ = ["PER_PAGE", "paginate"]
