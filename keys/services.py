"""Every write about API keys. The secret exists only in the return value of
issue_key/rotate_key: it is never stored, logged or put in an audit row."""

from datetime import datetime, timedelta

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.urls import reverse
from django.utils import timezone

from accounts.mail import send_templated
from audit.models import Action
from audit.services import record
from keys import secrets
from keys.cache import DropBarrier
from keys.models import ApiKey, Environment, ExpiryNotice, KeyPolicy, Scope
from keys.policy import NOTICE_DAYS, expiry_error
from outbox.models import Event
from outbox.services import emit
from workspaces.models import Membership, Organization, Workspace
from workspaces.roles import Role

DEFAULT_OVERLAP = timedelta(hours=24)
MAX_OVERLAP = timedelta(days=7)


def pepper() -> bytes:
    return settings.API_KEY_PEPPER.encode()


def _check_environment(workspace: Workspace, environment: str) -> None:
    if workspace.is_open(environment):
        return
    if environment == Environment.SANDBOX:
        raise ValidationError("Sandbox keys are available once sandbox access is approved.")
    raise ValidationError("Production keys are available once all four production "
                          "review stages are approved.")


def _check_expiry(workspace: Workspace, environment: str, expires_at) -> None:
    """Refuse an expiry the organization's key policy does not allow."""
    rules = KeyPolicy.objects.rules_for(workspace.organization_id, environment)
    error = expiry_error(rules, expires_at, timezone.now())
    if error:
        raise ValidationError({"expires_at": error})


def _new_key(*, actor, workspace, environment, name, scopes, expires_at,
             rotated_from=None) -> tuple[ApiKey, str]:
    secret = secrets.generate(environment)
    # Read the organization's suspension under a lock that suspend_organization's FOR
    # UPDATE waits for: a key issued while the organization is being suspended is either
    # seen by the suspension or born suspended.
    suspended_at = (Organization.objects.select_for_update(no_key=True)
                    .values_list("suspended_at", flat=True)
                    .get(pk=workspace.organization_id))
    key = ApiKey.objects.create(
        workspace=workspace, environment=environment, name=name,
        workspace_path=f"{workspace.organization.slug}/{workspace.slug}",
        suspended_at=suspended_at,
        public_id=secrets.public_id(), secret_hash=secrets.hash_key(secret, pepper()),
        prefix=secrets.PREFIXES[environment], last4=secret[-4:], scopes=list(scopes),
        created_by=actor, expires_at=expires_at, rotated_from=rotated_from,
    )
    return key, secret


def _emit_created(key: ApiKey, replaces: str | None = None) -> None:
    emit(workspace=key.workspace, environment=key.environment, type="key.created",
         data={"key_id": key.public_id, "name": key.name, "environment": key.environment,
               "scopes": list(key.scopes), "replaces": replaces})


@transaction.atomic
def issue_key(*, actor, workspace: Workspace, environment: str, name: str, scopes,
              expires_at=None) -> tuple[ApiKey, str]:
    """Create a key and return it with its secret, which the caller shows exactly once."""
    # The workspace row serialises issuing, so the active-key limit holds under races.
    workspace = Workspace.objects.select_for_update().get(pk=workspace.pk)
    _check_environment(workspace, environment)
    name = " ".join(name.split())
    if not name:
        raise ValidationError({"name": "Name the key after where it is used, e.g. “web app”."})
    scopes = list(dict.fromkeys(scopes))
    if not scopes or not set(scopes) <= set(Scope.values):
        raise ValidationError({"scopes": "Choose at least one scope."})
    _check_expiry(workspace, environment, expires_at)
    active = ApiKey.objects.for_workspace(workspace).active().filter(environment=environment)
    limit = settings.MAX_ACTIVE_KEYS_PER_WORKSPACE
    if active.count() >= limit:
        raise ValidationError(f"This workspace already has {limit} active {environment} keys, "
                              "the most allowed. Revoke one you no longer use first.")
    key, secret = _new_key(actor=actor, workspace=workspace, environment=environment,
                           name=name, scopes=scopes, expires_at=expires_at)
    record(action=Action.KEY_ISSUED, actor=actor, workspace=workspace,
           target=key, details={"key_id": key.public_id, "name": name,
                                "environment": environment, "scopes": scopes})
    _emit_created(key)
    return key, secret


