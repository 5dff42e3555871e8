"""Forms of the sharing pages: they parse and validate; `members` and `tokens` do the work."""

from __future__ import annotations

from django import forms

from sources.models import Role
from sources.sharing import tokens


class InviteForm(forms.Form):
    who = forms.CharField(
        label="User name or e-mail address",
        max_length=254,
        help_text="Someone not registered yet finds the invitation when they sign in with "
        "this address.",
    )
    role = forms.ChoiceField(choices=Role.choices, initial=Role.VIEWER)
    message = forms.CharField(
        label="Message (optional)",
        max_length=500,
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
    )


class RoleForm(forms.Form):
    role = forms.ChoiceField(choices=Role.choices)


class PublishForm(forms.Form):
    is_public = forms.BooleanField(required=False, label="Published read-only to everyone")


class TokenForm(forms.Form):
    name = forms.CharField(max_length=100, help_text="What will use it: “Zotero sync”, “laptop”.")
    read_only = forms.BooleanField(
        required=False, label="Read-only", help_text="It can read but never change anything."
    )
    expires = forms.TypedChoiceField(
        choices=tokens.EXPIRY_CHOICES, coerce=int, empty_value=None, required=False
    )
