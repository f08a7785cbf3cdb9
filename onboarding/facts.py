"""Facts about one workspace's progress, loaded in a fixed number of queries.

The access state is computed from these facts, never stored by hand: the first key
from keys, the first call and the usage review from usage's per-workspace milestones,
the first acknowledged delivery from webhooks, and the production review's stage
statuses from the review itself.
"""

from django.contrib.postgres.expressions import ArraySubquery
from django.db.models import Count, F, Func, OuterRef, Subquery, Window
from django.db.models.functions import RowNumber

from keys.models import ApiKey, Environment
from onboarding.lanes import Person, WorkspaceFacts
from onboarding.models import ProductionReview, ReviewStage, SandboxRequest, StageKind
from usage.models import HourlyUsage, StatusClass, WorkspaceUsage
from webhooks.models import Endpoint
from webhooks.selectors import webhook_acknowledged_subquery
from workspaces.models import Invitation, Membership, Workspace
from workspaces.roles import Role

# At most this many people are loaded to name who a step waits on.
PEOPLE_LIMIT = 60


def load_facts(workspace) -> WorkspaceFacts:
    """Everything lanes.py needs about a workspace: three queries whatever its size."""
    return load_facts_of([workspace])[workspace.pk]


def load_facts_of(workspaces) -> dict[int, WorkspaceFacts]:
    """load_facts for many workspaces (their organization loaded), by workspace id: three
    queries however many workspaces, members and organizations."""
    if not workspaces:
        return {}
    ids = [w.pk for w in workspaces]
    # One query for the milestones, each a subquery on the workspace row.
    rows = (Workspace.objects.filter(pk__in=ids).annotate(
        first_key_at=Subquery(ApiKey.objects.filter(
            workspace=OuterRef("pk"), environment=Environment.SANDBOX)
            .order_by("created_at").values("created_at")[:1]),
        first_call_at=Subquery(WorkspaceUsage.objects.filter(workspace=OuterRef("pk"))
                               .values("first_call_at")[:1]),
        usage_reviewed_at=Subquery(WorkspaceUsage.objects.filter(workspace=OuterRef("pk"))
                                   .values("usage_reviewed_at")[:1]),
        webhook_acknowledged_at=webhook_acknowledged_subquery("pk"),
        review_started_at=Subquery(ProductionReview.objects.filter(workspace=OuterRef("pk"))
                                   .values("started_at")[:1]),
        first_live_key_at=Subquery(ApiKey.objects.filter(
            workspace=OuterRef("pk"), environment=Environment.PRODUCTION)
            .order_by("created_at").values("created_at")[:1]),
        first_live_call_at=Subquery(HourlyUsage.objects.filter(
            workspace=OuterRef("pk"), environment=Environment.PRODUCTION,
            status_class=StatusClass.SUCCESS).order_by("period_start")
            .values("period_start")[:1]),
        production_webhook_at=Subquery(Endpoint.objects.filter(
            workspace=OuterRef("pk"), environment=Environment.PRODUCTION)
            .order_by("created_at").values("created_at")[:1]),
        live_keys=Subquery(ApiKey.objects.filter(
            workspace=OuterRef("pk"), environment=Environment.PRODUCTION).active()
            .values("workspace").annotate(n=Count("pk")).values("n")[:1]),
        # Every role held in the organization, however many members: whether a review
        # stage waits on a role nobody holds must not depend on PEOPLE_LIMIT.
        roles_held=ArraySubquery(
            Membership.objects.active().filter(organization=OuterRef("organization"))
            .annotate(role=Func(F("roles"), function="unnest")).values("role").distinct()),
        roles_invited=ArraySubquery(
            Invitation.objects.pending().filter(organization=OuterRef("organization"))
            .annotate(role=Func(F("roles"), function="unnest")).values("role").distinct()),
        **{f"stage_{kind}": Subquery(ReviewStage.objects.filter(
            review__workspace=OuterRef("pk"), kind=kind).values("status")[:1])
           for kind in StageKind.values},
    ).values("pk", "sandbox_approved_at", "first_key_at", "first_call_at", "usage_reviewed_at",
             "webhook_acknowledged_at", "production_approved_at", "review_started_at",
             "first_live_key_at", "first_live_call_at", "production_webhook_at", "live_keys",
             "roles_held", "roles_invited", *(f"stage_{kind}" for kind in StageKind.values)))
    # The latest request of each workspace (DISTINCT ON the workspace).
    latest = {r.workspace_id: r for r in SandboxRequest.objects.filter(workspace__in=ids)
              .order_by("workspace_id", "-created_at", "-id").distinct("workspace_id")
              .only("workspace_id", "status", "created_at", "decided_at", "reason")}
    # The first PEOPLE_LIMIT people of each organization, in one query.
    people: dict[int, list[Person]] = {}
    for org, name, email, roles, _ in (
            Membership.objects.active()
            .filter(organization__in={w.organization_id for w in workspaces})
            .exclude(roles=[Role.VIEWER])
            .annotate(rank=Window(RowNumber(), partition_by=F("organization"),
                                  order_by=[F("joined_at").asc(), F("pk").asc()]))
            .filter(rank__lte=PEOPLE_LIMIT).order_by("organization", "rank")
            .values_list("organization", "user__full_name", "user__email", "roles", "rank")):
        people.setdefault(org, []).append(Person(name or email, tuple(roles)))
    facts = {}
    by_id = {w.pk: w for w in workspaces}
    for progress in rows:
        workspace = by_id[progress.pop("pk")]
        facts[workspace.pk] = _facts(workspace, progress, latest.get(workspace.pk),
                                     people.get(workspace.organization_id, ()))
    return facts


def _facts(workspace, progress: dict, latest, people) -> WorkspaceFacts:
    stages = tuple((kind, progress.pop(f"stage_{kind}")) for kind in StageKind.values)
    progress["live_keys"] = progress["live_keys"] or 0
    progress["roles_held"] = frozenset(progress["roles_held"])
    progress["roles_invited"] = frozenset(progress["roles_invited"])
    return WorkspaceFacts(
        organization_slug=workspace.organization.slug,
        organization_name=workspace.organization.name,
        workspace_slug=workspace.slug,
        workspace_name=workspace.name,
        sandbox_status=latest.status if latest else None,
        sandbox_requested_at=latest.created_at if latest else None,
        sandbox_decided_at=latest.decided_at if latest else None,
        sandbox_reason=latest.reason if latest else "",
        people=tuple(people),
        review_stages=stages if progress["review_started_at"] else (),
        **progress,
    )
