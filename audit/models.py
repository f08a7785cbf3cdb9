from django.conf import settings
from django.db import models


class Action(models.TextChoices):
    """Every kind of audit event; the label is the sentence shown in timelines."""

    SIGNED_IN = "account.signed_in", "Signed in"
    SIGN_IN_FAILED = "account.sign_in_failed", "Failed sign-in attempt"
    SIGNED_OUT = "account.signed_out", "Signed out"
    PASSWORD_CHANGED = "account.password_changed", "Changed their password"
    PASSWORD_RESET = "account.password_reset", "Reset their password"
    EMAIL_ADDED = "account.email_added", "Added an email address"
    EMAIL_REMOVED = "account.email_removed", "Removed an email address"
    EMAIL_CHANGED = "account.email_changed", "Changed their primary email address"
    EMAIL_VERIFIED = "account.email_verified", "Verified an email address"
    MFA_ADDED = "account.mfa_added", "Turned on a two-factor method"
    MFA_REMOVED = "account.mfa_removed", "Removed a two-factor method"
    MFA_RESET = "account.mfa_reset", "Generated new recovery codes"


class AuditEventQuerySet(models.QuerySet):
    def for_user(self, user) -> "AuditEventQuerySet":
        """Events whose actor is this user."""
        return self.filter(actor=user)


class AuditEvent(models.Model):
    """An append-only record of one change; a database trigger refuses UPDATE and DELETE."""

    occurred_at = models.DateTimeField(auto_now_add=True, db_index=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT,
        related_name="+",
    )
    action = models.CharField(max_length=64, choices=Action.choices)
    target_type = models.CharField(max_length=64, blank=True)
    target_id = models.CharField(max_length=64, blank=True)
    ip_address = models.GenericIPAddressField(null=True, blank=True)
    user_agent = models.CharField(max_length=512, blank=True)
    details = models.JSONField(default=dict, blank=True)

    objects = AuditEventQuerySet.as_manager()

    class Meta:
        ordering = ["-occurred_at", "-id"]
        indexes = [models.Index(fields=["actor", "-occurred_at"])]

    def __str__(self) -> str:
        return f"{self.occurred_at:%Y-%m-%d %H:%M:%S} {self.action}"
