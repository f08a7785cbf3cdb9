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
    MFA_FAILED = "account.mfa_failed", "Entered a wrong two-factor code"
    REAUTHENTICATED = "account.reauthenticated", "Confirmed their identity again"
    PASSWORD_RESET_REQUESTED = "account.password_reset_requested", "Asked for a password reset"
    SESSION_ENDED = "account.session_ended", "Ended a session"
    USER_CHANGED_BY_STAFF = "account.changed_by_staff", "Changed a person's account in the admin"
    ORGANIZATION_CREATED = "organization.created", "Created the organization"
    DOMAIN_CLAIMED = "organization.domain_claimed", "Claimed an email domain"
    DOMAIN_VERIFIED = "organization.domain_verified", "Verified an email domain by DNS"
    DOMAIN_UNVERIFIED = ("organization.domain_unverified",
                         "Lost a domain's verification: its DNS record is gone")
    DOMAIN_RELEASED = "organization.domain_released", "Released an email domain"
    MFA_REQUIRED = ("organization.mfa_required",
                    "Required two-factor authentication of every member")
    MFA_NOT_REQUIRED = ("organization.mfa_not_required",
                        "Stopped requiring two-factor authentication")
    BILLING_PROFILE_UPDATED = "organization.billing_updated", "Updated the billing profile"
    WORKSPACE_CREATED = "workspace.created", "Created a workspace"
    MEMBER_INVITED = "member.invited", "Invited a member"
    INVITATION_RESENT = "member.invitation_resent", "Resent an invitation"
    INVITATION_REVOKED = "member.invitation_revoked", "Revoked an invitation"
    INVITATION_REPLACED = "member.invitation_replaced", "Replaced an expired invitation"
    INVITATION_ACCEPTED = "member.invitation_accepted", "Accepted an invitation"
    INVITATION_DECLINED = "member.invitation_declined", "Declined an invitation"
    JOIN_REQUESTED = "member.join_requested", "Asked to join"
    JOIN_REQUEST_CANCELLED = "member.join_cancelled", "Cancelled a request to join"
    JOIN_REQUEST_APPROVED = "member.join_approved", "Approved a request to join"
    JOIN_REQUEST_DECLINED = "member.join_declined", "Declined a request to join"
    ROLES_CHANGED = "member.roles_changed", "Changed a member's roles"
    MEMBER_RESTRICTED = "member.restricted", "Changed a member's workspace access"
    WORKSPACE_ROLES_CHANGED = ("member.workspace_roles_changed",
                               "Changed a member's roles in a workspace")
    MEMBER_REMOVED = "member.removed", "Removed a member"
    MEMBER_LEFT = "member.left", "Left the organization"
    SANDBOX_REQUESTED = "sandbox.requested", "Requested sandbox access"
    SANDBOX_APPROVED = "sandbox.approved", "Approved sandbox access"
    SANDBOX_DENIED = "sandbox.denied", "Denied sandbox access"
    REVIEW_STARTED = "review.started", "Started the production review"
    REVIEW_STAGE_UPDATED = "review.stage_updated", "Updated a production review stage"
    REVIEW_STAGE_SUBMITTED = "review.stage_submitted", "Submitted a production review stage"
    REVIEW_STAGE_APPROVED = "review.stage_approved", "Approved a production review stage"
    REVIEW_CHANGES_REQUESTED = "review.changes_requested", "Requested changes to a review stage"
    REVIEW_STAGE_WITHDRAWN = "review.stage_withdrawn", "Withdrew a production review stage"
    REVIEW_STAGE_REOPENED = "review.stage_reopened", "Sent an approved review stage back to review"
    PRODUCTION_APPROVED = "production.approved", "Approved the workspace for production"
    USAGE_REVIEWED = "usage.reviewed", "Reviewed the sandbox usage for the first time"
    AUDIT_EXPORTED = "audit.exported", "Exported the audit log"
    KEY_ISSUED = "key.issued", "Issued an API key"
    KEY_REVOKED = "key.revoked", "Revoked an API key"
    KEY_ROTATED = "key.rotated", "Rotated an API key"
    ORGANIZATION_SUSPENDED = "organization.suspended", "Suspended an organization"
    ORGANIZATION_UNSUSPENDED = "organization.unsuspended", "Lifted an organization's suspension"
    KEY_POLICY_CHANGED = "key.policy_changed", "Changed the key policy"
    WEBHOOK_ENDPOINT_CREATED = "webhook.endpoint_created", "Added a webhook endpoint"
    WEBHOOK_ENDPOINT_UPDATED = "webhook.endpoint_updated", "Changed a webhook endpoint"
    WEBHOOK_ENDPOINT_DISABLED = "webhook.endpoint_disabled", "Disabled a webhook endpoint"
    WEBHOOK_ENDPOINT_ENABLED = "webhook.endpoint_enabled", "Enabled a webhook endpoint"
    WEBHOOK_SECRET_REVEALED = "webhook.secret_revealed", "Revealed a webhook signing secret"
    WEBHOOK_SECRET_ROTATED = "webhook.secret_rotated", "Rotated a webhook signing secret"
    WEBHOOK_TEST_SENT = "webhook.test_sent", "Sent a test webhook event"
    WEBHOOK_DELIVERY_RETRIED = "webhook.delivery_retried", "Retried a webhook delivery"
    WEBHOOK_REPLAYED = "webhook.replayed", "Replayed webhook events"
    WEBHOOK_EVENT_RESENT = "webhook.event_resent", "Sent a webhook event again"
    WEBHOOK_ENDPOINT_DELETED = "webhook.endpoint_deleted", "Deleted a webhook endpoint"


