from django.conf import settings
from django.contrib.postgres.fields import ArrayField
from django.db import models


class ProductArea(models.TextChoices):
    ACCOUNTS = "accounts", "Accounts"
    TRANSACTIONS = "transactions", "Transactions"
    WEBHOOKS = "webhooks", "Webhooks"


class SandboxStatus(models.TextChoices):
    PENDING = "pending", "Waiting for review"
    APPROVED = "approved", "Approved"
    DENIED = "denied", "Denied"


class SandboxRequestQuerySet(models.QuerySet):
    def for_workspace(self, workspace) -> "SandboxRequestQuerySet":
        """Requests of one workspace, newest first."""
        return self.filter(workspace=workspace).order_by("-created_at", "-id")

    def pending(self) -> "SandboxRequestQuerySet":
        """Requests waiting for a platform reviewer."""
        return self.filter(status=SandboxStatus.PENDING)


class SandboxRequest(models.Model):
    """A workspace asks for sandbox access; a resubmission is a new row, so the
    history of decisions stays."""

    workspace = models.ForeignKey("workspaces.Workspace", on_delete=models.CASCADE,
                                  related_name="sandbox_requests")
    requested_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT,
                                     related_name="+")
    use_case = models.TextField(max_length=2000)
    expected_monthly_calls = models.PositiveIntegerField()
    product_areas = ArrayField(models.CharField(max_length=32, choices=ProductArea.choices))
    status = models.CharField(max_length=16, choices=SandboxStatus.choices,
                              default=SandboxStatus.PENDING, db_index=True)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    decided_at = models.DateTimeField(null=True, blank=True)
    decided_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                                   on_delete=models.PROTECT, related_name="+",
                                   help_text="Empty when the policy approved it.")
    auto_approved = models.BooleanField(default=False)
    reason = models.TextField(blank=True, help_text="Why it was denied; shown to the customer.")

    objects = SandboxRequestQuerySet.as_manager()

    class Meta:
        ordering = ["created_at"]
        constraints = [
            models.UniqueConstraint(fields=["workspace"], condition=models.Q(status="pending"),
                                    name="one_pending_sandbox_request"),
        ]

    def __str__(self) -> str:
        return f"Sandbox access for {self.workspace}"
