"""Member organisations, their memberships, people and the roles people hold."""

import datetime as dt

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser, BaseUserManager, PermissionsMixin
from django.db import models
from django.db.models import Q
from django.db.models.functions import Lower
from django.utils import timezone

from consortium.members import countries


class UserManager(BaseUserManager):
    use_in_migrations = True

    def _create(self, email: str, password: str | None, **extra):
        if not email:
            raise ValueError("An email address is required.")
        user = self.model(email=self.normalize_email(email), **extra)
        user.set_password(password)
        user.save(using=self._db)
        return user

    def create_user(self, email: str, password: str | None = None, **extra):
        extra.setdefault("is_staff", False)
        extra.setdefault("is_superuser", False)
        return self._create(email, password, **extra)

    def create_superuser(self, email: str, password: str | None = None, **extra):
        extra.update(is_staff=True, is_superuser=True)
        return self._create(email, password, **extra)

    def get_by_natural_key(self, email: str):
        return self.get(email__iexact=email)


class User(AbstractBaseUser, PermissionsMixin):
    """An account. The email address is the login; the profile lives in Person."""

    email = models.EmailField(unique=True)
    is_active = models.BooleanField(default=True)
    is_staff = models.BooleanField(default=False, help_text="May log into the admin (staff and dataset admins)")
    date_joined = models.DateTimeField(default=timezone.now)

    objects = UserManager()

    USERNAME_FIELD = "email"
    EMAIL_FIELD = "email"
    REQUIRED_FIELDS: list[str] = []

    class Meta:
        ordering = ["email"]
        constraints = [
            models.UniqueConstraint(Lower("email"), name="user_email_unique_ci"),
        ]

    def __str__(self) -> str:
        return self.email

    def get_full_name(self) -> str:
        person = getattr(self, "person", None)
        return person.full_name if person and person.full_name else self.email

    def get_short_name(self) -> str:
        return self.get_full_name()


class Organisation(models.Model):
    class Kind(models.TextChoices):
        COMPANY = "company", "Company"
        ACADEMIC = "academic", "Academic"
        NON_PROFIT = "non_profit", "Non-profit"
        INDIVIDUAL = "individual", "Individual"

    name = models.CharField(max_length=200, unique=True)
    slug = models.SlugField(max_length=80, unique=True)
    kind = models.CharField(max_length=20, choices=Kind.choices)
    country = models.CharField(max_length=2, blank=True, help_text="ISO 3166-1 alpha-2 code")
    website = models.URLField(blank=True)
    founding_member = models.BooleanField(default=False)
    # The folder name this organisation uses in MLPerf results repositories (matches submissions).
    results_folder = models.CharField(max_length=100, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    @property
    def country_name(self) -> str:
        return countries.country_name(self.country)


class EmailDomain(models.Model):
    """A domain whose addresses belong to the organisation (used to recognise colleagues)."""

    organisation = models.ForeignKey(Organisation, on_delete=models.CASCADE, related_name="email_domains")
    domain = models.CharField(max_length=253, unique=True)

    class Meta:
        ordering = ["domain"]

    def __str__(self) -> str:
        return self.domain

    def save(self, *args, **kwargs):
        self.domain = self.domain.strip().lower()
        super().save(*args, **kwargs)


class MembershipTier(models.Model):
    name = models.CharField(max_length=80, unique=True)
    slug = models.SlugField(max_length=80, unique=True)
    description = models.TextField(blank=True)
    may_submit_results = models.BooleanField(default=False)
    votes = models.PositiveSmallIntegerField(default=0, help_text="Votes in consortium ballots")
    board_seat = models.BooleanField(default=False)
    annual_dues_usd = models.PositiveIntegerField(null=True, blank=True)
    is_example = models.BooleanField(default=False, help_text="Invented for the demo; not a real tier")
    rank = models.PositiveSmallIntegerField(default=0, help_text="Display order, highest first")

    class Meta:
        ordering = ["-rank", "name"]

    def __str__(self) -> str:
        return f"{self.name} (example)" if self.is_example else self.name


class Membership(models.Model):
    """One membership term. Status follows from the dates unless staff suspended or withdrew it."""

    class Status(models.TextChoices):
        UPCOMING = "upcoming", "Upcoming"
        ACTIVE = "active", "Active"
        GRACE = "grace", "In grace period"
        LAPSED = "lapsed", "Lapsed"
        SUSPENDED = "suspended", "Suspended"
        WITHDRAWN = "withdrawn", "Withdrawn"

    class Override(models.TextChoices):
        NONE = "", "None (from dates)"
        SUSPENDED = "suspended", "Suspended"
        WITHDRAWN = "withdrawn", "Withdrawn"

    organisation = models.ForeignKey(Organisation, on_delete=models.CASCADE, related_name="memberships")
    tier = models.ForeignKey(MembershipTier, on_delete=models.PROTECT, related_name="memberships")
    start = models.DateField()
    end = models.DateField(null=True, blank=True, help_text="Last day of the term; empty for open-ended")
    grace_days = models.PositiveSmallIntegerField(default=30)
    staff_override = models.CharField(max_length=20, choices=Override.choices, blank=True, default="")
    note = models.TextField(blank=True)

    class Meta:
        ordering = ["organisation", "-start"]
        constraints = [
            models.CheckConstraint(
                condition=Q(end__isnull=True) | Q(end__gte=models.F("start")),
                name="membership_end_after_start",
            )
        ]

    def __str__(self) -> str:
        return f"{self.organisation} · {self.tier.name} from {self.start}"

    def status_on(self, day: dt.date) -> "Membership.Status":
        if self.staff_override:
            return self.Status(self.staff_override)
        if day < self.start:
            return self.Status.UPCOMING
        if self.end is None or day <= self.end:
            return self.Status.ACTIVE
        if day <= self.end + dt.timedelta(days=self.grace_days):
            return self.Status.GRACE
        return self.Status.LAPSED

    @property
    def status(self) -> "Membership.Status":
        return self.status_on(timezone.localdate())

    @property
    def status_label(self) -> str:
        return self.status.label

    @property
    def is_in_good_standing(self) -> bool:
        return self.status in (self.Status.ACTIVE, self.Status.GRACE)


class Person(models.Model):
    """The portal profile of a user: who they are and which organisation they belong to."""

    class Affiliation(models.TextChoices):
        NONE = "none", "No organisation"
        PENDING = "pending", "Awaiting approval"
        APPROVED = "approved", "Approved"

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="person")
    full_name = models.CharField(max_length=200, blank=True)
    github_handle = models.CharField(max_length=39, blank=True)
    organisation = models.ForeignKey(
        Organisation, null=True, blank=True, on_delete=models.SET_NULL, related_name="people"
    )
    affiliation = models.CharField(max_length=10, choices=Affiliation.choices, default=Affiliation.NONE)
    affiliated_since = models.DateTimeField(null=True, blank=True)
    # Seeded demo accounts; in demo mode they may use the admin without MFA.
    is_demo = models.BooleanField(default=False)

    class Meta:
        ordering = ["full_name", "user__email"]
        verbose_name_plural = "people"
        constraints = [
            models.CheckConstraint(
                condition=Q(affiliation="none", organisation__isnull=True)
                | Q(affiliation__in=["pending", "approved"], organisation__isnull=False),
                name="person_affiliation_matches_organisation",
            )
        ]

    def __str__(self) -> str:
        return self.display_name

    @property
    def display_name(self) -> str:
        return self.full_name or self.user.email

    @property
    def email(self) -> str:
        return self.user.email

    @property
    def is_approved_member(self) -> bool:
        return self.affiliation == self.Affiliation.APPROVED and self.organisation_id is not None