class AuditEventQuerySet(models.QuerySet):
    def for_organization(self, organization) -> "AuditEventQuerySet":
        """Events of one organization."""
        return self.filter(organization=organization)

    def for_workspace(self, workspace) -> "AuditEventQuerySet":
        """Events of one workspace."""
        return self.filter(workspace=workspace)


class AuditEvent(models.Model):
    """An append-only record of one change; a database trigger refuses UPDATE and DELETE."""

    occurred_at = models.DateTimeField(auto_now_add=True, db_index=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT,
        related_name="+",
    )
    # One of Action, checked by save(). Not `choices=`: a new action would cost a migration.
    action = models.CharField(max_length=64)
    # Named by string: audit imports none of our apps. PROTECT: history outlives nothing.
    organization = models.ForeignKey(
        "workspaces.Organization", null=True, blank=True, on_delete=models.PROTECT,
        related_name="+",
    )
    workspace = models.ForeignKey(
        "workspaces.Workspace", null=True, blank=True, on_delete=models.PROTECT,
        related_name="+",
    )
    target_type = models.CharField(max_length=64, blank=True)
    target_id = models.CharField(max_length=64, blank=True)
    ip_address = models.GenericIPAddressField(null=True, blank=True)
    user_agent = models.CharField(max_length=512, blank=True)
    request_id = models.CharField(max_length=64, blank=True)
    details = models.JSONField(default=dict, blank=True)

    objects = AuditEventQuerySet.as_manager()

    class Meta:
        ordering = ["-occurred_at", "-id"]
        indexes = [
            models.Index(fields=["actor", "-occurred_at"]),
            models.Index(fields=["organization", "-occurred_at"]),
            models.Index(fields=["workspace", "-occurred_at"]),
            # "Has this organization ever exported its log?" (the audit-ready check).
            models.Index(fields=["organization", "action", "occurred_at"],
                         name="audit_org_action_time"),
        ]

    def __str__(self) -> str:
        return f"{self.occurred_at:%Y-%m-%d %H:%M:%S} {self.action}"

    def save(self, *args, **kwargs) -> None:
        """Refuse an action that is not in Action: the trail holds only known kinds."""
        if self.action not in Action.values:
            raise ValueError(f"unknown audit action {self.action!r}")
        super().save(*args, **kwargs)

    @property
    def action_label(self) -> str:
        """The action's sentence; the raw code for an action no longer in Action."""
        try:
            return Action(self.action).label
        except ValueError:
            return self.action
