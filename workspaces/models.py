from django.conf import settings
from django.contrib.postgres.fields import ArrayField
from django.db import models
from django.db.models import Q
from django.utils import timezone
from guardian.models import UserObjectPermissionBase

from workspaces.decisions import Decidable
from workspaces.roles import (
    ACCESS_WORKSPACE,
    ROLE_PERMISSIONS,
    Role,
    capabilities_of,
    role_permission,
)


class Environment(models.TextChoices):
    """A workspace's two worlds: test keys and fake data, or live keys and real data."""

    SANDBOX = "sandbox", "Sandbox"
    PRODUCTION = "production", "Production"



class OrganizationQuerySet(models.QuerySet):
    def visible_to(self, user) -> "OrganizationQuerySet":
        """Organizations in which the user holds an active membership."""
        if not user.is_authenticated:
            return self.none()
        return self.filter(memberships__user=user, memberships__is_active=True)


class Organization(models.Model):
    """A customer: members, verified domains, billing, workspaces."""

    name = models.CharField(max_length=120)
    slug = models.SlugField(max_length=60, unique=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    # Set by platform staff on an incident (keys.suspension): its keys stop verifying.
    suspended_at = models.DateTimeField(null=True, blank=True)
    suspension_reason = models.TextField(blank=True)
    # Set by an Owner: members without two-factor authentication cannot open its pages.
    require_mfa = models.BooleanField(default=False)

    objects = OrganizationQuerySet.as_manager()

    def __str__(self) -> str:
        return self.name


class DomainStatus(models.TextChoices):
    PENDING = "pending", "Pending"
    VERIFIED = "verified", "Verified"


class DomainClaimQuerySet(models.QuerySet):
    def verified(self) -> "DomainClaimQuerySet":
        """Claims proved by their TXT record at the last check."""
        return self.filter(status=DomainStatus.VERIFIED)

    def for_organization(self, organization) -> "DomainClaimQuerySet":
        """Claims of one organization."""
        return self.filter(organization=organization)


class DomainClaim(models.Model):
    """An organization's claim on an email domain, proved by a TXT record with its token.

    Pending claims of several organizations may coexist; only one can be verified.
    """

    organization = models.ForeignKey(Organization, on_delete=models.CASCADE,
                                     related_name="domain_claims")
    domain = models.CharField(max_length=253)
    status = models.CharField(max_length=16, choices=DomainStatus.choices,
                              default=DomainStatus.PENDING)
    token = models.CharField(max_length=64, unique=True)
    claimed_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT,
                                   related_name="+")
    claimed_at = models.DateTimeField(default=timezone.now)
    verified_at = models.DateTimeField(null=True, blank=True)
    checked_at = models.DateTimeField(null=True, blank=True)
    # Set when a verified domain's record was no longer found; cleared on verification.
    lost_at = models.DateTimeField(null=True, blank=True)
    check_error = models.CharField(max_length=200, blank=True)

    objects = DomainClaimQuerySet.as_manager()

    class Meta:
        ordering = ["domain"]
        constraints = [
            models.UniqueConstraint(fields=["organization", "domain"],
                                    name="domain_claim_once_per_org"),
            models.UniqueConstraint(fields=["domain"], condition=Q(status="verified"),
                                    name="domain_verified_once"),
        ]

    def __str__(self) -> str:
        return self.domain

    @property
    def is_verified(self) -> bool:
        return self.status == DomainStatus.VERIFIED


class WorkspaceQuerySet(models.QuerySet):
    def for_organization(self, organization) -> "WorkspaceQuerySet":
        """Workspaces of one organization."""
        return self.filter(organization=organization)

    def visible_to(self, user) -> "WorkspaceQuerySet":
        """Workspaces a user may open: every workspace of the organizations where their
        membership is not restricted, and those where guardian holds a grant for them."""
        from guardian.shortcuts import get_objects_for_user

        if not user.is_authenticated:
            return self.none()
        memberships = Membership.objects.active().filter(user=user)
        granted = get_objects_for_user(
            user, [ACCESS_WORKSPACE, *ROLE_PERMISSIONS], klass=Workspace, use_groups=False,
            any_perm=True, with_superuser=False, accept_global_perms=False)
        return self.filter(
            Q(organization__in=memberships.filter(restricted=False).values("organization"))
            | (Q(organization__in=memberships.values("organization"))
               & Q(pk__in=granted.values("pk"))))


