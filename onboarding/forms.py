from django import forms

from audit.selectors import KINDS
from onboarding.models import ProductArea


class SandboxRequestForm(forms.Form):
    use_case = forms.CharField(
        label="What are you building?", max_length=2000,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text="A few sentences: your product, who uses it, which data you need.",
    )
    expected_monthly_calls = forms.IntegerField(
        label="Expected API calls per month", min_value=1, max_value=1_000_000_000,
        help_text="A rough estimate is fine.",
    )
    product_areas = forms.MultipleChoiceField(
        label="Product areas", choices=ProductArea.choices, widget=forms.CheckboxSelectMultiple,
        error_messages={"required": "Choose at least one product area."},
    )

    def clean_use_case(self) -> str:
        text = " ".join(self.cleaned_data["use_case"].split())
        if len(text) < 20:
            raise forms.ValidationError("Tell us a little more (at least 20 characters).")
        return self.cleaned_data["use_case"].strip()


SANDBOX_FIELDS = ("use_case", "expected_monthly_calls", "product_areas")


class FirstRunForm(SandboxRequestForm):
    """The organization, its first workspace and, for the person shipping the integration,
    the sandbox request: one form, so that a sandbox key is one more submission away."""

    name = forms.CharField(label="Organization name", max_length=120,
                           help_text="Your company's name as your teammates know it.")
    workspace_name = forms.CharField(
        label="First workspace", max_length=120, required=False,
        help_text="One workspace per integration or app, e.g. “Payouts app”. "
                  "Leave empty to name it later.")
    building = forms.BooleanField(
        required=False, label_suffix="",
        label="I'm building the integration: request sandbox access now")

    field_order = ["name", "workspace_name", "building", *SANDBOX_FIELDS]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if not self.ships_integration:
            for field in SANDBOX_FIELDS:
                self.fields[field].required = False

    @property
    def ships_integration(self) -> bool:
        return self.is_bound and self.fields["building"].widget.value_from_datadict(
            self.data, self.files, self.add_prefix("building"))

    def clean_use_case(self) -> str:
        return super().clean_use_case() if self.ships_integration else ""

    def clean(self):
        data = super().clean()
        if not self.ships_integration:
            # Unticked, the sandbox fields are not sent anywhere: nothing in them can fail.
            for field in SANDBOX_FIELDS:
                self._errors.pop(field, None)
        elif not data.get("workspace_name", "").strip():
            self.add_error("workspace_name", "Name the workspace the sandbox access is for.")
        return data

    def sandbox(self) -> dict | None:
        """The sandbox request's fields, or None when the box is not ticked."""
        if not self.ships_integration:
            return None
        return {field: self.cleaned_data[field] for field in SANDBOX_FIELDS}


class AuditFilterForm(forms.Form):
    kind = forms.ChoiceField(required=False, choices=[("", "All kinds"), *KINDS.items()])
    actor = forms.EmailField(required=False, label="Actor's email")
    since = forms.DateField(required=False, label="From",
                            widget=forms.DateInput(attrs={"type": "date"}))
    until = forms.DateField(required=False, label="Until",
                            widget=forms.DateInput(attrs={"type": "date"}))

    def clean(self):
        data = super().clean()
        if data.get("since") and data.get("until") and data["since"] > data["until"]:
            self.add_error("until", "The end date is before the start date.")
        return data