class OrganisationRole(models.Model):
    class Role(models.TextChoices):
        PRIMARY_CONTACT = "primary_contact", "Primary contact"
        SECONDARY_CONTACT = "secondary_contact", "Secondary contact"
        SIGNATORY = "signatory", "Signatory"
        SUBMITTER = "submitter", "Submitter"

    person = models.ForeignKey(Person, on_delete=models.CASCADE, related_name="roles")
    organisation = models.ForeignKey(Organisation, on_delete=models.CASCADE, related_name="roles")
    role = models.CharField(max_length=20, choices=Role.choices)
    granted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    granted_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["organisation", "role"]
        constraints = [
            models.UniqueConstraint(fields=["person", "organisation", "role"], name="one_role_grant_per_person")
        ]

    def __str__(self) -> str:
        return f"{self.person} · {self.get_role_display()} at {self.organisation}"


class Invitation(models.Model):
    """An invitation by email to join an organisation; valid until accepted, expired or revoked."""

    class State(models.TextChoices):
        PENDING = "pending", "Pending"
        ACCEPTED = "accepted", "Accepted"
        EXPIRED = "expired", "Expired"
        REVOKED = "revoked", "Revoked"

    organisation = models.ForeignKey(Organisation, on_delete=models.CASCADE, related_name="invitations")
    email = models.EmailField()
    roles = models.JSONField(default=list, blank=True, help_text="Roles granted on acceptance")
    # Only a SHA-256 of the token is stored; the token itself is in the emailed link.
    token_hash = models.CharField(max_length=64, unique=True)
    invited_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField()
    outside_domains = models.BooleanField(default=False, help_text="Confirmed although outside the domains")
    accepted_at = models.DateTimeField(null=True, blank=True)
    accepted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.email} → {self.organisation}"

    @property
    def role_labels(self) -> list[str]:
        """The roles granted on acceptance, as people read them ("Submitter", not "submitter")."""
        labels = dict(OrganisationRole.Role.choices)
        return [str(labels.get(role, role)) for role in self.roles]

    @property
    def state(self) -> "Invitation.State":
        if self.accepted_at:
            return self.State.ACCEPTED
        if self.revoked_at:
            return self.State.REVOKED
        if self.expires_at <= timezone.now():
            return self.State.EXPIRED
        return self.State.PENDING
