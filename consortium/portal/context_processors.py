from django.conf import settings

from consortium.licensing.permissions import is_dataset_admin
from consortium.members.permissions import is_staff_admin, person_of


def portal(request):
    user = request.user
    person = person_of(user)
    return {
        "site_name": settings.SITE_NAME,
        "demo_mode": settings.DEMO_MODE,
        "current_person": person,
        "is_staff_admin": is_staff_admin(user),
        "is_dataset_admin": is_dataset_admin(user),
    }