class Workspace(models.Model):
    """One integration or app of an organization; keys, webhooks and usage belong here."""

    organization = models.ForeignKey(Organization, on_delete=models.CASCADE,
                                     related_name="workspaces")
    name = models.CharField(max_length=120)
    slug = models.SlugField(max_length=60)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT,
                                   related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    # Access granted by the onboarding reviews; kept here so that keys and webhooks can
    # check them without depending on the onboarding app.
    sandbox_approved_at = models.DateTimeField(null=True, blank=True)
    production_approved_at = models.DateTimeField(null=True, blank=True)

    objects = WorkspaceQuerySet.as_manager()

    class Meta:
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(fields=["organization", "slug"],
                                    name="workspace_slug_unique_in_org"),
        ]
        permissions = [
            (ACCESS_WORKSPACE, "Access this workspace with the organization's roles"),
            *((role_permission(r), f"{r.label} in this workspace") for r in Role),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def home_environment(self) -> str:
        """The environment the workspace lives in: production after the last approval."""
        return Environment.PRODUCTION if self.production_approved_at else Environment.SANDBOX

    def is_open(self, environment: str) -> bool:
        """Whether keys and webhooks of this environment may exist: its access was granted."""
        approved_at = (self.production_approved_at if environment == Environment.PRODUCTION
                       else self.sandbox_approved_at)
        return approved_at is not None


class WorkspaceUserObjectPermission(UserObjectPermissionBase):
    """django-guardian grants with a real foreign key to the workspace."""

    content_object = models.ForeignKey(Workspace, on_delete=models.CASCADE)


class MembershipQuerySet(models.QuerySet):
    def active(self) -> "MembershipQuerySet":
        """Memberships not removed."""
        return self.filter(is_active=True)

    def for_organization(self, organization) -> "MembershipQuerySet":
        """Active memberships of one organization."""
        return self.active().filter(organization=organization)

    def with_role(self, role: Role) -> "MembershipQuerySet":
        """Memberships holding a role (among others)."""
        return self.filter(roles__contains=[role])


class Membership(models.Model):
    """A user's place in an organization: one or more roles."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE,
                             related_name="memberships")
    organization = models.ForeignKey(Organization, on_delete=models.CASCADE,
                                     related_name="memberships")
    roles = ArrayField(models.CharField(max_length=32, choices=Role.choices))
    # When set, the member sees only workspaces granted through guardian.
    restricted = models.BooleanField(default=False)
    is_active = models.BooleanField(default=True)
    joined_at = models.DateTimeField(default=timezone.now)

    objects = MembershipQuerySet.as_manager()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["user", "organization"],
                                    name="membership_unique_user_org"),
            models.CheckConstraint(condition=Q(roles__len__gt=0), name="membership_has_a_role"),
        ]

    def __str__(self) -> str:
        return f"{self.user} in {self.organization}"

    # Set by the tenancy resolver (workspaces/scoping.py) on a workspace's pages: the
    # member's roles in that workspace, from their guardian grants.
    workspace_roles: tuple[str, ...] | None = None

    @property
    def roles_here(self) -> tuple[str, ...]:
        """Roles in the resolved workspace, else the organization's."""
        return tuple(self.roles) if self.workspace_roles is None else self.workspace_roles

    @property
    def capabilities(self) -> frozenset[str]:
        return capabilities_of(self.roles_here)

    def can(self, capability: str) -> bool:
        return capability in self.capabilities

    def has_role(self, role: Role) -> bool:
        return role in self.roles_here

    @property
    def role_labels(self) -> list[str]:
        return [Role(r).label for r in self.roles_here]


class InvitationStatus(models.TextChoices):
    PENDING = "pending", "Pending"
    ACCEPTED = "accepted", "Accepted"
    DECLINED = "declined", "Declined"
    REVOKED = "revoked", "Revoked"


class InvitationQuerySet(models.QuerySet):
    def for_organization(self, organization) -> "InvitationQuerySet":
        """Invitations of one organization."""
        return self.filter(organization=organization)

    def pending(self) -> "InvitationQuerySet":
        """Invitations still open and not expired."""
        return self.filter(status=InvitationStatus.PENDING, expires_at__gt=timezone.now())

    def addressed_to(self, user) -> "InvitationQuerySet":
        """Invitations to one of the user's verified addresses."""
        from allauth.account.models import EmailAddress

        verified = EmailAddress.objects.filter(user=user, verified=True).values("email")
        return self.filter(email__in=verified)


class Invitation(Decidable, models.Model):
    """A single-use, expiring invitation bound to one email address.

    Only a SHA-256 of the token is stored; the token itself travels once, by email.
    """

    organization = models.ForeignKey(Organization, on_delete=models.CASCADE,
                                     related_name="invitations")
    email = models.EmailField(max_length=254)
    roles = ArrayField(models.CharField(max_length=32, choices=Role.choices))
    workspaces = models.ManyToManyField(Workspace, blank=True, related_name="+")
    # Roles for single workspaces, granted on acceptance: {"<workspace pk>": [roles]}.
    workspace_roles = models.JSONField(default=dict, blank=True)
    token_hash = models.CharField(max_length=64, unique=True)
    status = models.CharField(max_length=16, choices=InvitationStatus.choices,
                              default=InvitationStatus.PENDING)
    invited_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT,
                                   related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField()
    last_sent_at = models.DateTimeField()
    send_count = models.PositiveIntegerField(default=1)
    decided_at = models.DateTimeField(null=True, blank=True)
    decided_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                                   on_delete=models.PROTECT, related_name="+")

    objects = InvitationQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "email"], condition=Q(status="pending"),
                name="one_pending_invitation_per_email",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.email} to {self.organization}"

    @property
    def is_expired(self) -> bool:
        return self.status == InvitationStatus.PENDING and self.expires_at <= timezone.now()

    @property
    def role_labels(self) -> list[str]:
        return [Role(r).label for r in self.roles]


