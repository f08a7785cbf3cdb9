from django import forms

from usage.selectors import DEFAULT_RANGE, RANGES, Filters


class UsageFilterForm(forms.Form):
    """The usage page's filters; choices are the workspace's own keys and endpoints."""

    range = forms.ChoiceField(choices=[(r.key, r.label) for r in RANGES.values()],
                              required=False, initial=DEFAULT_RANGE)
    key = forms.ChoiceField(label="API key", required=False)
    endpoint = forms.ChoiceField(required=False)

    def __init__(self, *args, keys: list[tuple[int, str, str]], endpoints: list[str], **kwargs):
        super().__init__(*args, **kwargs)
        self._key_pks = {public_id: pk for pk, public_id, _ in keys}
        self.fields["key"].choices = [("", "All keys")] + [
            (public_id, f"{name} ({public_id})") for _, public_id, name in keys]
        self.fields["endpoint"].choices = [("", "All endpoints")] + [(e, e) for e in endpoints]

    def filters(self) -> Filters:
        """The valid filters, or the defaults when the form is unbound or invalid."""
        if not self.is_bound or not self.is_valid():
            return Filters()
        data = self.cleaned_data
        return Filters(range=data["range"] or DEFAULT_RANGE,
                       key_pk=self._key_pks.get(data["key"]), endpoint=data["endpoint"])
