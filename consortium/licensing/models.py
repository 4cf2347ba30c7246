"""Datasets, their licences and agreements, and who may access them (issue 6).

Fields, choices, constraints and small derived properties only; every write goes through
services.py and every access question through access.py.
"""

import datetime as dt
import hashlib

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone

# Slugs that are paths of the member pages under /datasets/.
RESERVED_SLUGS = frozenset({"mine", "download", "downloads", "api", "new"})


def sha256_text(text: str) -> str:
    """The SHA-256 of exactly this text (UTF-8), as stored and shown."""
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def normalise_text(text: str) -> str:
    """Browsers submit CRLF; the stored and hashed text always uses LF."""
    return text.replace("\r\n", "\n").replace("\r", "\n")


class Licence(models.Model):
    """An SPDX licence expression (normalised), or a consortium agreement named `LicenseRef-<name>`."""

    expression = models.CharField(
        max_length=300,
        unique=True,
        help_text="SPDX licence expression, e.g. CC-BY-4.0 or CC-BY-4.0 AND CC-BY-SA-4.0, "
        "or LicenseRef-<name> for a consortium agreement",
    )
    name = models.CharField(max_length=200, blank=True)
    url = models.URLField(blank=True, help_text="Where the full text is published")
    text = models.TextField(blank=True, help_text="Full text, when it is not published elsewhere")
    attribution = models.BooleanField(default=False, help_text="Users must credit the source")
    share_alike = models.BooleanField(default=False, help_text="Derived data must carry the same licence")
    non_commercial = models.BooleanField(default=False, help_text="No commercial use")
    members_only = models.BooleanField(default=False, help_text="Only for people of member organisations")
    from_spdx_list = models.BooleanField(
        default=False, help_text="Seeded from the offline SPDX licence list of license-expression"
    )
    is_deprecated = models.BooleanField(default=False)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["expression"]

    def __str__(self) -> str:
        return self.expression

    @property
    def is_consortium_licence(self) -> bool:
        return self.expression.startswith("LicenseRef-")

    @property
    def obligations(self) -> list[str]:
        labels = []
        if self.attribution:
            labels.append("Attribution")
        if self.share_alike:
            labels.append("Share-alike")
        if self.non_commercial:
            labels.append("Non-commercial")
        if self.members_only:
            labels.append("Members only")
        return labels

    @property
    def reference_url(self) -> str:
        if self.url:
            return self.url
        if not self.is_consortium_licence and " " not in self.expression:
            return f"https://spdx.org/licenses/{self.expression}.html"
        return ""


