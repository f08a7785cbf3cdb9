from django import forms

from outbox import catalog
from webhooks.models import DeliveryStatus


class EndpointForm(forms.Form):
    url = forms.CharField(max_length=2048, label="Endpoint URL",
                          widget=forms.URLInput(attrs={"placeholder": "https://"}),
                          help_text="We POST signed events here. Redirects are not followed.")
    description = forms.CharField(max_length=200, required=False, label="Description")
    event_types = forms.MultipleChoiceField(
        choices=catalog.CHOICES, widget=forms.CheckboxSelectMultiple, label="Events to send",
        error_messages={"required": "Choose at least one event type."},
        initial=[t for t, _ in catalog.CHOICES if t != "webhook.test"],
    )


class DisableForm(forms.Form):
    reason = forms.CharField(max_length=300, required=False, label="Reason (optional)")


class ReplayForm(forms.Form):
    since = forms.DateTimeField(label="Replay events since",
                                widget=forms.DateTimeInput(attrs={"type": "datetime-local"}),
                                help_text="Times are UTC.")


class LogFilterForm(forms.Form):
    status = forms.ChoiceField(required=False, label="Status",
                               choices=[("", "Any status"), *DeliveryStatus.choices])
    type = forms.ChoiceField(required=False, label="Event type",
                             choices=[("", "Any event type"),
                                      *[(e.type, e.type) for e in catalog.CATALOG]])


class SampleEventForm(forms.Form):
    """Which event type to send as a test: webhook.test or one the endpoint receives."""

    event_type = forms.ChoiceField(label="Event type")

    def __init__(self, *args, endpoint, **kwargs):
        super().__init__(*args, **kwargs)
        types = ["webhook.test", *[t for t in endpoint.event_types
                                   if t != "webhook.test" and catalog.is_known(t)]]
        self.fields["event_type"].choices = [(t, t) for t in types]


class EventFilterForm(forms.Form):
    type = forms.ChoiceField(required=False, label="Event type",
                             choices=[("", "Any event type"),
                                      *[(e.type, e.type) for e in catalog.CATALOG]])
    status = forms.ChoiceField(required=False, label="Delivery status",
                               choices=[("", "Any status"), *DeliveryStatus.choices,
                                        ("none", "No endpoint subscribed")])
