"""One way to stamp a decision on a pending thing (no ORM: the models mix it in)."""

from django.utils import timezone


class Decidable:
    """A pending thing someone decides once: an invitation, a join request, a sandbox
    request, a review stage. Each has `status`, `decided_at` and `decided_by`."""

    def decide(self, status: str, *, by, at=None) -> None:
        """Stamp the outcome, who decided (None: the policy) and when; the caller saves."""
        self.status = status
        self.decided_at = at or timezone.now()
        self.decided_by = by
