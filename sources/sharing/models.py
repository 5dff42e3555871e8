"""Sharing a library: invitations to it, and the personal API tokens its members use.

The work (who may invite, the last owner, hashing keys) lives in `members.py` and
`tokens.py`; these rows only record it. They belong to the `sources` app (same label,
tables and migrations): `sources.apps` finds them here.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.conf import settings
from django.db import models
from django.db.models import Q

from sources.models import Library, Role

if TYPE_CHECKING:
    from sources.models import AnyUser


class InvitationState(models.TextChoices):
    PENDING = "pending", "Pending"
    ACCEPTED = "accepted", "Accepted"
    DECLINED = "declined", "Declined"
    WITHDRAWN = "withdrawn", "Withdrawn"


class InvitationQuerySet(models.QuerySet):
    def pending(self) -> InvitationQuerySet:
        return self.filter(state=InvitationState.PENDING)

    def addressed_to(self, user: AnyUser) -> InvitationQuerySet:
        """Pending invitations for `user`: to their account, or to their e-mail address
        from before they had one."""
        if not user.is_authenticated:
            return self.none()
        mine = Q(invitee=user)
        if user.email:
            mine |= Q(invitee__isnull=True, email=user.email.strip().lower())
        return self.pending().filter(mine)


class Invitation(models.Model):
    """An owner's offer of a role in a library, to a user or to an e-mail address."""

    library = models.ForeignKey(Library, on_delete=models.CASCADE, related_name="invitations")
    invitee = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="invitations",
    )
    email = models.EmailField(
        blank=True, help_text="Lower-cased; the invitation waits for whoever registers it."
    )
    role = models.CharField(max_length=10, choices=Role.choices, default=Role.VIEWER)
    state = models.CharField(
        max_length=10, choices=InvitationState.choices, default=InvitationState.PENDING
    )
    message = models.CharField(max_length=500, blank=True)
    invited_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created = models.DateTimeField(auto_now_add=True)
    responded = models.DateTimeField(null=True, blank=True)

    objects = InvitationQuerySet.as_manager()

    class Meta:
        ordering = ["-created", "-pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["library", "invitee"],
                condition=Q(state="pending", invitee__isnull=False),
                name="one_pending_invitation_per_user",
            ),
            models.UniqueConstraint(
                fields=["library", "email"],
                condition=Q(state="pending", invitee__isnull=True),
                name="one_pending_invitation_per_email",
            ),
            models.CheckConstraint(
                condition=Q(invitee__isnull=False) | ~Q(email=""),
                name="invitation_has_an_addressee",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.invitee or self.email} as {self.role} in {self.library}"

    @property
    def addressee(self) -> str:
        return self.invitee.get_username() if self.invitee_id else self.email


class ApiToken(models.Model):
    """A personal API key, shown once; only its SHA-256 is stored (`tokens.py`)."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="api_tokens"
    )
    name = models.CharField(max_length=100, help_text="What it is for: “Zotero sync”, “laptop”.")
    prefix = models.CharField(max_length=12, editable=False, help_text="Shown to tell keys apart.")
    key_hash = models.CharField(max_length=64, unique=True, editable=False)
    read_only = models.BooleanField(default=False, help_text="Refuse every change made with it.")
    created = models.DateTimeField(auto_now_add=True)
    last_used = models.DateTimeField(null=True, blank=True, editable=False)
    expires = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = "API token"
        ordering = ["-created", "-pk"]
        constraints = [
            models.UniqueConstraint(fields=["user", "name"], name="token_name_unique_per_user")
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"
