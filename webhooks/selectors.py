"""Reads of webhook endpoints and their delivery log, with the scope as argument."""

from datetime import datetime

from django.core.paginator import Page, Paginator
from django.db.models import Exists, Min, OuterRef, Prefetch, Subquery

from portal import keyset
from webhooks.models import Attempt, Delivery, DeliveryStatus, Endpoint, Environment, Event

LOG_PAGE_SIZE = 25


def delivery_log(endpoint: Endpoint, *, status: str = "", event_type: str = "",
                 before: str = "") -> keyset.Page:
    """One page of an endpoint's deliveries, newest first, after the `before` cursor,
    each with its attempts: two queries whatever the page or the log holds (keyset over
    the (endpoint, created_at) index; no COUNT(*), which grows with the log)."""
    deliveries = (Delivery.objects.for_endpoint(endpoint).select_related("event")
                  .prefetch_related(Prefetch("attempts",
                                             queryset=Attempt.objects.order_by("number"))))
    if status in DeliveryStatus.values:
        deliveries = deliveries.filter(status=status)
    if event_type:
        deliveries = deliveries.filter(event__type=event_type)
    return keyset.page(deliveries, field="created_at", after=keyset.decode(before),
                       size=LOG_PAGE_SIZE)


def event_log(workspace, environment: str, *, event_type: str = "", status: str = "",
              page: str | int = 1) -> Page:
    """One page of a workspace's events of one environment, newest first, each with its
    deliveries and their endpoints: three queries whatever the page holds."""
    events = (Event.objects.for_scope(workspace, environment)
              .prefetch_related(Prefetch("deliveries", queryset=Delivery.objects
                                         .select_related("endpoint").order_by("pk"))))
    if event_type:
        events = events.filter(type=event_type)
    if status == "none":
        events = events.filter(deliveries__isnull=True)
    elif status in DeliveryStatus.values:
        events = events.filter(Exists(Delivery.objects.filter(event=OuterRef("pk"),
                                                              status=status)))
    return Paginator(events, LOG_PAGE_SIZE).get_page(page)


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
