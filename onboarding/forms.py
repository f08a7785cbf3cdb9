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
