from django.apps import AppConfig


class PortalConfig(AppConfig):
    name = "consortium.portal"
    label = "portal"
    verbose_name = "Portal"