class JoinRequestStatus(models.TextChoices):
    PENDING = "pending", "Waiting for approval"
    APPROVED = "approved", "Approved"
    DECLINED = "declined", "Declined"
    CANCELLED = "cancelled", "Cancelled"


class JoinRequestQuerySet(models.QuerySet):
    def for_organization(self, organization) -> "JoinRequestQuerySet":
        """Join requests addressed to one organization."""
        return self.filter(organization=organization)

    def pending(self) -> "JoinRequestQuerySet":
        """Requests nobody decided yet."""
        return self.filter(status=JoinRequestStatus.PENDING)

    def by_user(self, user) -> "JoinRequestQuerySet":
        """Requests the user made."""
        return self.filter(user=user)


class JoinRequest(Decidable, models.Model):
    """A verified user whose email domain an organization claimed asks to join it."""

    organization = models.ForeignKey(Organization, on_delete=models.CASCADE,
                                     related_name="join_requests")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE,
                             related_name="join_requests")
    message = models.CharField(max_length=500, blank=True)
    status = models.CharField(max_length=16, choices=JoinRequestStatus.choices,
                              default=JoinRequestStatus.PENDING)
    created_at = models.DateTimeField(auto_now_add=True)
    decided_at = models.DateTimeField(null=True, blank=True)
    decided_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                                   on_delete=models.PROTECT, related_name="+")
    reason = models.CharField(max_length=500, blank=True)

    objects = JoinRequestQuerySet.as_manager()

    class Meta:
        ordering = ["created_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "user"], condition=Q(status="pending"),
                name="one_pending_join_request",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.user} asks to join {self.organization}"


class BillingProfile(models.Model):
    """Who pays: kept per organization and reused by every workspace's review."""

    organization = models.OneToOneField(Organization, on_delete=models.CASCADE,
                                        related_name="billing_profile")
    legal_name = models.CharField(max_length=200, blank=True)
    address_line1 = models.CharField("address", max_length=200, blank=True)
    address_line2 = models.CharField("address (line 2)", max_length=200, blank=True)
    city = models.CharField(max_length=100, blank=True)
    postal_code = models.CharField(max_length=20, blank=True)
    country = models.CharField(max_length=2, blank=True, help_text="ISO 3166 code, e.g. DE")
    tax_id = models.CharField("tax ID", max_length=40, blank=True)
    billing_email = models.EmailField(blank=True)
    updated_at = models.DateTimeField(auto_now=True)
    updated_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                                   on_delete=models.PROTECT, related_name="+")

    REQUIRED = ("legal_name", "address_line1", "city", "postal_code", "country", "tax_id",
                "billing_email")

    def __str__(self) -> str:
        return f"Billing profile of {self.organization}"

    @property
    def missing_fields(self) -> list[str]:
        return [self._meta.get_field(f).verbose_name for f in self.REQUIRED
                if not getattr(self, f)]

    @property
    def is_complete(self) -> bool:
        return not self.missing_fields
