from django.conf import settings
from django.contrib.postgres.fields import ArrayField
from django.db import models
from django.db.models import Q
from django.utils import timezone

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
