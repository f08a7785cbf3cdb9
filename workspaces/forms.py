import html

from django import forms
from django.forms.utils import flatatt
from django.utils.safestring import mark_safe

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


class PlainSelect(forms.Select):
    """A select whose options are written in Python, not through a template each: a list
    of hundreds of workspaces costs microseconds instead of a template render per option.
    Flat choices only (no groups)."""

    def render(self, name, value, attrs=None, renderer=None):
        chosen = set(self.format_value(value))
        options = "".join(
            f'<option value="{html.escape(str(choice))}"'
            f'{" selected" if str(choice) in chosen else ""}>{html.escape(str(label))}</option>'
            for choice, label in self.choices)
        attributes = flatatt({**self.build_attrs(self.attrs, attrs), "name": name})
        return mark_safe(f"<select{attributes}>{options}</select>")  # noqa: S308 (escaped above)


class NameForm(forms.Form):
    name = forms.CharField(max_length=120)

    def __init__(self, *args, label: str = "Name", help_text: str = "", **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["name"].label = label
        self.fields["name"].help_text = help_text


class InviteForm(forms.Form):
    """An address, its organization roles, and workspace rows: each names one workspace
    and, optionally, a role there that replaces the organization roles. The page shows
    one row (or as many as were filled in) whatever the organization's size, so its cost
    does not grow with the number of workspaces; "Add a workspace" adds a row (in the
    browser with portal.js, else by a round trip that keeps what was typed)."""

    ALL, LISTED = "all", "listed"
    MAX_ROWS = 20
    ADD_ROW = "add_workspace_row"

    email = forms.EmailField(label="Email address", max_length=254)
    roles = RoleChoiceField()
    # Not required: a post without it (an older page, a script) means every workspace.
    scope = forms.ChoiceField(
        label="Workspaces", widget=forms.RadioSelect, initial=ALL, required=False, choices=[
            (ALL, "Every workspace, present and future (rows below only change the role)"),
            (LISTED, "Only the workspaces in the rows below")])

    def __init__(self, *args, organization, **kwargs):
        super().__init__(*args, **kwargs)
        self.workspace_by_pk = {w.pk: w for w in organization.workspaces.order_by("name")}
        slugs = self.initial.pop("workspace_slugs", ())
        prefilled = [w for w in self.workspace_by_pk.values() if w.slug in slugs]
        if prefilled:
            self.initial["scope"] = self.LISTED
        rows = (self.count_rows(self.data) if self.is_bound
                else self.initial.pop("row_count", len(prefilled)))
        workspace_choices = [("", "Choose a workspace"),
                             *((w.pk, w.name) for w in self.workspace_by_pk.values())]
        role_choices = [("", "Organization roles"), *((r.value, r.label) for r in Role)]
        self.rows = []
        for i in range(min(max(rows, 1), self.MAX_ROWS)):
            self.fields[f"row-{i}-workspace"] = forms.TypedChoiceField(
                coerce=int, required=False, label=f"Workspace in row {i + 1}", widget=PlainSelect,
                choices=workspace_choices,
                initial=prefilled[i].pk if i < len(prefilled) else None)
            self.fields[f"row-{i}-role"] = forms.ChoiceField(
                required=False, label=f"Role in row {i + 1}", choices=role_choices,
                widget=PlainSelect)
            self.rows.append((self[f"row-{i}-workspace"], self[f"row-{i}-role"]))

    @staticmethod
    def count_rows(data) -> int:
        """How many rows a submission holds (row-<i>-workspace, i from 0)."""
        numbers = [int(key.split("-")[1]) for key in data
                   if key.startswith("row-") and key.endswith("-workspace")
                   and key.split("-")[1].isdigit()]
        return max(numbers, default=0) + 1

    @classmethod
    def with_another_row(cls, data, *, organization) -> "InviteForm":
        """The form as submitted, with one more row, unbound: nothing is checked yet."""
        initial = {key: data.getlist(key) if key == "roles" else data.get(key)
                   for key in data if key != "csrfmiddlewaretoken"}
        return cls(organization=organization,
                   initial={**initial, "row_count": cls.count_rows(data) + 1})

    @staticmethod
    def initial_from(query) -> dict:
        """Initial values from a link's query: roles by value, workspaces by slug; anything
        unknown is ignored (the form still validates what is submitted)."""
        return {"roles": [r for r in query.getlist("role") if r in Role.values],
                "workspace_slugs": query.getlist("workspace")}

    def clean(self):
        data = super().clean()
        chosen = self._chosen()
        if len({w.pk for w, _ in chosen}) < len(chosen):
            raise forms.ValidationError("Choose each workspace in one row only.")
        if data.get("scope") == self.LISTED and not chosen:
            raise forms.ValidationError("Choose at least one workspace, or every workspace.")
        return data

    def _chosen(self) -> list:
        """(workspace, role or "") of every row that names a workspace."""
        return [(self.workspace_by_pk[pk], self.cleaned_data.get(f"row-{i}-role") or "")
                for i in range(len(self.rows))
                if (pk := self.cleaned_data.get(f"row-{i}-workspace"))]

    def add_error(self, field, error):
        """The service names "workspaces"; on this form they are the rows: its message
        goes above them."""
        if field is None and isinstance(error, forms.ValidationError) and hasattr(
                error, "error_dict"):
            for name, errors in error.error_dict.items():
                super().add_error(name if name in self.fields else None, errors)
            return
        super().add_error(field, error)

    def workspaces(self) -> list:
        """The workspaces the invitation is limited to; none for every workspace."""
        if self.cleaned_data["scope"] != self.LISTED:
            return []
        return [workspace for workspace, _ in self._chosen()]

    def workspace_roles(self) -> dict:
        """{workspace: [role]} for the workspaces given a role of their own."""
        return {workspace: [role] for workspace, role in self._chosen() if role}


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


class OrganizationSettingsForm(forms.Form):
    require_mfa = forms.BooleanField(
        required=False, label="Require two-factor authentication", label_suffix="",
        help_text="Members without an authenticator app or a security key are sent to set "
                  "one up before they can open this organization's pages.")


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
