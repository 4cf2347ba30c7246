from django.contrib import admin
from django.contrib.auth.decorators import login_required
from django.urls import include, path, re_path

from consortium.portal import views as portal_views
from submissions.api import api
from submissions.api import not_found as api_not_found
from submissions.results import api as _results_api  # noqa: F401  (registers the explorer's endpoint on `api`)
from submissions.review import api as _review_api  # noqa: F401  (registers the review endpoints on `api`)

# The admin logs in through allauth (MFA, rate limits), not its own form.
admin.site.login = login_required(admin.site.login)
admin.site.site_header = "Consortium Portal administration"
admin.site.site_title = "Consortium Portal admin"

urlpatterns = [
    path("healthz", portal_views.healthz, name="healthz"),
    path("admin/", admin.site.urls),
    path("accounts/", include("allauth.urls")),
    path("members/", include("consortium.members.urls")),
    path("api/", api.urls),
    re_path(r"^api/(?P<rest>.*)$", api_not_found),  # after the API's own: its 404 in the API's shape
    path("", include("submissions.results.urls")),  # before submissions: its /results/<ID>/ page
    path("", include("submissions.urls")),
    path("", include("workinggroups.urls")),
    path("datasets/", include("consortium.licensing.urls")),
    path("", include("consortium.portal.urls")),
]