def _drop_from_caches_before_returning() -> None:
    """Make the service return only once every process's key cache has dropped the keys
    this transaction changes (keys/cache.py). Call inside the transaction, before the
    change."""
    if not settings.KEY_CACHE:
        return
    barrier = DropBarrier()
    with connection.cursor() as cursor:
        cursor.execute("SELECT txid_current()")
        (txid,) = cursor.fetchone()
    barrier.wait_on_commit(txid)


def _lock_key(workspace: Workspace, public_id: str) -> ApiKey:
    key = (ApiKey.objects.select_for_update().for_workspace(workspace)
           .filter(public_id=public_id).first())
    if key is None:
        raise ValidationError("That key does not exist.")
    if key.revoked_at:
        raise ValidationError("That key is already revoked.")
    return key


@transaction.atomic
def revoke_key(*, actor, workspace: Workspace, public_id: str, reason: str = "") -> ApiKey:
    """Stop a key at once: the very next verification refuses it, in every process.
    Platform staff revoking from the admin give a reason, kept in the audit event."""
    key = _lock_key(workspace, public_id)
    _drop_from_caches_before_returning()
    key.revoked_at, key.revoked_by = timezone.now(), actor
    key.save(update_fields=["revoked_at", "revoked_by"])
    details = {"key_id": key.public_id, "name": key.name}
    record(action=Action.KEY_REVOKED, actor=actor, workspace=workspace, target=key,
           details={**details, "reason": reason} if reason else details)
    emit(workspace=workspace, environment=key.environment, type="key.revoked",
         data={"key_id": key.public_id, "name": key.name, "environment": key.environment})
    return key


@transaction.atomic
def rotate_key(*, actor, workspace: Workspace, public_id: str,
               overlap: timedelta = DEFAULT_OVERLAP, expires_at=None) -> tuple[ApiKey, str]:
    """Issue a successor with the same name, scopes and expiry (or `expires_at` if given);
    the old key keeps working for the overlap window (at most 7 days) and then expires.
    While the old key overlaps, both count toward the active-key limit."""
    if not timedelta(0) <= overlap <= MAX_OVERLAP:
        raise ValidationError({"overlap_hours": "The overlap is between 0 hours and 7 days."})
    # The workspace row serialises rotations with issuing, so the limit holds under races.
    workspace = Workspace.objects.select_for_update().get(pk=workspace.pk)
    old = _lock_key(workspace, public_id)
    now = timezone.now()
    if old.expires_at and old.expires_at <= now:
        raise ValidationError("That key has expired; issue a new one instead.")
    if ApiKey.objects.filter(rotated_from=old).exists():
        raise ValidationError("That key was already rotated; rotate its successor instead.")
    expires_at = expires_at or old.expires_at
    _check_expiry(workspace, old.environment, expires_at)
    limit = settings.MAX_ACTIVE_KEYS_PER_WORKSPACE
    active = (ApiKey.objects.for_workspace(workspace).active(now)
              .filter(environment=old.environment).count())
    if overlap and active >= limit:
        raise ValidationError({"overlap_hours": (
            f"This workspace has {limit} active {old.environment} keys, the most allowed, "
            "and an overlap would make one more. Rotate with 0 hours of overlap, or revoke "
            "a key you no longer use first.")})
    _drop_from_caches_before_returning()
    old.expires_at = min(filter(None, [old.expires_at, now + overlap]))
    old.save(update_fields=["expires_at"])
    new, secret = _new_key(actor=actor, workspace=workspace, environment=old.environment,
                           name=old.name, scopes=old.scopes, expires_at=expires_at,
                           rotated_from=old)
    record(action=Action.KEY_ROTATED, actor=actor, workspace=workspace,
           target=new, details={"key_id": new.public_id, "replaces": old.public_id,
                                "old_key_expires_at": old.expires_at.isoformat()})
    _emit_created(new, replaces=old.public_id)
    return new, secret


