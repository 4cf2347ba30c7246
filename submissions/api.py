"""The HTTP API for submitters (django-ninja; OpenAPI at /api/openapi.json, docs at /api/docs)."""

from ninja import NinjaAPI

api = NinjaAPI(title="Consortium Portal API", version="1", urls_namespace="api", openapi_url="/openapi.json")
