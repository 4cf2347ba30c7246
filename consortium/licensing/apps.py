from django.apps import AppConfig


class LicensingConfig(AppConfig):
    name = "consortium.licensing"
    label = "licensing"
    verbose_name = "Dataset licensing"
