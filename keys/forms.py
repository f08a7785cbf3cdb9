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
