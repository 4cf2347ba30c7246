"""Demo datasets, licences, agreements, requests and grants (issue 6).

The People's Speech and Multilingual Spoken Words are real MLCommons datasets with their published
licences; the agreement texts, the automotive and clinical datasets are invented examples and say so.
Everything goes through the services (so it is audited) and is idempotent.
"""

import datetime as dt

from django.contrib.auth import get_user_model
from django.db import transaction

from consortium.licensing import services
from consortium.licensing.apps import grant_dataset_admin_permissions
from consortium.licensing.models import (
    Acceptance,
    AccessRequest,
    Agreement,
    AgreementVersion,
    Dataset,
    DatasetSubset,
    Grant,
    Licence,
)
from consortium.members.models import Person

PEOPLES_SPEECH_TERMS = """\
# The People's Speech: terms of use (example)

*An example agreement written for the portal demo; it is not MLCommons' legal text.*

1. The People's Speech is published under Creative Commons licences: each part of the dataset
   carries its own licence (CC-BY-4.0 or CC-BY-SA-4.0), shown on the dataset page.
2. You credit the dataset as shown under “How to cite” in any publication or product that uses it.
3. Derived data of the share-alike part is published under CC-BY-SA-4.0.
4. You do not try to identify the speakers.
5. The consortium may end access if these terms are broken.
"""

AUTOMOTIVE_TERMS = """\
# Automotive perception data: organisation agreement (example)

*An example agreement written for the portal demo.*

1. This agreement is signed by an authorised signatory of a member organisation, for the whole
   organisation. Every approved person of the organisation may then use the data.
2. The data is used only for benchmarking within the consortium and is not redistributed.
3. Access ends when the organisation's membership lapses or is withdrawn.
4. The organisation deletes the data within 30 days after access ends.
"""

CLINICAL_TERMS = """\
# Clinical speech benchmark: research agreement (example)

*An example agreement written for the portal demo.*

1. The data is used only for the purpose stated in the approved access request.
2. The data stays on systems under your institution's control and is not shared.
3. No attempt is made to re-identify any speaker.
4. Results are published only in aggregate form.
"""

DATASETS = [
    {
        "slug": "peoples-speech",
        "name": "The People's Speech",
        "summary": "30,000+ hours of transcribed English speech from diverse sources.",
        "description": (
            "A free-to-download, large-scale English speech recognition dataset licensed for academic "
            "and commercial use. Its parts carry different Creative Commons licences."
        ),
        "homepage": "https://mlcommons.org/datasets/peoples-speech/",
        "current_version": "1.0",
        "maintainer_working_group": "Datasets working group",
        "attribution_text": (
            "Galvez, D., Diamos, G., Ciro, J., Cerón, J. F., Achorn, K., Gopi, A., Kanter, D., Lam, M., "
            "Mazumder, M., Reddi, V. J. The People's Speech: A Large-Scale Diverse English Speech Recognition "
            "Dataset for Commercial Usage. NeurIPS Datasets and Benchmarks, 2021."
        ),
        "licence": None,
        "agreement": "peoples-speech-terms",
        "grant_days": 365,
        "subsets": [
            ("Clean", "clean", "CC-BY-4.0", "Audio with high-confidence transcripts."),
            ("Clean, share-alike", "clean-sa", "CC-BY-SA-4.0", "Clean audio from share-alike sources."),
        ],
    },
    {
        "slug": "mswc",
        "name": "Multilingual Spoken Words",
        "summary": "Spoken words in 50 languages for keyword spotting.",
        "description": "A large and growing audio dataset of spoken words in 50 languages, for keyword spotting.",
        "homepage": "https://mlcommons.org/datasets/multilingual-spoken-words/",
        "current_version": "1.0",
        "maintainer_working_group": "Datasets working group",
        "attribution_text": (
            "Mazumder, M., et al. Multilingual Spoken Words Corpus. NeurIPS Datasets and Benchmarks, 2021."
        ),
        "licence": "CC-BY-4.0",
        "agreement": None,
        "grant_days": None,
        "subsets": [],
    },
    {
        "slug": "automotive-perception",
        "name": "Automotive perception data (example)",
        "summary": "Invented example: members-only driving scenes, signed for by each organisation.",
        "description": (
            "An invented members-only dataset showing organisation-wide access: a signatory of a member "
            "organisation signs the agreement for everyone at the organisation."
        ),
        "current_version": "0.9",
        "maintainer_working_group": "Automotive working group",
        "attribution_text": "Automotive perception data (example), the consortium, 2025.",
        "licence": "LicenseRef-Consortium-Automotive-Data",
        "agreement": "automotive-data-agreement",
        "requires_membership": True,
        "grant_days": 365,
        "subsets": [],
    },
    {
        "slug": "clinical-speech",
        "name": "Clinical speech benchmark (example)",
        "summary": "Invented example: sensitive speech recordings, each request approved by a dataset admin.",
        "description": (
            "An invented dataset showing approval by a dataset admin followed by a click-through research agreement."
        ),
        "current_version": "2.1",
        "maintainer_working_group": "Medical working group",
        "attribution_text": "Clinical speech benchmark (example), the consortium, 2025.",
        "licence": "CC-BY-NC-4.0",
        "agreement": "clinical-speech-terms",
        "requires_approval": True,
        "access_questions": "Which institution will hold the data?\nHow will you keep the data secure?",
        "grant_days": 365,
        "subsets": [],
    },
]


def _person(email: str) -> Person | None:
    return Person.objects.select_related("user", "organisation").filter(user__email__iexact=email).first()