@transaction.atomic
def set_key_policy(*, actor, organization, environment: str, max_key_age_days: int,
                   expiry_required: bool, max_expiry_days: int | None) -> KeyPolicy:
    """Save one environment's key policy and audit what changed; keys issued or rotated
    from now on obey it."""
    if environment not in Environment.values:
        raise ValidationError("Unknown environment.")
    if not 1 <= max_key_age_days <= 730:
        raise ValidationError({"max_key_age_days": "Between 1 and 730 days."})
    if max_expiry_days is not None and not 1 <= max_expiry_days <= 730:
        raise ValidationError({"max_expiry_days": "Between 1 and 730 days, or empty for "
                                                  "no limit."})
    KeyPolicy.objects.get_or_create(organization=organization, environment=environment)
    policy = KeyPolicy.objects.select_for_update().get(organization=organization,
                                                       environment=environment)
    fields = ("max_key_age_days", "expiry_required", "max_expiry_days")
    before = {field: getattr(policy, field) for field in fields}
    after = {"max_key_age_days": max_key_age_days, "expiry_required": expiry_required,
             "max_expiry_days": max_expiry_days}
    changed = {field: [before[field], after[field]] for field in fields
               if before[field] != after[field]}
    if not changed:
        return policy
    for field, value in after.items():
        setattr(policy, field, value)
    policy.updated_by = actor
    policy.save()
    record(action=Action.KEY_POLICY_CHANGED, actor=actor, organization=organization,
           target=policy, details={"environment": environment, "changed": changed})
    return policy


def _workspace_owner_emails(workspace: Workspace) -> list[str]:
    owners = (Membership.objects.for_organization(workspace.organization_id)
              .with_role(Role.OWNER).select_related("user"))
    return sorted({m.user.email for m in owners
                   if Workspace.objects.visible_to(m.user).filter(pk=workspace.pk).exists()})


def send_expiry_notices(now=None) -> int:
    """Email the Owners of each key's workspace 14 and 3 days before it expires; each
    notice goes out once (an ExpiryNotice row), however often this runs. Keys that were
    rotated are skipped: their expiry ends a planned overlap."""
    now = now or timezone.now()
    soon = (ApiKey.objects.active(now).filter(expires_at__lte=now + timedelta(
        days=max(NOTICE_DAYS)), rotated_to__isnull=True).values_list("pk", flat=True))
    sent = 0
    for key_id in soon:
        sent += _notify_expiry(key_id, now)
    return sent


@transaction.atomic
def _notify_expiry(key_id: int, now) -> int:
    key = (ApiKey.objects.select_for_update().select_related("workspace__organization")
           .filter(pk=key_id).first())
    if key is None or key.status(now) != "active" or key.expires_at is None:
        return 0
    due = [days for days in NOTICE_DAYS if key.expires_at <= now + timedelta(days=days)]
    if not due or ExpiryNotice.objects.filter(key=key, days_before=min(due)).exists():
        return 0
    for days in due:
        ExpiryNotice.objects.get_or_create(key=key, days_before=days)
    workspace = key.workspace
    send_templated("keys/email/key_expiring", _workspace_owner_emails(workspace), {
        "key": key, "workspace": workspace, "days": min(due),
        "url": settings.SITE_URL + reverse("key_list", args=[
            workspace.organization.slug, workspace.slug, key.environment]),
    })
    return 1


EXPIRY_NOTICE = timedelta(days=7)


def announce_expiring_keys(*, now: datetime | None = None) -> int:
    """A key.expiring event, once per key, for every active key expiring within 7 days;
    returns how many were announced."""
    now = now or timezone.now()
    announced = 0
    for key in (ApiKey.objects.active(now).filter(expires_at__lte=now + EXPIRY_NOTICE)
                .select_related("workspace").order_by("expires_at")[:1000]):
        with transaction.atomic():
            if Event.objects.filter(workspace_id=key.workspace_id, type="key.expiring",
                                    data__key_id=key.public_id).exists():
                continue
            emit(workspace=key.workspace, environment=key.environment, type="key.expiring",
                 data={"key_id": key.public_id, "name": key.name,
                       "environment": key.environment,
                       "expires_at": key.expires_at.isoformat()})
            announced += 1
    return announced
