from django.apps import AppConfig


class CommonConfig(AppConfig):
    name = "consortium.common"
    label = "common"
    verbose_name = "Outgoing mail"
