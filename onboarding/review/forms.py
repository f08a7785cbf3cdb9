"""The customer's forms of the review stages: each turns its fields into the answers the
services store, and locks the fields a change request does not name."""

from django import forms
from django.core.exceptions import ValidationError

from onboarding.review import catalog

SCREENSHOT_ACCEPT = ",".join(catalog.SCREENSHOT_TYPES)
ATTACHMENT_ACCEPT = ",".join(catalog.ATTACHMENT_TYPES)


def _purpose_field(scope: str) -> str:
    return "purpose_" + scope.replace(":", "_")


class StageForm(forms.Form):
    """Fields named after answer keys, except where `answer_key` says otherwise."""

    def __init__(self, *args, answers: dict | None = None, editable=None, **kwargs):
        super().__init__(*args, initial=self.initial_from(answers or {}), **kwargs)
        self.editable = editable
        for name in self.fields:
            self.lock(name)

    def lock(self, name: str) -> None:
        """Disable a field the owner may not change now (a note goes with its question)."""
        key = catalog.base_field(self.answer_key(name))
        if self.editable is not None and key not in self.editable:
            self.fields[name].disabled = True

    @staticmethod
    def answer_key(name: str) -> str:
        return name

    def initial_from(self, answers: dict) -> dict:
        return dict(answers)

    def answers(self) -> dict:
        return {key: value for key, value in self.cleaned_data.items()
                if key not in catalog.FILE_FIELDS}

    def uploads(self) -> dict:
        """The uploaded files by field, for the services."""
        return {key: self.cleaned_data.get(key) for key in catalog.FILE_FIELDS
                if key in self.fields}

    def add_service_errors(self, error: ValidationError) -> None:
        """Put a service's errors next to their fields, the rest above the form."""
        for key, messages in getattr(error, "message_dict", {None: error.messages}).items():
            names = [n for n in self.fields if key and self.answer_key(n) == key]
            for message in messages:
                if names:
                    self.add_error(names[0], message)
                else:
                    label = catalog.item_label(key)
                    self.add_error(None, f"{label}: {message}" if key else message)


class ConsentForm(StageForm):
    consent_duration = forms.ChoiceField(
        label="Consent duration", required=False,
        choices=[("", "Choose…"), *catalog.CONSENT_DURATIONS.items()])
    revocation = forms.CharField(
        label="How end users revoke consent", required=False, max_length=2000,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="Where in your product, and what happens to their data.")
    privacy_policy_url = forms.URLField(label="Privacy policy URL", required=False,
                                        assume_scheme="https")
    terms_url = forms.URLField(label="Terms URL", required=False, assume_scheme="https")
    consent_screen = forms.CharField(
        label="Consent screen description", required=False, max_length=2000,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="What the end user sees and chooses, step by step. Describe it, upload a "
                  "screenshot, or both: one of the two is required.")
    screenshot = forms.FileField(
        label="Consent screen screenshot", required=False,
        widget=forms.FileInput(attrs={"accept": SCREENSHOT_ACCEPT}),
        help_text="PNG, JPEG or WebP, under 2 MB. Only your organization and platform "
                  "reviewers can see it.")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        scopes = {}
        for scope, label in catalog.DATA_SCOPES.items():
            scopes[_purpose_field(scope)] = forms.CharField(
                label=f"Purpose: {label} ({scope})", required=False, max_length=500,
                widget=forms.Textarea(attrs={"rows": 2}),
                help_text="Leave empty if you do not request this scope.",
                initial=self.initial.get(_purpose_field(scope), ""))
        self.fields = {**scopes, **self.fields}
        for name in scopes:
            self.lock(name)

    @staticmethod
    def answer_key(name: str) -> str:
        return "scopes" if name.startswith("purpose_") else name

    def initial_from(self, answers: dict) -> dict:
        initial = {k: v for k, v in answers.items() if k != "scopes"}
        for scope, purpose in answers.get("scopes", {}).items():
            initial[_purpose_field(scope)] = purpose
        return initial

    def answers(self) -> dict:
        data = self.cleaned_data
        answers = {key: data[key] for key in ("consent_duration", "revocation",
                                              "privacy_policy_url", "terms_url",
                                              "consent_screen")}
        answers["scopes"] = {scope: data[_purpose_field(scope)].strip()
                             for scope in catalog.DATA_SCOPES
                             if data[_purpose_field(scope)].strip()}
        return answers


class BillingForm(StageForm):
    plan = forms.ChoiceField(
        label="Plan", required=False, widget=forms.RadioSelect,
        choices=[(p.key, f"{p.name}: {p.price}, {p.included_calls:,} calls included")
                 for p in catalog.PLANS])


class AuditForm(StageForm):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for key, question in catalog.QUESTIONS:
            self.fields[key] = forms.ChoiceField(
                label=question, required=False, widget=forms.RadioSelect,
                choices=list(catalog.ANSWERS.items()), initial=self.initial.get(key))
            self.fields[f"{key}_why"] = forms.CharField(
                label=f"If No, why not? ({key[1:].lstrip('0')})", required=False,
                max_length=catalog.NOTE_LIMIT, initial=self.initial.get(f"{key}_why", ""),
                help_text="Needed for a No: a few words on why, or what you do instead.")
        self.fields["attachment"] = forms.FileField(
            label="Evidence file", required=False,
            widget=forms.FileInput(attrs={"accept": ATTACHMENT_ACCEPT}),
            help_text="Optional: a policy or a test report. PDF, PNG or JPEG, under 5 MB. "
                      "Only your organization and platform reviewers can see it.")
        for name in self.fields:
            self.lock(name)


FORMS = {"consent": ConsentForm, "billing": BillingForm, "audit": AuditForm}
