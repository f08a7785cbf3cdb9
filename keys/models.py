from django.conf import settings
from django.contrib.postgres.fields import ArrayField
from django.db import models
from django.db.models import Q
from django.utils import timezone

from keys.policy import DEFAULT_MAX_KEY_AGE_DAYS, Rules
from workspaces.models import Environment


class Scope(models.TextChoices):
    ACCOUNTS_READ = "accounts:read", "Read accounts"
    TRANSACTIONS_READ = "transactions:read", "Read transactions"


class ApiKeyQuerySet(models.QuerySet):
    def for_workspace(self, workspace) -> "ApiKeyQuerySet":
        """Keys of one workspace."""
        return self.filter(workspace=workspace)

    def active(self, now=None) -> "ApiKeyQuerySet":
        """Keys neither revoked nor past their expiry."""
        now = now or timezone.now()
        return self.filter(revoked_at__isnull=True).filter(
            Q(expires_at__isnull=True) | Q(expires_at__gt=now))


class ApiKey(models.Model):
    """An API key. Only a keyed hash of the secret is stored; the secret is shown once."""

    workspace = models.ForeignKey("workspaces.Workspace", on_delete=models.CASCADE,
                                  related_name="api_keys")
    # "<org slug>/<workspace slug>", copied at issue (slugs never change) so verification
    # reads one row with no join.
    workspace_path = models.CharField(max_length=130)
    environment = models.CharField(max_length=16, choices=Environment.choices)
    name = models.CharField(max_length=80)
    public_id = models.CharField(max_length=32, unique=True)
    secret_hash = models.CharField(max_length=64, unique=True)
    prefix = models.CharField(max_length=16)
    last4 = models.CharField(max_length=4)
    scopes = ArrayField(models.CharField(max_length=32, choices=Scope.choices))
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT,
                                   related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)
    # A copy of the organization's suspension, on the row verification reads and the cache
    # trigger announces (keys/suspension.py): one row, no join, on the hot path.
    suspended_at = models.DateTimeField(null=True, blank=True)
    revoked_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                                   on_delete=models.PROTECT, related_name="+")
    last_used_at = models.DateTimeField(null=True, blank=True)
    rotated_from = models.OneToOneField("self", null=True, blank=True,
                                        on_delete=models.SET_NULL, related_name="rotated_to")

    objects = ApiKeyQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["workspace", "environment", "-created_at"])]

    def __str__(self) -> str:
        return f"{self.name} ({self.public_id})"

    @property
    def masked(self) -> str:
        return f"{self.prefix}…{self.last4}"

    def status(self, now=None) -> str:
        now = now or timezone.now()
        if self.revoked_at:
            return "revoked"
        if self.expires_at and self.expires_at <= now:
            return "expired"
        return "active"


class KeyPolicyQuerySet(models.QuerySet):
    def for_organization(self, organization) -> "KeyPolicyQuerySet":
        """The policies an organization's Security owner has set, one per environment."""
        return self.filter(organization=organization)

    def rules_for(self, organization, environment: str) -> Rules:
        """The rules in force for one environment: the saved policy or the defaults."""
        policy = self.filter(organization=organization, environment=environment).first()
        return policy.rules if policy else Rules()


class KeyPolicy(models.Model):
    """The Security owner's rules for one environment's keys; an organization without a
    row uses the defaults below."""

    organization = models.ForeignKey("workspaces.Organization", on_delete=models.CASCADE,
                                     related_name="key_policies")
    environment = models.CharField(max_length=16, choices=Environment.choices)
    max_key_age_days = models.PositiveSmallIntegerField(default=DEFAULT_MAX_KEY_AGE_DAYS)
    expiry_required = models.BooleanField(default=False)
    max_expiry_days = models.PositiveSmallIntegerField(null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)
    updated_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                                   on_delete=models.PROTECT, related_name="+")

    objects = KeyPolicyQuerySet.as_manager()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["organization", "environment"],
                                               name="one_key_policy_per_environment")]

    def __str__(self) -> str:
        return f"{self.organization_id} {self.environment} key policy"

    @property
    def rules(self) -> Rules:
        return Rules(self.max_key_age_days, self.expiry_required, self.max_expiry_days)


class ExpiryNotice(models.Model):
    """One "your key expires in N days" email: the row makes each notice go out once."""

    key = models.ForeignKey(ApiKey, on_delete=models.CASCADE, related_name="expiry_notices")
    days_before = models.PositiveSmallIntegerField()
    sent_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["key", "days_before"],
                                               name="one_expiry_notice_per_threshold")]

    def __str__(self) -> str:
        return f"{self.key_id} expires in {self.days_before} days: notice sent"
