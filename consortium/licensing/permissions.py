"""Who may do what in dataset licensing. Plain predicates for views, services, admin and templates.

Whether a person may *access* a dataset is not decided here but by the one predicate in access.py.
"""

from consortium.common.permissions import DATASET_ADMINS_GROUP, is_active_staff_in_group
from consortium.licensing.models import AccessRequest, Dataset
from consortium.members.models import Organisation
from consortium.members.permissions import Viewer, is_signatory, is_staff_admin, person_of


def is_dataset_admin(user: Viewer) -> bool:
    """Staff accounts in the Dataset admins group."""
    return is_active_staff_in_group(user, DATASET_ADMINS_GROUP)


def can_administer_licensing(user: Viewer) -> bool:
    """Dataset admins and staff admins run licensing (the licensing part of the admin)."""
    return is_staff_admin(user) or is_dataset_admin(user)


def can_view_dataset(user: Viewer, dataset: Dataset) -> bool:
    """Listed datasets are public; unlisted ones (drafts) only for licensing admins."""
    return dataset.is_listed or can_administer_licensing(user)


def can_request_access(user: Viewer, dataset: Dataset) -> bool:
    return person_of(user) is not None and dataset.requires_approval and dataset.is_listed


def can_change_request(user: Viewer, access_request: AccessRequest) -> bool:
    """Only the requester edits, resubmits or withdraws their own request."""
    person = person_of(user)
    return person is not None and access_request.person_id == person.pk


def can_sign_for(user: Viewer, organisation: Organisation | None) -> bool:
    """Signatories sign organisation agreements for their own organisation."""
    return organisation is not None and is_signatory(user, organisation)
