"""Reminders already sent become sent rows of the outbox under the keys that
workinggroups/services.py (`reminder_key`) uses, so none goes out again; then SentReminder goes."""

import datetime as dt

from django.db import migrations


def copy_reminders(apps, schema_editor):
    SentReminder = apps.get_model("workinggroups", "SentReminder")
    OutgoingMail = apps.get_model("common", "OutgoingMail")
    rows = []
    for r in SentReminder.objects.all().iterator():
        key = f"workinggroups.reminder:{r.kind}:{r.phase_id}:{r.about.astimezone(dt.UTC):%Y%m%dT%H%M%S}"
        rows.append(
            OutgoingMail(
                key=f"{key}→{r.recipient.strip().lower()}"[:255],
                to=r.recipient,
                subject="(sent before the outbox existed)",
                body="",
                about=key,
                state="sent",
                attempts=1,
                due_at=r.sent_at,
                sent_at=r.sent_at,
                created_at=r.sent_at,
            )
        )
    OutgoingMail.objects.bulk_create(rows, batch_size=500, ignore_conflicts=True)


class Migration(migrations.Migration):
    dependencies = [
        ("workinggroups", "0001_initial"),
        ("common", "0001_initial"),
    ]

    operations = [
        migrations.RunPython(copy_reminders, migrations.RunPython.noop),
        migrations.DeleteModel(name="SentReminder"),
    ]
