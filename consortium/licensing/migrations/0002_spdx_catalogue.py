"""Seeds the licence catalogue from the SPDX list shipped offline with license-expression."""

from django.db import migrations


def seed_catalogue(apps, schema_editor):
    from consortium.licensing.spdx import KNOWN_NAMES, catalogue_entries

    Licence = apps.get_model("licensing", "Licence")
    existing = set(Licence.objects.values_list("expression", flat=True))
    Licence.objects.bulk_create(
        [
            Licence(
                expression=entry.key,
                name=KNOWN_NAMES.get(entry.key, ""),
                attribution=entry.attribution,
                share_alike=entry.share_alike,
                non_commercial=entry.non_commercial,
                from_spdx_list=True,
                is_deprecated=entry.is_deprecated,
            )
            for entry in catalogue_entries()
            if entry.key not in existing
        ],
        batch_size=500,
    )


class Migration(migrations.Migration):
    dependencies = [("licensing", "0001_initial")]

    operations = [migrations.RunPython(seed_catalogue, migrations.RunPython.noop)]
