from django import forms

from workspaces.models import BillingProfile
from workspaces.roles import ROLE_DESCRIPTIONS, Role


class RoleChoiceField(forms.MultipleChoiceField):
    """Roles as checkboxes; a forged value is refused like any invalid choice."""

    widget = forms.CheckboxSelectMultiple

    def __init__(self, **kwargs):
        kwargs.setdefault("choices", [(r.value, f"{r.label}: {ROLE_DESCRIPTIONS[r]}")
                                      for r in Role])
        kwargs.setdefault("error_messages", {
            "invalid_choice": "%(value)s is not a role you can grant.",
            "required": "Choose at least one role.",
        })
        super().__init__(**kwargs)


class NameForm(forms.Form):
    name = forms.CharField(max_length=120)

    def __init__(self, *args, label: str = "Name", help_text: str = "", **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["name"].label = label
        self.fields["name"].help_text = help_text


class InviteForm(forms.Form):
    email = forms.EmailField(label="Email address", max_length=254)
    roles = RoleChoiceField()
    workspaces = forms.ModelMultipleChoiceField(
        queryset=None, required=False, widget=forms.CheckboxSelectMultiple,
        label="Limit to workspaces",
        help_text="Leave all unticked to give access to every workspace.",
    )

    def __init__(self, *args, organization, **kwargs):
        super().__init__(*args, **kwargs)
        self.workspace_list = list(organization.workspaces.order_by("name"))
        self.fields["workspaces"].queryset = organization.workspaces.order_by("name")
        slugs = self.initial.pop("workspace_slugs", ())
        self.initial["workspaces"] = [w.pk for w in self.workspace_list if w.slug in slugs]
        for workspace in self.workspace_list:
            self.fields[f"role_in_{workspace.pk}"] = forms.ChoiceField(
                required=False, label=f"Role in {workspace.name}",
                choices=[("", "Organization roles"), *((r.value, r.label) for r in Role)])

    @staticmethod
    def initial_from(query) -> dict:
        """Initial values from a link's query: roles by value, workspaces by slug; anything
        unknown is ignored (the form still validates what is submitted)."""
        return {"roles": [r for r in query.getlist("role") if r in Role.values],
                "workspace_slugs": query.getlist("workspace")}

    def workspace_roles(self) -> dict:
        """{workspace: [role]} for the workspaces given a role of their own."""
        return {w: [self.cleaned_data[f"role_in_{w.pk}"]] for w in self.workspace_list
                if self.cleaned_data.get(f"role_in_{w.pk}")}


class MemberRolesForm(forms.Form):
    roles = RoleChoiceField()


class MemberAccessForm(forms.Form):
    everything = forms.BooleanField(required=False, label="Every workspace, present and future")
    workspaces = forms.ModelMultipleChoiceField(queryset=None, required=False,
                                                widget=forms.CheckboxSelectMultiple)

    def __init__(self, *args, organization, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["workspaces"].queryset = organization.workspaces.order_by("name")

    def clean(self):
        data = super().clean()
        if not data.get("everything") and not data.get("workspaces"):
            self.add_error("workspaces", "Choose at least one workspace, or every workspace.")
        return data

    def chosen(self):
        """None for every workspace, otherwise the chosen ones."""
        return None if self.cleaned_data["everything"] else list(self.cleaned_data["workspaces"])


class DomainForm(forms.Form):
    domain = forms.CharField(label="Domain", max_length=253,
                             help_text="Your company's email domain, such as example.com. "
                                       "You prove it by adding a DNS TXT record.")


class JoinRequestForm(forms.Form):
    organization = forms.TypedChoiceField(coerce=int, label="Organization")
    message = forms.CharField(required=False, max_length=500, widget=forms.Textarea(
        attrs={"rows": 3}), label="Message to the Owners (optional)")

    def __init__(self, *args, organizations, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["organization"].choices = [(o.id, o.name) for o in organizations]


class ApproveJoinForm(forms.Form):
    roles = RoleChoiceField()


class DeclineJoinForm(forms.Form):
    reason = forms.CharField(max_length=500, widget=forms.Textarea(attrs={"rows": 2}),
                             help_text="Shown to the person who asked.")


class BillingProfileForm(forms.ModelForm):
    # Longer than the column so that "Germany" earns the helpful message, not a length one.
    country = forms.CharField(max_length=60, required=False, label="Country",
                              help_text="Two-letter ISO code, e.g. DE or US.")

    class Meta:
        model = BillingProfile
        fields = ["legal_name", "address_line1", "address_line2", "city", "postal_code",
                  "country", "tax_id", "billing_email"]

    def clean_country(self) -> str:
        country = self.cleaned_data["country"].strip().upper()
        if country and (len(country) != 2 or not country.isalpha()):
            raise forms.ValidationError("Use the two-letter country code, e.g. DE or US.")
        return country


class WorkspaceRolesForm(forms.Form):
    """One member's role in one workspace; several roles there are granted by service."""

    workspace = forms.ModelChoiceField(queryset=None, widget=forms.HiddenInput)
    role = forms.ChoiceField(label="Role here", choices=[
        ("organization", "Organization roles"), ("none", "No access"),
        *((r.value, r.label) for r in Role)])

    def __init__(self, *args, organization, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["workspace"].queryset = organization.workspaces.all()

    def roles(self) -> list[str] | None:
        """None: the organization's roles; []: no access."""
        role = self.cleaned_data["role"]
        return None if role == "organization" else [] if role == "none" else [role]
