"""Page forms for channels. They only validate input; the services do the writing."""

from django import forms

from channels_app.models import Channel
from videohost.errors import DomainError


def apply_domain_error(form: forms.Form, error: DomainError) -> None:
    """Show a service's refusal on the form: per-field details where they fit, else on top."""
    placed = False
    for field, messages in (error.details or {}).items():
        target = field if field in form.fields else None
        for message in messages if isinstance(messages, list | tuple) else [messages]:
            form.add_error(target, str(message))
            placed = True
    if not placed:
        form.add_error(None, error.message)


class ChannelForm(forms.Form):
    title = forms.CharField(
        max_length=Channel._meta.get_field("title").max_length,
        widget=forms.TextInput(attrs={"autocomplete": "off", "placeholder": "My channel"}),
    )
    description = forms.CharField(
        required=False,
        max_length=Channel._meta.get_field("description").max_length,
        widget=forms.Textarea(attrs={"rows": 4, "placeholder": "What is this channel about?"}),
    )
