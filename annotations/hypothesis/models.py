"""What the client keeps of a reader on the service: its preferences (`PATCH /profile`, sent
when the reader dismisses the sidebar's tutorial).

It belongs to the `annotations` app (same label and migrations), as `annotations.claims`'
models do.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models

# What the client sends (h's profile.update accepts this one alone), and what a reader who
# never said otherwise gets: Marginalia's sidebar opens on the page's annotations, not on
# hypothes.is's tutorial.
DEFAULTS = {"show_sidebar_tutorial": False}


class ClientProfileManager(models.Manager):
    def preferences_of(self, user) -> dict[str, Any]:
        stored = self.filter(user=user).values_list("preferences", flat=True).first()
        return {**DEFAULTS, **(stored or {})}

    def update_preferences(self, user, wanted: Any) -> dict[str, Any]:
        """Keep `wanted` (the PATCH's `preferences`); ValidationError naming what is wrong."""
        if not isinstance(wanted, dict):
            raise ValidationError({"preferences": "Give an object."})
        for name, value in wanted.items():
            if name not in DEFAULTS:
                raise ValidationError({"preferences": f"Unknown preference {str(name)[:40]!r}; "
                                       f"known: {', '.join(DEFAULTS)}."})  # fmt: skip
            if not isinstance(value, bool):
                raise ValidationError({"preferences": f"{name}: give true or false."})
        merged = {**self.preferences_of(user), **wanted}
        self.update_or_create(user=user, defaults={"preferences": merged})
        return merged


class ClientProfile(models.Model):
    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="client_profile"
    )
    preferences = models.JSONField(default=dict, blank=True)

    objects = ClientProfileManager()

    class Meta:
        app_label = "annotations"

    def __str__(self) -> str:
        return f"client preferences of {self.user}"
