"""Reads of webhook endpoints and their delivery log, with the scope as argument."""

from datetime import datetime

from django.core.paginator import Page, Paginator
from django.db.models import Min, OuterRef, Prefetch, Subquery

from webhooks.models import Attempt, Delivery, DeliveryStatus, Endpoint, Environment

LOG_PAGE_SIZE = 25


def delivery_log(endpoint: Endpoint, *, status: str = "", event_type: str = "",
                 page: str | int = 1) -> Page:
    """One page of an endpoint's deliveries, newest first, each with its attempts:
    three queries whatever the page holds."""
    deliveries = (Delivery.objects.for_endpoint(endpoint).select_related("event")
                  .prefetch_related(Prefetch("attempts",
                                             queryset=Attempt.objects.order_by("number"))))
    if status in DeliveryStatus.values:
        deliveries = deliveries.filter(status=status)
    if event_type:
        deliveries = deliveries.filter(event__type=event_type)
    return Paginator(deliveries, LOG_PAGE_SIZE).get_page(page)


def _acknowledged(workspace):
    return Endpoint.objects.for_workspace(workspace).filter(environment=Environment.SANDBOX)


def webhook_acknowledged_at(workspace) -> datetime | None:
    """When a sandbox endpoint of the workspace first answered an event with 2xx."""
    return _acknowledged(workspace).aggregate(first=Min("first_acknowledged_at"))["first"]


def webhook_acknowledged_subquery(workspace_field: str = "workspace") -> Subquery:
    """The same time as an expression, to annotate a query whose rows name a workspace
    in `workspace_field`, so that reading it costs no query of its own."""
    return Subquery(Endpoint.objects.filter(workspace=OuterRef(workspace_field),
                                            environment=Environment.SANDBOX)
                    .order_by().values("workspace")
                    .annotate(first=Min("first_acknowledged_at")).values("first")[:1])
