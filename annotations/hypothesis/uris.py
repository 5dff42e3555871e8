"""Page addresses as the Hypothesis client sends them: `sources.web.addresses` spells them
as sources are matched; a search takes at most MAX_URIS of them."""

from __future__ import annotations

from sources.web.addresses import normalised, spellings

MAX_URIS = 20  # the client sends a page's address and its links (canonical, DOI, …)

__all__ = ["MAX_URIS", "normalised", "spellings"]
