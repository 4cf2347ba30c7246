"""factory_boy factories for the members domain; other apps add theirs in tests/<app>/factories.py."""

import datetime as dt

import factory
from allauth.account.models import EmailAddress
from django.utils import timezone

from consortium.members.models import (
    EmailDomain,
    Membership,
    MembershipTier,
    Organisation,
    OrganisationRole,
    Person,
    User,
)

PASSWORD = "correct-horse-battery"


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        skip_postgeneration_save = True

    email = factory.Sequence(lambda n: f"user{n}@example.com")
    password = factory.PostGenerationMethodCall("set_password", PASSWORD)

    @factory.post_generation
    def verified(self, create, extracted, **kwargs):
        """Accounts are verified unless verified=False: allauth refuses unverified logins."""
        if create:
            self.save()
            EmailAddress.objects.create(user=self, email=self.email, verified=extracted is not False, primary=True)


class TierFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = MembershipTier
        django_get_or_create = ("slug",)

    name = factory.Sequence(lambda n: f"Tier {n}")
    slug = factory.Sequence(lambda n: f"tier-{n}")
    may_submit_results = True
    votes = 1


class OrganisationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Organisation
        skip_postgeneration_save = True

    name = factory.Sequence(lambda n: f"Organisation {n}")
    slug = factory.Sequence(lambda n: f"org-{n}")
    kind = Organisation.Kind.COMPANY
    country = "US"

    @factory.post_generation
    def domain(self, create, extracted, **kwargs):
        if create:
            EmailDomain.objects.create(organisation=self, domain=extracted or f"{self.slug}.test")


class MembershipFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Membership

    organisation = factory.SubFactory(OrganisationFactory)
    tier = factory.SubFactory(TierFactory)
    start = factory.LazyFunction(lambda: timezone.localdate() - dt.timedelta(days=365))
    end = factory.LazyFunction(lambda: timezone.localdate() + dt.timedelta(days=365))


class PersonFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Person

    user = factory.SubFactory(UserFactory)
    full_name = factory.Sequence(lambda n: f"Person {n}")
    organisation = None
    affiliation = factory.LazyAttribute(
        lambda o: Person.Affiliation.APPROVED if o.organisation else Person.Affiliation.NONE
    )


def member_of(organisation: Organisation, *roles: str, email: str | None = None, **person_fields) -> Person:
    """An approved person of `organisation` holding `roles`, with a verified login."""
    user = UserFactory(**({"email": email} if email else {}))
    person = PersonFactory(user=user, organisation=organisation, **person_fields)
    for role in roles:
        OrganisationRole.objects.create(person=person, organisation=organisation, role=role)
    return person
