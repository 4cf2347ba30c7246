"""The licence catalogue in the admin."""

from django.contrib import admin

from consortium.licensing.admin._shared import LicensingAdminMixin
from consortium.licensing.admin_forms import (
    LicenceAdminForm,
)
from consortium.licensing.models import (
    Licence,
)


@admin.register(Licence)
class LicenceAdmin(LicensingAdminMixin, admin.ModelAdmin):
    form = LicenceAdminForm
    list_display = (
        "expression",
        "name",
        "attribution",
        "share_alike",
        "non_commercial",
        "members_only",
        "from_spdx_list",
        "is_deprecated",
    )
    list_filter = ("attribution", "share_alike", "non_commercial", "members_only", "from_spdx_list", "is_deprecated")
    search_fields = ("expression", "name")
    list_per_page = 50
