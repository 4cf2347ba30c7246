"""Grant notices already sent become sent rows of the outbox under the keys that
licensing/notices.py uses (one per recorded recipient, or one without recipient when none was
recorded, so that `grant_notice_sent` still finds it); then GrantNotice goes."""

from django.db import migrations


def copy_grant_notices(apps, schema_editor):
    GrantNotice = apps.get_model("licensing", "GrantNotice")
    OutgoingMail = apps.get_model("common", "OutgoingMail")
    rows = []
    for n in GrantNotice.objects.all().iterator():
        key = f"licensing.grant:{n.grant_id}:{n.kind}:{n.reference}"
        for recipient in n.recipients or [""]:
            rows.append(
                OutgoingMail(
                    key=f"{key}→{recipient.strip().lower()}"[:255],
                    to=recipient,
                    subject="(sent before the outbox existed)",
                    body="",
                    about=f"licensing.grant:{n.grant_id}",
                    state="sent",
                    attempts=1,
                    due_at=n.sent_at,
                    sent_at=n.sent_at,
                    created_at=n.sent_at,
                )
            )
    OutgoingMail.objects.bulk_create(rows, batch_size=500, ignore_conflicts=True)


class Migration(migrations.Migration):
    dependencies = [
        ("licensing", "0003_acceptance_verbose_name"),
        ("common", "0001_initial"),
    ]

    operations = [
        migrations.RunPython(copy_grant_notices, migrations.RunPython.noop),
        migrations.DeleteModel(name="GrantNotice"),
    ]
