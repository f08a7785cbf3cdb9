import os

from django.conf import settings
from django.contrib.postgres.fields import ArrayField
from django.core.files.storage import FileSystemStorage
from django.db import models

from workspaces.decisions import Decidable


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


class SandboxRequest(Decidable, models.Model):
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


class PrivateStorage(FileSystemStorage):
    """Uploads under MEDIA_ROOT/private: read back only through a view that checks who
    asks, so a file never has a public URL."""

    @property
    def base_location(self):
        return os.path.join(settings.MEDIA_ROOT, "private")

    @property
    def location(self):
        return os.path.abspath(self.base_location)

    def url(self, name):
        raise ValueError("Private files have no URL; serve them through a view.")


def private_storage() -> PrivateStorage:
    return PrivateStorage()


class StageKind(models.TextChoices):
    CONSENT = "consent", "Consent review"
    BILLING = "billing", "Billing setup"
    INTEGRATION = "integration", "Integration verification"
    AUDIT = "audit", "Audit-ready checks"


class StageStatus(models.TextChoices):
    NOT_STARTED = "not_started", "Not started"
    IN_PROGRESS = "in_progress", "In progress"
    SUBMITTED = "submitted", "Submitted"
    CHANGES_REQUESTED = "changes_requested", "Changes requested"
    APPROVED = "approved", "Approved"


class ProductionReview(models.Model):
    """The one production review of a workspace: four stages, decided by the platform."""

    workspace = models.OneToOneField("workspaces.Workspace", on_delete=models.CASCADE,
                                     related_name="production_review")
    started_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT,
                                   related_name="+")
    started_at = models.DateTimeField(auto_now_add=True)
    approved_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"Production review of {self.workspace}"


class ReviewStageQuerySet(models.QuerySet):
    def for_workspace(self, workspace) -> "ReviewStageQuerySet":
        """The stages of one workspace's review, in the order they are shown."""
        order = models.Case(*(models.When(kind=k, then=i) for i, k in enumerate(StageKind.values)))
        return self.filter(review__workspace=workspace).order_by(order)

    def submitted(self) -> "ReviewStageQuerySet":
        """Stages waiting for a platform reviewer."""
        return self.filter(status=StageStatus.SUBMITTED)


class ReviewStage(Decidable, models.Model):
    """One stage of a production review: the customer's answers, the evidence computed
    when it was submitted, and the latest decision."""

    review = models.ForeignKey(ProductionReview, on_delete=models.CASCADE,
                               related_name="stages")
    kind = models.CharField(max_length=16, choices=StageKind.choices)
    status = models.CharField(max_length=20, choices=StageStatus.choices,
                              default=StageStatus.NOT_STARTED, db_index=True)
    answers = models.JSONField(default=dict, blank=True)
    screenshot = models.FileField(storage=private_storage, upload_to="review-screenshots/",
                                  blank=True, max_length=200)
    screenshot_type = models.CharField(max_length=32, blank=True)
    # Evidence attached to the security questionnaire, private like the screenshot.
    attachment = models.FileField(storage=private_storage, upload_to="review-attachments/",
                                  blank=True, max_length=200)
    attachment_type = models.CharField(max_length=32, blank=True)
    attachment_label = models.CharField(max_length=100, blank=True,
                                        help_text="The uploaded file's name, for display only.")
    # The checks as they stood at submission; the live list is recomputed on each page.
    evidence = models.JSONField(default=list, blank=True)
    # Counts submissions: a decision names the one it decides, so a stale one conflicts.
    version = models.PositiveIntegerField(default=0)
    # Empty on a submitted stage when the portal submitted it from its own evidence.
    submitted_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                                     on_delete=models.PROTECT, related_name="+")
    submitted_at = models.DateTimeField(null=True, blank=True, db_index=True)
    decided_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                                   on_delete=models.PROTECT, related_name="+")
    decided_at = models.DateTimeField(null=True, blank=True)
    notes = models.TextField(blank=True, help_text="The reviewer's notes to the customer.")
    # {field or check key: reason}; what the owner must change before resubmitting.
    requested_changes = models.JSONField(default=dict, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = ReviewStageQuerySet.as_manager()

    class Meta:
        ordering = ["submitted_at", "id"]
        constraints = [
            models.UniqueConstraint(fields=["review", "kind"], name="one_stage_of_each_kind"),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} of {self.review.workspace}"

    @property
    def is_locked(self) -> bool:
        return self.status in (StageStatus.SUBMITTED, StageStatus.APPROVED)

    @property
    def files(self) -> frozenset[str]:
        """The file fields that hold a file."""
        return frozenset(name for name in ("screenshot", "attachment") if getattr(self, name))


class StageDecision(models.Model):
    """One reviewer decision, with the answers and evidence it was made on. Append-only."""

    stage = models.ForeignKey(ReviewStage, on_delete=models.CASCADE, related_name="decisions")
    version = models.PositiveIntegerField()
    reviewer = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT,
                                 related_name="+")
    approved = models.BooleanField()
    notes = models.TextField(blank=True)
    requested_changes = models.JSONField(default=dict, blank=True)
    answers = models.JSONField(default=dict, blank=True)
    screenshot_name = models.CharField(max_length=200, blank=True)
    attachment_name = models.CharField(max_length=200, blank=True)
    evidence = models.JSONField(default=list, blank=True)
    # Empty when the portal submitted the stage.
    submitted_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                                     on_delete=models.PROTECT, related_name="+")
    submitted_at = models.DateTimeField()
    decided_at = models.DateTimeField()

    class Meta:
        ordering = ["decided_at", "id"]

    def __str__(self) -> str:
        return f"{'Approved' if self.approved else 'Changes requested'}: {self.stage}"
