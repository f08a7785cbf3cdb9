"""Walk every URL pattern of our apps as a signed-in member of another organization.

Each pattern that names an organization's object must answer 404 to every method it
accepts. A new pattern whose URL arguments this walk cannot fill fails the test until
it is taught here, so no page slips through uncovered.
"""

import pytest
from django.urls import URLPattern, URLResolver, get_resolver, reverse

from workspaces.models import Invitation, JoinRequest
from workspaces.roles import Role
from workspaces.services.invitations import invite_member

OUR_APPS = ("accounts.", "workspaces.", "onboarding.", "keys.", "webhooks.", "usage.", "sandbox.",
            "audit.", "docs.", "portal.")

# Patterns that name no organization's object, each with the reason it is safe.
UNSCOPED = {
    "access": "the signed-in user's own state",
    "access_resend_verification": "the signed-in user's own address",
    "access_join_request_create": "only organizations that claimed the user's own domain",
    "organization_create": "creates a new organization",
    "invitation": "a bearer link; it says whom it invites and only that address can take it",
    "gateway_verify": "the API gateway's service token, not a member's session",
    "sandbox:ping": "authenticated by the sandbox key itself, which names its workspace",
    "sandbox:accounts": "authenticated by the sandbox key itself, which names its workspace",
    "sandbox:transactions": "authenticated by the sandbox key itself, which names its workspace",
    "docs:index": "public documentation",
    "docs:page": "public documentation",
    "gateway_usage": "the API gateway's service token; each record names its key, not a member",
    "admin:index": "the Django admin: platform staff only",
    "healthz": "a probe: says the process is up, names nothing",
    "readyz": "a probe: says whether the database and Redis answer, names nothing",
    "metrics": "the operators' scraper token; totals over every organization, none named",
    "admin:onboarding_reviewstage_change": "the Django admin: platform staff only",
    "admin:onboarding_reviewstage_screenshot": "the Django admin: platform staff only",
    "admin:onboarding_reviewstage_attachment": "the Django admin: platform staff only",
}


def _kwargs(entry) -> set[str]:
    return set(getattr(entry.pattern, "converters", {})) | set(entry.pattern.regex.groupindex)


def our_patterns(resolver=None, namespace="", inherited=frozenset()):
    """(name, URL argument names including those of enclosing includes)."""
    resolver = resolver or get_resolver()
    for entry in resolver.url_patterns:
        if isinstance(entry, URLResolver):
            ns = f"{namespace}{entry.namespace}:" if entry.namespace else namespace
            yield from our_patterns(entry, ns, inherited | _kwargs(entry))
        elif isinstance(entry, URLPattern) and entry.lookup_str.startswith(OUR_APPS):
            yield f"{namespace}{entry.name}", inherited | _kwargs(entry)


@pytest.fixture
def victim(db, workspace_factory, membership_factory, user_factory, owner, workspace,
           settings, tmp_path):
    """Organization A with one of each kind of object the URLs can name."""
    organization = workspace.organization
    member = membership_factory(organization=organization, roles=[Role.DEVELOPER])
    invitation, _ = invite_member(actor=owner, organization=organization,
                                  email="invitee@a.test", roles=[Role.VIEWER])
    from keys.tests.factories import approve_sandbox, issue

    key, _ = issue(approve_sandbox(workspace), owner)
    from outbox.services import emit
    from webhooks import delivery as webhook_delivery
    from webhooks.tests.factories import add_endpoint

    endpoint = add_endpoint(workspace, owner, "https://hooks.example.com/")
    event = emit(workspace=workspace, environment="sandbox", type="key.created", data={})
    (delivery_id,) = webhook_delivery.dispatch(event.pk)
    from onboarding.review import services as review_services
    from onboarding.tests.factories import screenshot

    settings.MEDIA_ROOT = tmp_path
    lead = membership_factory(organization=organization, roles=[Role.TECHNICAL_LEAD]).user
    review_services.start_production_review(actor=owner, workspace=workspace)
    review_services.save_stage_answers(actor=lead, workspace=workspace, kind="consent",
                                       answers={"terms_url": "https://a.example.com/terms"},
                                       screenshot=screenshot())
    from django.core.files.uploadedfile import SimpleUploadedFile

    security = membership_factory(organization=organization, roles=[Role.SECURITY_OWNER]).user
    review_services.save_stage_answers(  # an evidence file for the walk to ask for
        actor=security, workspace=workspace, kind="audit", answers={},
        attachment=SimpleUploadedFile("policy.pdf", b"%PDF-1.7\n", "application/pdf"))
    asker = user_factory(email="asker@a.test")
    join_request = JoinRequest.objects.create(organization=organization, user=asker)
    from workspaces.domain_claims import claim_domain

    claim = claim_domain(actor=owner, organization=organization, domain="a-corp.test")
    return {
        "org_slug": organization.slug,
        "ws_slug": workspace.slug,
        "membership_id": member.pk,
        "invitation_id": invitation.pk,
        "join_request_id": join_request.pk,
        "claim_id": claim.pk,
        "fmt": "csv",
        "environment": "sandbox",
        "public_id": key.public_id,
        "endpoint_id": endpoint.public_id,
        "delivery_id": delivery_id,
        "stage": "consent",
    }


@pytest.fixture
def outsider_client(client, membership_factory, workspace_factory):
    """An Owner of organization B, with a workspace of the same slug as A's."""
    other = workspace_factory(slug="ws-shared")
    membership = membership_factory(organization=other.organization, roles=[Role.OWNER])
    client.force_login(membership.user)
    return client


def accepted_methods(client, url: str) -> list[str]:
    response = client.get(url)
    if response.status_code != 405:
        return ["GET", "POST"]
    return [m.strip() for m in response["Allow"].split(",") if m.strip() != "OPTIONS"]