def _agreement(slug: str, name: str, signer: str, text: str, admin, licence: Licence | None = None) -> Agreement:
    agreement, _ = Agreement.objects.get_or_create(
        slug=slug, defaults={"name": name, "signer": signer, "licence": licence}
    )
    if not AgreementVersion.objects.filter(agreement=agreement, published_at__isnull=False).exists():
        version = AgreementVersion.objects.filter(agreement=agreement, label="1.0").first()
        if version is None:
            version = services.agreement_version_draft(
                agreement=agreement,
                label="1.0",
                text=text,
                effective_date=dt.date(2025, 1, 1),
                change_summary="First version.",
                actor=admin,
            )
        services.agreement_version_publish(version=version, actor=admin)
    return agreement


def _accept(dataset: Dataset, person: Person | None) -> None:
    """Accepts the dataset's current agreement version for the demo person, once."""
    if person is None or dataset.agreement is None:
        return
    version = services.latest_published(dataset.agreement)
    holder = (
        {"organisation": person.organisation}
        if dataset.agreement.signed_by_organisation
        else {"person": person, "organisation__isnull": True}
    )
    if Acceptance.objects.filter(agreement_version=version, **holder).exists():
        return
    services.agreement_accept(
        dataset=dataset,
        person=person,
        version_id=version.pk,
        text_sha256=version.text_sha256,
        typed_name=person.full_name,
        actor=person.user,
        ip_address="192.0.2.10",
        user_agent="seed_demo",
    )


@transaction.atomic
def seed_licensing(*, today: dt.date, log=print) -> None:
    added = services.licence_catalogue_sync()
    grant_dataset_admin_permissions()
    admin = get_user_model().objects.filter(email__iexact="licensing@example.org").first()
    if admin is None:
        log("  licensing: licensing@example.org missing (seed members first); skipped")
        return

    automotive_licence, _ = Licence.objects.get_or_create(
        expression="LicenseRef-Consortium-Automotive-Data",
        defaults={
            "name": "Consortium automotive data agreement (example)",
            "members_only": True,
            "attribution": True,
            "non_commercial": True,
        },
    )
    agreements = {
        "peoples-speech-terms": _agreement(
            "peoples-speech-terms",
            "The People's Speech terms of use (example)",
            Agreement.Signer.PERSON,
            PEOPLES_SPEECH_TERMS,
            admin,
        ),
        "automotive-data-agreement": _agreement(
            "automotive-data-agreement",
            "Automotive data organisation agreement (example)",
            Agreement.Signer.ORGANISATION,
            AUTOMOTIVE_TERMS,
            admin,
            automotive_licence,
        ),
        "clinical-speech-terms": _agreement(
            "clinical-speech-terms",
            "Clinical speech research agreement (example)",
            Agreement.Signer.PERSON,
            CLINICAL_TERMS,
            admin,
        ),
    }

    datasets = {}
    for spec in DATASETS:
        spec = dict(spec)
        subsets = spec.pop("subsets")
        licence = spec.pop("licence")
        agreement = spec.pop("agreement")
        dataset, _ = Dataset.objects.update_or_create(
            slug=spec.pop("slug"),
            defaults={
                **spec,
                "licence": Licence.objects.get(expression=licence) if licence else None,
                "agreement": agreements[agreement] if agreement else None,
            },
        )
        for name, slug, expression, description in subsets:
            DatasetSubset.objects.update_or_create(
                dataset=dataset,
                slug=slug,
                defaults={
                    "name": name,
                    "description": description,
                    "licence": Licence.objects.get(expression=expression),
                },
            )
        datasets[dataset.slug] = dataset

    member = _person("member@example.org")
    submitter = _person("submitter@example.org")
    primary = _person("primary@example.org")
    chair = _person("chair@example.org")

    # NVIDIA's signatory signed the automotive agreement: organisation-wide access.
    _accept(datasets["automotive-perception"], primary)
    # The submitter accepted The People's Speech terms (click-through grant).
    _accept(datasets["peoples-speech"], submitter)
    # The chair too; the grant ends in three weeks (shows in "expiring in 30 days").
    _accept(datasets["peoples-speech"], chair)
    if chair is not None:
        grant = Grant.objects.filter(dataset=datasets["peoples-speech"], person=chair, state=Grant.State.ACTIVE).first()
        soon = grant.starts_at + dt.timedelta(days=21) if grant else None
        if grant is not None and (grant.ends_at is None or grant.ends_at > soon):
            services.grant_extend(
                grant=grant,
                ends_at=soon,
                actor=admin,
                reason="Demo: a grant ending soon",
            )
    # The demo member took up the open Multilingual Spoken Words.
    if member is not None and not Grant.objects.filter(dataset=datasets["mswc"], person=member).exists():
        services.grant_take_up(dataset=datasets["mswc"], person=member, actor=member.user)

    # Pending requests for the approval-required dataset (the demo member is left free to ask).
    clinical = datasets["clinical-speech"]
    for person, purpose in (
        (submitter, "Benchmarking our speech recognition models on clinical vocabulary."),
        (chair, "Evaluating a proposed medical speech benchmark for the working group."),
    ):
        if person is not None and not AccessRequest.objects.filter(dataset=clinical, person=person).exists():
            services.access_request_submit(
                dataset=clinical,
                person=person,
                purpose=purpose,
                answers=[f"{person.organisation or 'Independent'}", "Encrypted storage, access-controlled cluster."],
                actor=person.user,
            )
    log(
        f"  licensing: {Licence.objects.count()} licences ({added} new from the SPDX list), "
        f"{Dataset.objects.count()} datasets, {Grant.objects.filter(state='active').count()} active grants, "
        f"{AccessRequest.objects.filter(state='submitted').count()} pending requests; "
        "managed by licensing@example.org"
    )
