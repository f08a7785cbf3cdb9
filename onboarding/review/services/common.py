"""What the review's services share: who holds which role, the locks in their order, and
the emails to reviewers and to a stage's owners."""

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.db.models import Q
from django.urls import reverse

from accounts.mail import send_templated
from onboarding.models import ProductionReview, ReviewStage, StageKind
from onboarding.review import catalog
from onboarding.reviewers import GROUP
from workspaces.models import Membership, Workspace
from workspaces.scoping import member_roles_in, workspace_roles_of


def overview_url(workspace: Workspace) -> str:
    return settings.SITE_URL + reverse("workspace_overview",
                                       args=[workspace.organization.slug, workspace.slug])


def stage_url(workspace: Workspace, kind: str) -> str:
    return settings.SITE_URL + reverse("review_stage", args=[
        workspace.organization.slug, workspace.slug, kind])


def roles_of(actor, workspace: Workspace) -> tuple[str, ...]:
    """The actor's roles in this workspace, as the tenancy resolver reads them (their
    guardian grants there, else their organization's); empty if they may not open it."""
    memberships = Membership.objects.for_organization(workspace.organization_id).filter(
        user=actor)
    return workspace_roles_of(actor, memberships, [workspace]).get(workspace.pk, ())


def emails(workspace: Workspace, roles) -> list[str]:
    """Addresses of the members holding any of these roles in this workspace: a member
    whose grants leave them out of it, or give them other roles there, is not mailed."""
    wanted = set(roles)
    holders = [user_id for user_id, here in member_roles_in(workspace).items()
               if wanted.intersection(here)]
    return list(get_user_model().objects.filter(pk__in=holders).order_by("email")
                .values_list("email", flat=True))


def lock_stage(workspace: Workspace, kind: str) -> ReviewStage:
    """Lock the review, then the stage: the order every review service keeps."""
    if kind not in StageKind.values:
        raise ValidationError("No such stage.")
    review = ProductionReview.objects.select_for_update().filter(workspace=workspace).first()
    if review is None:
        raise ValidationError("Start the production review first.")
    return ReviewStage.objects.select_for_update().get(review=review, kind=kind)


def reviewer_emails(workspace: Workspace) -> list[str]:
    """Platform reviewers who may decide this workspace's stages: active staff in the
    reviewers' group (or superusers), never a member of the organization."""
    members = Membership.objects.filter(organization=workspace.organization_id)
    return list(get_user_model().objects.filter(is_active=True, is_staff=True)
                .filter(Q(groups__name=GROUP) | Q(is_superuser=True))
                .exclude(pk__in=members.values("user_id")).distinct()
                .order_by("email").values_list("email", flat=True))


def tell_reviewers(stage: ReviewStage, workspace: Workspace, *, by: str,
                   changed: list[str]) -> None:
    """Email the platform reviewers that a stage waits for them (after commit)."""
    send_templated("onboarding/email/stage_submitted", reviewer_emails(workspace), {
        "stage": stage, "workspace": workspace, "by": by,
        "changed": [catalog.FIELD_LABELS.get(key) or key for key in changed],
        "url": settings.SITE_URL + reverse("admin:onboarding_reviewstage_change",
                                           args=[stage.pk])})


def owner_emails(workspace: Workspace, kind: str) -> list[str]:
    """Everyone who fills in the stage, or makes its checks pass when the portal does."""
    spec = catalog.BY_KIND[kind]
    return emails(workspace, spec.submitters or spec.evidence_from)
