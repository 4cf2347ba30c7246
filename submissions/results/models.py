"""What the explorer adds to the published record, in tables of its own (imported by
submissions/models.py). Filled at publication from the frozen version; never changed after."""

from django.db import models


class PublishedResultDetail(models.Model):
    """A published result's system facts that the published record does not carry."""

    result = models.OneToOneField(
        "submissions.PublishedResult", on_delete=models.PROTECT, related_name="detail", primary_key=True
    )
    suite = models.CharField(max_length=20, db_index=True, help_text="The round's suite, copied for filtering")
    host_processor = models.CharField(max_length=300, blank=True)
    host_processor_count = models.PositiveIntegerField(null=True, blank=True, help_text="Per node × nodes")
    description = models.JSONField(default=dict, blank=True, help_text="systems/<system>.json as frozen")

    def __str__(self) -> str:
        return f"Details of {self.result_id}"


class PublishedScoreDetail(models.Model):
    """A published score's runs (behind the olympic mean), model and scenario, and accuracy."""

    score = models.OneToOneField(
        "submissions.PublishedScore", on_delete=models.PROTECT, related_name="detail", primary_key=True
    )
    model = models.CharField(max_length=100, blank=True, db_index=True, help_text="Training: the benchmark")
    scenario = models.CharField(max_length=40, blank=True, help_text="Inference only (Offline, Server, …)")
    runs = models.JSONField(default=list, blank=True, help_text="[{file, minutes, compliant, counted}]")
    accuracy = models.FloatField(null=True, blank=True, help_text="Inference only")
    accuracy_metric = models.CharField(max_length=40, blank=True)
    power = models.FloatField(null=True, blank=True, help_text="Inference, where power is measured")
    power_units = models.CharField(max_length=20, blank=True)

    def __str__(self) -> str:
        return f"Details of score {self.score_id}"
