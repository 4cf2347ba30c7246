from django.db import migrations, models
from django.db.models import F


def frozen_when_published(apps, schema_editor):
    apps.get_model("submissions", "Publication").objects.update(frozen_at=F("published_at"))


class Migration(migrations.Migration):
    dependencies = [("submissions", "0004_merge_20261203_1158")]

    operations = [
        migrations.AddField(model_name="publication", name="frozen_at", field=models.DateTimeField(null=True)),
        migrations.RunPython(frozen_when_published, migrations.RunPython.noop),
        migrations.AlterField(
            model_name="publication",
            name="frozen_at",
            field=models.DateTimeField(help_text="When the record was frozen (the run, at or after that moment)"),
        ),
        migrations.AlterField(
            model_name="publication",
            name="published_at",
            field=models.DateTimeField(help_text="The round's publication moment (the embargo's end)"),
        ),
    ]
