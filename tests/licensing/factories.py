"""Factories and small builders for licensing tests."""

import datetime as dt

import factory
from django.utils import timezone

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
from tests.factories import PersonFactory


class LicenceFactory(factory.django.DjangoModelFactory):
    """The SPDX catalogue is seeded by a migration, so common licences already exist."""

    class Meta:
        model = Licence
        django_get_or_create = ("expression",)

    expression = "CC-BY-4.0"


class AgreementFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Agreement

    name = factory.Sequence(lambda n: f"Agreement {n}")
    slug = factory.Sequence(lambda n: f"agreement-{n}")
    signer = Agreement.Signer.PERSON


class DatasetFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Dataset

    name = factory.Sequence(lambda n: f"Dataset {n}")
    slug = factory.Sequence(lambda n: f"dataset-{n}")
    summary = "A dataset for tests."
    licence = factory.SubFactory(LicenceFactory)
    attribution_text = "Cite the test dataset."
    grant_days = 365


class SubsetFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = DatasetSubset

    dataset = factory.SubFactory(DatasetFactory)
    name = factory.Sequence(lambda n: f"Part {n}")
    slug = factory.Sequence(lambda n: f"part-{n}")
    licence = factory.SubFactory(LicenceFactory, expression="CC-BY-SA-4.0")


def publish(
    agreement: Agreement,
    label: str = "1.0",
    text: str | None = None,
    *,
    material: bool = False,
    grace_days: int = 30,
    effective: dt.date | None = None,
    published_at: dt.datetime | None = None,
) -> AgreementVersion:
    """A published version straight into the database (services are tested on their own)."""
    number = AgreementVersion.objects.filter(agreement=agreement, published_at__isnull=False).count() + 1
    return AgreementVersion.objects.create(
        agreement=agreement,
        label=label,
        text=text if text is not None else f"# {agreement.name}\n\nVersion {label} of the terms.\n",
        effective_date=effective or (timezone.localdate() - dt.timedelta(days=400)),
        is_material=material,
        grace_days=grace_days,
        number=number,
        published_at=published_at or (timezone.now() - dt.timedelta(days=400 if number == 1 else 1)),
    )


def accept(version: AgreementVersion, person, *, organisation=None, at: dt.datetime | None = None) -> Acceptance:
    return Acceptance.objects.create(
        person=person,
        organisation=organisation,
        agreement_version=version,
        version_label=version.label,
        text_sha256=version.text_sha256,
        typed_name=person.full_name,
        accepted_at=at or timezone.now() - dt.timedelta(days=10),
        ip_address="192.0.2.1",
        user_agent="pytest",
    )


def grant(dataset: Dataset, *, person=None, organisation=None, **fields) -> Grant:
    fields.setdefault("starts_at", timezone.now() - dt.timedelta(days=10))
    fields.setdefault("ends_at", timezone.now() + dt.timedelta(days=300))
    if dataset.needs_membership:
        fields.setdefault("membership_organisation", organisation or (person.organisation if person else None))
    return Grant.objects.create(dataset=dataset, person=person, organisation=organisation, **fields)


def access_request(dataset: Dataset, person, state=AccessRequest.State.SUBMITTED, **fields) -> AccessRequest:
    return AccessRequest.objects.create(
        dataset=dataset,
        person=person,
        organisation=person.organisation,
        state=state,
        purpose=fields.pop("purpose", "Research."),
        **fields,
    )


__all__ = [
    "AgreementFactory",
    "DatasetFactory",
    "LicenceFactory",
    "PersonFactory",
    "SubsetFactory",
    "accept",
    "access_request",
    "grant",
    "publish",
]
