"""Page forms: they only collect input; the rules live in accounts.services."""

from django import forms
from django.contrib.auth.password_validation import password_validators_help_text_html
from django.contrib.auth.validators import UnicodeUsernameValidator

from accounts.models import User
from videohost.errors import DomainError


def add_domain_errors(form: forms.Form, error: DomainError, *, rename: dict | None = None) -> None:
    """Show a service's per-field details next to the matching form fields."""
    rename = rename or {}
    if not error.details:
        form.add_error(None, error.message)
        return
    for field, messages in error.details.items():
        name = rename.get(field, field)
        target = name if name in form.fields else None
        for message in messages:
            form.add_error(target, message)


class PasswordPairForm(forms.Form):
    """A form where a new password is typed twice; `password_pair` names the two fields."""

    password_pair: tuple[str, str]

    def clean(self):
        cleaned = super().clean()
        first_field, second_field = self.password_pair
        first, second = cleaned.get(first_field), cleaned.get(second_field)
        if first and second and first != second:
            self.add_error(second_field, "The two passwords do not match.")
        return cleaned


class RegisterForm(PasswordPairForm):
    username = forms.CharField(
        max_length=150,
        # Checked here as well as in the service so it shows even when the passwords differ.
        validators=[UnicodeUsernameValidator()],
        help_text="Letters, digits and @/./+/-/_ only.",
        widget=forms.TextInput(attrs={"autocomplete": "username", "autofocus": True}),
    )
    email = forms.EmailField(widget=forms.EmailInput(attrs={"autocomplete": "email"}))
    password1 = forms.CharField(
        label="Password",
        strip=False,
        help_text=password_validators_help_text_html(),
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
    )
    password2 = forms.CharField(
        label="Password again",
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
    )

    password_pair = ("password1", "password2")


class LoginForm(forms.Form):
    username = forms.CharField(
        max_length=254,
        widget=forms.TextInput(attrs={"autocomplete": "username", "autofocus": True}),
    )
    password = forms.CharField(
        strip=False, widget=forms.PasswordInput(attrs={"autocomplete": "current-password"})
    )


class ProfileForm(forms.Form):
    display_name = forms.CharField(
        max_length=User._meta.get_field("display_name").max_length,
        required=False,
        help_text="Shown instead of your username.",
    )
    bio = forms.CharField(
        max_length=User._meta.get_field("bio").max_length,
        required=False,
        strip=False,
        widget=forms.Textarea(attrs={"rows": 5}),
    )
    # A plain FileField: Pillow checks happen once, in the service, for pages and API alike.
    avatar = forms.FileField(
        required=False,
        help_text="JPEG, PNG, GIF or WebP. It is cropped to a square.",
        widget=forms.FileInput(attrs={"accept": "image/jpeg,image/png,image/gif,image/webp"}),
    )
    remove_avatar = forms.BooleanField(required=False, label="Remove the current avatar")


class PasswordChangeForm(PasswordPairForm):
    old_password = forms.CharField(
        label="Current password",
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
    )
    new_password1 = forms.CharField(
        label="New password",
        strip=False,
        help_text=password_validators_help_text_html(),
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
    )
    new_password2 = forms.CharField(
        label="New password again",
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
    )

    password_pair = ("new_password1", "new_password2")
