from django import forms

from keys.models import Scope


class IssueKeyForm(forms.Form):
    name = forms.CharField(max_length=80, label="Key name",
                           help_text="Where it is used, e.g. “web app (staging)”.")
    scopes = forms.MultipleChoiceField(
        choices=Scope.choices, widget=forms.CheckboxSelectMultiple, label="Scopes",
        error_messages={"required": "Choose at least one scope."},
        initial=[Scope.ACCOUNTS_READ, Scope.TRANSACTIONS_READ],
    )
    expires_at = forms.DateTimeField(
        required=False, label="Expires (optional)",
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}),
        help_text="Leave empty for a key that lasts until revoked. Times are UTC.",
    )


class RotateKeyForm(forms.Form):
    overlap_hours = forms.IntegerField(
        min_value=0, max_value=7 * 24, initial=24, label="Overlap (hours)",
        help_text="How long the old key keeps working beside the new one (at most 168).",
    )
    expires_at = forms.DateTimeField(
        required=False, label="New key expires (optional)",
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}),
        help_text="Leave empty to keep the current key's expiry. Times are UTC.",
    )


class KeyPolicyForm(forms.Form):
    """One environment's key policy; the page shows one per environment (prefixed)."""

    max_key_age_days = forms.IntegerField(
        min_value=1, max_value=730, label="Maximum key age (days)",
        help_text="The integration verification fails while an active key is older.")
    expiry_required = forms.BooleanField(required=False, label="Every key must have an expiry")
    max_expiry_days = forms.IntegerField(
        required=False, min_value=1, max_value=730, label="Longest expiry allowed (days)",
        help_text="Empty: no limit. With a limit, every key needs an expiry within it.")
