from django.apps import AppConfig
from django.db.models.signals import post_migrate

LICENSING_MODELS = (
    "licence",
    "agreement",
    "agreementversion",
    "dataset",
    "datasetsubset",
    "acceptance",
    "accessrequest",
    "grant",
)


def grant_dataset_admin_permissions(**kwargs) -> None:
    """The Dataset admins group holds every licensing model permission (the admin also checks the
    group itself, so the permissions alone open nothing to other staff)."""
    from django.contrib.auth.models import Group, Permission

    from consortium.common.permissions import DATASET_ADMINS_GROUP

    group, _ = Group.objects.get_or_create(name=DATASET_ADMINS_GROUP)
    perms = Permission.objects.filter(content_type__app_label="licensing", content_type__model__in=LICENSING_MODELS)
    group.permissions.add(*perms)


class LicensingConfig(AppConfig):
    name = "consortium.licensing"
    label = "licensing"
    verbose_name = "Dataset licensing"

    def ready(self) -> None:
        from consortium.common.attention import register_attention_provider
        from consortium.licensing.selectors import attention_items
        from consortium.licensing.services import grants_suspend_for_departure
        from consortium.members.services import register_departure_hook

        register_departure_hook(grants_suspend_for_departure)
        register_attention_provider(attention_items, order=50)
        post_migrate.connect(grant_dataset_admin_permissions, sender=self, dispatch_uid="licensing-admin-perms")