@pytest.mark.django_db
def test_every_scoped_url_answers_404_to_a_member_of_another_organization(
    outsider_client, victim
):
    walked, uncovered = [], []
    for name, kwargs in our_patterns():
        if name in UNSCOPED:
            continue
        if not kwargs or not kwargs <= victim.keys():
            uncovered.append(f"{name} {sorted(kwargs - victim.keys())}")
            continue
        url = reverse(name, kwargs={k: victim[k] for k in kwargs})
        for method in accepted_methods(outsider_client, url):
            response = getattr(outsider_client, method.lower())(url)
            assert response.status_code == 404, f"{method} {url} gave {response.status_code}"
            walked.append(f"{method} {name}")

    assert uncovered == [], "teach this test the URL arguments of: " + ", ".join(uncovered)
    assert len(walked) >= 20
    assert "GET request_log" in walked


@pytest.mark.django_db
def test_outsider_changed_nothing_of_the_other_organization(outsider_client, victim):
    for name, kwargs in our_patterns():
        if name not in UNSCOPED and kwargs and kwargs <= victim.keys():
            outsider_client.post(reverse(name, kwargs={k: victim[k] for k in kwargs}),
                                 {"roles": [Role.OWNER], "reason": "x", "name": "Pwned"})

    assert Invitation.objects.get(pk=victim["invitation_id"]).status == "pending"
    assert JoinRequest.objects.get(pk=victim["join_request_id"]).status == "pending"
    from webhooks.models import Delivery, Endpoint

    endpoint = Endpoint.objects.get(public_id=victim["endpoint_id"])
    assert (endpoint.enabled, endpoint.url) == (True, "https://hooks.example.com/")
    assert Delivery.objects.filter(endpoint=endpoint).count() == 1
    from onboarding.models import ReviewStage

    assert sorted(ReviewStage.objects.values_list("kind", "status")) == [
        ("audit", "in_progress"), ("billing", "not_started"), ("consent", "in_progress"),
        ("integration", "not_started")]


def test_every_pattern_of_our_apps_is_either_scoped_or_listed_as_unscoped():
    names = {name for name, _ in our_patterns()}

    assert set(UNSCOPED) <= names, f"stale entries: {set(UNSCOPED) - names}"


# Patterns an anonymous visitor may open, each with the reason; every other pattern
# sends them to sign in (LoginRequiredMiddleware, @login_not_required on these views).
PUBLIC = {
    "invitation": "the emailed link says whom it invites before anyone signs in",
    "gateway_verify": "the API gateway's service token authenticates",
    "gateway_usage": "the API gateway's service token authenticates",
    "sandbox:ping": "the sandbox key authenticates",
    "sandbox:accounts": "the sandbox key authenticates",
    "sandbox:transactions": "the sandbox key authenticates",
    "docs:index": "public documentation",
    "docs:page": "public documentation",
    "healthz": "a probe",
    "readyz": "a probe",
    "metrics": "the scraper's token authenticates",
}


@pytest.mark.django_db
def test_every_other_url_sends_an_anonymous_visitor_to_sign_in(client, victim):
    # given the URL arguments of organization A's objects, and a few public ones
    arguments = {**victim, "token": "not-a-token", "slug": "quickstart", "pk": 1,
                 "object_id": "1"}
    # The admin's pages send to the admin's sign-in, which is allauth's (portal/urls.py).
    sign_in = (reverse("account_login") + "?next=", reverse("admin:login") + "?next=")
    redirected, public = [], []

    for name, kwargs in our_patterns():
        assert kwargs <= arguments.keys(), f"teach this test the URL arguments of {name}"
        url = reverse(name, kwargs={k: arguments[k] for k in kwargs})

        # when an anonymous visitor opens it
        response = client.get(url)

        # then only the public ones answer; the others send them to sign in and back
        location = response.get("Location", "")
        to_sign_in = response.status_code == 302 and location.startswith(sign_in)
        if name in PUBLIC:
            assert not to_sign_in, f"{name} is public but asks to sign in"
            public.append(name)
        else:
            assert to_sign_in, f"{name} answered {response.status_code} {location}"
            redirected.append(name)

    assert sorted(public) == sorted(PUBLIC)
    assert {"access", "organization_home", "key_list", "usage"} <= set(redirected)


@pytest.fixture
def insider_client(client, victim, workspace_factory, membership_factory):
    """A member of the same organization, Technical lead in its other workspace only."""
    from workspaces.grants import grant
    from workspaces.models import Organization

    organization = Organization.objects.get(slug=victim["org_slug"])
    other = workspace_factory(organization=organization, slug="ws-other")
    membership = membership_factory(organization=organization, roles=[Role.VIEWER],
                                    restricted=True)
    grant(membership.user, other, [Role.TECHNICAL_LEAD])
    client.force_login(membership.user)
    client.other_workspace = other
    return client


@pytest.mark.django_db
def test_every_url_of_a_workspace_answers_404_to_an_insider_without_a_grant_there(
    insider_client, victim
):
    walked = []
    for name, kwargs in our_patterns():
        if name in UNSCOPED or "ws_slug" not in kwargs:
            continue
        url = reverse(name, kwargs={k: victim[k] for k in kwargs})
        for method in accepted_methods(insider_client, url):
            response = getattr(insider_client, method.lower())(url)
            assert response.status_code == 404, f"{method} {url} gave {response.status_code}"
            walked.append(f"{method} {name}")
    own = reverse("workspace_overview", args=[victim["org_slug"], "ws-other"])

    assert len(walked) >= 20
    assert "Technical lead" in insider_client.get(own).content.decode()
