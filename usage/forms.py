from django import forms

from portal import keyset
from usage.selectors import (
    DEFAULT_RANGE,
    RANGES,
    STATUS_CLASS_RANGES,
    Filters,
    LogFilters,
)
from usage.services import RAW_RETENTION

RAW_DAYS = RAW_RETENTION.days


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


class RequestLogForm(forms.Form):
    """The request log's filters and its Request-Id search; `before` is the page cursor."""

    request_id = forms.CharField(label="Request-Id", required=False, max_length=100,
                                 help_text="Finds one call of the last "
                                           f"{RAW_DAYS} days, whatever the filters say.")
    status = forms.ChoiceField(choices=[("", "All statuses")] + [
        (label, label) for label in STATUS_CLASS_RANGES], required=False)
    key = forms.ChoiceField(label="API key", required=False)
    endpoint = forms.ChoiceField(required=False)
    before = forms.CharField(required=False, widget=forms.HiddenInput)

    def __init__(self, *args, keys: list[tuple[int, str, str]], endpoints: list[str], **kwargs):
        super().__init__(*args, **kwargs)
        self._key_pks = {public_id: pk for pk, public_id, _ in keys}
        self.fields["key"].choices = [("", "All keys")] + [
            (public_id, f"{name} ({public_id})") for _, public_id, name in keys]
        self.fields["endpoint"].choices = [("", "All endpoints")] + [(e, e) for e in endpoints]

    def clean_before(self) -> tuple | None:
        text = self.cleaned_data["before"]
        if not text:
            return None
        cursor = keyset.decode(text)
        if cursor is None:
            raise forms.ValidationError("This page link is not one the log handed out; "
                                        "start again from the newest calls.")
        return cursor

    def filters(self) -> LogFilters:
        """The valid filters, or none when the form is unbound or invalid."""
        if not self.is_bound or not self.is_valid():
            return LogFilters()
        data = self.cleaned_data
        return LogFilters(status_class=data["status"], key_pk=self._key_pks.get(data["key"]),
                          endpoint=data["endpoint"], request_id=data["request_id"].strip(),
                          before=data["before"])
