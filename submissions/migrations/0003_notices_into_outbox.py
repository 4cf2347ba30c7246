"""Notices already sent about versions become sent rows of the outbox under the same idempotency
keys that submissions/notices.py uses, so none of them goes out again; then Notice goes."""

from django.db import migrations


def copy_notices(apps, schema_editor):
    Notice = apps.get_model("submissions", "Notice")
    OutgoingMail = apps.get_model("common", "OutgoingMail")
    rows = [
        OutgoingMail(
            key=f"submissions.version:{n.version_id}:{n.kind}→{n.recipient.strip().lower()}"[:255],
            to=n.recipient,
            subject="(sent before the outbox existed)",
            body="",
            about=f"submissions.version:{n.version_id}",
            state="sent",
            attempts=1,
            due_at=n.sent_at,
            sent_at=n.sent_at,
            created_at=n.sent_at,
        )
        for n in Notice.objects.all().iterator()
    ]
    OutgoingMail.objects.bulk_create(rows, batch_size=500, ignore_conflicts=True)


class Migration(migrations.Migration):
    dependencies = [
        ("submissions", "0002_score_scaling"),
        ("common", "0001_initial"),
    ]

    operations = [
        migrations.RunPython(copy_notices, migrations.RunPython.noop),
        migrations.DeleteModel(name="Notice"),
    ]