class Agreement(models.Model):
    """A named agreement whose text is published in immutable versions."""

    class Signer(models.TextChoices):
        PERSON = "person", "Each person accepts it (click-through)"
        ORGANISATION = "organisation", "An organisation's signatory signs it for the organisation"

    name = models.CharField(max_length=200, unique=True)
    slug = models.SlugField(max_length=80, unique=True)
    signer = models.CharField(max_length=20, choices=Signer.choices, default=Signer.PERSON)
    licence = models.ForeignKey(
        Licence,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="agreements",
        help_text="The LicenseRef- licence this agreement stands for, if any",
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    @property
    def signed_by_organisation(self) -> bool:
        return self.signer == self.Signer.ORGANISATION


class AgreementVersion(models.Model):
    """One text of an agreement. Drafts may change; once published, nothing about it changes."""

    agreement = models.ForeignKey(Agreement, on_delete=models.PROTECT, related_name="versions")
    label = models.CharField(max_length=40, help_text="Version label shown to members, e.g. 1.1")
    text = models.TextField(help_text="The exact text members accept (Markdown)")
    text_sha256 = models.CharField(max_length=64, editable=False)
    effective_date = models.DateField(default=timezone.localdate, help_text="The version is in force from this day")
    is_material = models.BooleanField(
        default=False,
        help_text="A material change: everyone must accept this version again after the grace period",
    )
    grace_days = models.PositiveSmallIntegerField(
        default=30,
        help_text="Days after the effective date during which the previous acceptance still counts",
    )
    change_summary = models.CharField(max_length=300, blank=True)
    # Sequence number among the agreement's published versions (1, 2, …); empty while a draft.
    number = models.PositiveIntegerField(null=True, blank=True, editable=False)
    published_at = models.DateTimeField(null=True, blank=True, editable=False)
    published_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        editable=False,
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["agreement", "-number", "-created_at"]
        constraints = [
            models.UniqueConstraint(fields=["agreement", "number"], name="agreement_version_number_unique"),
            models.UniqueConstraint(fields=["agreement", "label"], name="agreement_version_label_unique"),
            models.CheckConstraint(
                condition=Q(published_at__isnull=True, number__isnull=True)
                | Q(published_at__isnull=False, number__isnull=False),
                name="agreement_version_published_has_number",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.agreement} v{self.label}"

    def save(self, *args, **kwargs):
        # Integrity guard, like the audit log's: a published text is never rewritten.
        if self.pk is not None and AgreementVersion.objects.filter(pk=self.pk, published_at__isnull=False).exists():
            raise PermissionError("A published agreement version cannot be changed; publish a new version.")
        self.text = normalise_text(self.text)
        self.text_sha256 = sha256_text(self.text)
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        if self.is_published:
            raise PermissionError("A published agreement version cannot be deleted.")
        return super().delete(*args, **kwargs)

    @property
    def is_published(self) -> bool:
        return self.published_at is not None

    @property
    def grace_ends(self) -> dt.date:
        return self.effective_date + dt.timedelta(days=self.grace_days)


class Dataset(models.Model):
    name = models.CharField(max_length=200, unique=True)
    slug = models.SlugField(max_length=80, unique=True)
    summary = models.CharField(max_length=300, blank=True)
    description = models.TextField(blank=True, help_text="Markdown")
    homepage = models.URLField(blank=True)
    current_version = models.CharField(max_length=40, blank=True)
    size_bytes = models.BigIntegerField(null=True, blank=True)
    maintainer_working_group = models.CharField(
        max_length=200, blank=True, help_text="The working group that maintains the dataset"
    )
    croissant_url = models.URLField(blank=True, help_text="Croissant metadata (JSON-LD), if published")
    licence = models.ForeignKey(
        Licence,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="datasets",
        help_text="The licence of the whole dataset (subsets may carry their own)",
    )
    attribution_text = models.TextField(blank=True, help_text="How users must cite the dataset")
    is_listed = models.BooleanField(default=True, help_text="Shown in the catalogue")
    # Access policy: each requirement on its own, so they combine (open = none of them).
    requires_membership = models.BooleanField(
        default=False,
        help_text="Members only: the person must belong to a member organisation in good standing",
    )
    agreement = models.ForeignKey(
        Agreement,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="datasets",
        help_text="Click-through (each person) or organisation-signatory agreement; empty for none",
    )
    requires_approval = models.BooleanField(default=False, help_text="A dataset admin approves each request")
    access_questions = models.TextField(blank=True, help_text="Questions asked in an access request, one per line")
    request_cooldown_days = models.PositiveSmallIntegerField(
        default=30, help_text="Days a rejected person waits before asking again"
    )
    grant_days = models.PositiveSmallIntegerField(
        null=True, blank=True, default=365, help_text="Length of a grant in days; empty for no end"
    )
    file = models.FileField(upload_to="datasets/", blank=True, help_text="Optional file served to grant holders")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    @property
    def questions(self) -> list[str]:
        return [line.strip() for line in self.access_questions.splitlines() if line.strip()]

    @property
    def is_open(self) -> bool:
        return not (self.requires_membership or self.agreement_id or self.requires_approval)

    @property
    def needs_membership(self) -> bool:
        """Members only, explicitly or because an organisation signs the agreement."""
        if self.requires_membership:
            return True
        return bool(self.agreement_id and self.agreement.signed_by_organisation)

    @property
    def policy_labels(self) -> list[str]:
        if self.is_open:
            return ["Open"]
        labels = []
        if self.requires_membership:
            labels.append("Members only")
        if self.agreement_id:
            labels.append(
                "Organisation signatory agreement"
                if self.agreement.signed_by_organisation
                else "Click-through agreement"
            )
        if self.requires_approval:
            labels.append("Approval by a dataset admin")
        return labels


class DatasetSubset(models.Model):
    """A part of a dataset that carries its own licence."""

    dataset = models.ForeignKey(Dataset, on_delete=models.CASCADE, related_name="subsets")
    name = models.CharField(max_length=200)
    slug = models.SlugField(max_length=80)
    description = models.CharField(max_length=500, blank=True)
    licence = models.ForeignKey(Licence, on_delete=models.PROTECT, related_name="subsets")
    size_bytes = models.BigIntegerField(null=True, blank=True)
    file = models.FileField(upload_to="datasets/", blank=True)

    class Meta:
        ordering = ["dataset", "name"]
        constraints = [models.UniqueConstraint(fields=["dataset", "slug"], name="subset_slug_unique")]

    def __str__(self) -> str:
        return f"{self.dataset} · {self.name}"


class AcceptanceQuerySet(models.QuerySet):
    def update(self, **kwargs):  # type: ignore[override]
        raise PermissionError("Signature records are never changed.")

    def delete(self):  # type: ignore[override]
        raise PermissionError("Signature records are never deleted.")


class Acceptance(models.Model):
    """The signature record: who accepted exactly which text, for whom, when and from where."""

    person = models.ForeignKey("members.Person", on_delete=models.PROTECT, related_name="acceptances")
    organisation = models.ForeignKey(
        "members.Organisation",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="acceptances",
        help_text="The organisation the signatory signed for; empty for a personal acceptance",
    )
    agreement_version = models.ForeignKey(AgreementVersion, on_delete=models.PROTECT, related_name="acceptances")
    version_label = models.CharField(max_length=40)
    text_sha256 = models.CharField(max_length=64)
    typed_name = models.CharField(max_length=200)
    accepted_at = models.DateTimeField(default=timezone.now)
    ip_address = models.GenericIPAddressField(null=True, blank=True)
    user_agent = models.CharField(max_length=500, blank=True)

    objects = AcceptanceQuerySet.as_manager()

    class Meta:
        ordering = ["-accepted_at", "-id"]
        verbose_name = "acceptance (signature record)"
        verbose_name_plural = "acceptances (signature records)"

    def __str__(self) -> str:
        on_behalf = f" for {self.organisation}" if self.organisation_id else ""
        return f"{self.typed_name}{on_behalf} accepted {self.agreement_version}"

    def save(self, *args, **kwargs):
        if self.pk is not None:
            raise PermissionError("Signature records are never changed.")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise PermissionError("Signature records are never deleted.")


class AccessRequest(models.Model):
    class State(models.TextChoices):
        SUBMITTED = "submitted", "Submitted"
        APPROVED = "approved", "Approved"
        REJECTED = "rejected", "Rejected"
        RETURNED = "returned", "Returned for changes"
        WITHDRAWN = "withdrawn", "Withdrawn"

    OPEN_STATES = (State.SUBMITTED, State.RETURNED)

    dataset = models.ForeignKey(Dataset, on_delete=models.CASCADE, related_name="access_requests")
    person = models.ForeignKey("members.Person", on_delete=models.CASCADE, related_name="access_requests")
    organisation = models.ForeignKey(
        "members.Organisation",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        help_text="The person's organisation when they asked",
    )
    state = models.CharField(max_length=20, choices=State.choices, default=State.SUBMITTED, db_index=True)
    purpose = models.TextField(help_text="What the person will use the dataset for")
    answers = models.JSONField(default=list, blank=True, help_text="[{question, answer}, …]")
    submitted_at = models.DateTimeField(default=timezone.now)
    decided_at = models.DateTimeField(null=True, blank=True)
    reviewer = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    reason = models.TextField(blank=True, help_text="The reviewer's reason, shown to the person")

    class Meta:
        ordering = ["-submitted_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["dataset", "person"],
                condition=Q(state__in=["submitted", "returned"]),
                name="one_open_access_request",
            )
        ]

    def __str__(self) -> str:
        return f"{self.person} → {self.dataset} ({self.get_state_display()})"

    @property
    def is_open(self) -> bool:
        return self.state in self.OPEN_STATES


class Grant(models.Model):
    """Access to a dataset for one person, or for every approved person of an organisation."""

    class State(models.TextChoices):
        ACTIVE = "active", "Active"
        EXPIRED = "expired", "Expired"
        REVOKED = "revoked", "Revoked"
        SUSPENDED = "suspended", "Suspended"

    class SuspensionCause(models.TextChoices):
        NONE = "", "—"
        REACCEPTANCE = "reacceptance", "Until the new agreement version is accepted"
        MEMBERSHIP = "membership", "Membership not in good standing"
        DEPARTURE = "departure", "The person left the organisation"
        ADMIN = "admin", "Suspended by a dataset admin"

    LIVE_STATES = (State.ACTIVE, State.SUSPENDED)

    dataset = models.ForeignKey(Dataset, on_delete=models.CASCADE, related_name="grants")
    person = models.ForeignKey(
        "members.Person", null=True, blank=True, on_delete=models.CASCADE, related_name="dataset_grants"
    )
    organisation = models.ForeignKey(
        "members.Organisation",
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="dataset_grants",
        help_text="Organisation-wide grant: every approved person of the organisation",
    )
    state = models.CharField(max_length=20, choices=State.choices, default=State.ACTIVE, db_index=True)
    suspension_cause = models.CharField(max_length=20, choices=SuspensionCause.choices, blank=True, default="")
    starts_at = models.DateTimeField(default=timezone.now)
    ends_at = models.DateTimeField(null=True, blank=True, help_text="Empty for no end")
    # What the grant rests on; the cascades follow these.
    membership_organisation = models.ForeignKey(
        "members.Organisation",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        help_text="The organisation whose membership the grant depends on",
    )
    acceptance = models.ForeignKey(Acceptance, null=True, blank=True, on_delete=models.PROTECT, related_name="grants")
    access_request = models.ForeignKey(
        AccessRequest, null=True, blank=True, on_delete=models.SET_NULL, related_name="grants"
    )
    granted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    ended_at = models.DateTimeField(null=True, blank=True, help_text="When it expired or was revoked")
    ended_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    reason = models.TextField(blank=True, help_text="Why it was revoked, suspended or extended last")

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(person__isnull=False, organisation__isnull=True)
                | Q(person__isnull=True, organisation__isnull=False),
                name="grant_for_person_or_organisation",
            ),
            models.UniqueConstraint(
                fields=["dataset", "person"],
                condition=Q(state__in=["active", "suspended"], person__isnull=False),
                name="one_live_grant_per_person",
            ),
            models.UniqueConstraint(
                fields=["dataset", "organisation"],
                condition=Q(state__in=["active", "suspended"], organisation__isnull=False),
                name="one_live_grant_per_organisation",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.holder} · {self.dataset} ({self.get_state_display()})"

    @property
    def holder(self):
        return self.person if self.person_id else self.organisation

    @property
    def rests_on(self) -> list[str]:
        parts = []
        if self.membership_organisation_id:
            parts.append(f"membership of {self.membership_organisation}")
        if self.acceptance_id:
            parts.append(f"acceptance of {self.acceptance.agreement_version}")
        if self.access_request_id:
            parts.append(f"approved request #{self.access_request_id}")
        return parts or ["open access"]

    def is_in_force(self, at=None) -> bool:
        at = at or timezone.now()
        return self.state == self.State.ACTIVE and self.starts_at <= at and (self.ends_at is None or at < self.ends_at)


class GrantNoticeKind(models.TextChoices):
    """The notices sent about a grant; each goes once through the outbox (its idempotency key names
    the grant, the kind and what it was about: the end date, the agreement version)."""

    EXPIRY_30 = "expiry_30", "Expires in 30 days"
    EXPIRY_7 = "expiry_7", "Expires in 7 days"
    EXPIRED = "expired", "Expired"
    NEW_VERSION = "new_version", "New agreement version to accept"
    SUSPENDED = "suspended", "Suspended"
