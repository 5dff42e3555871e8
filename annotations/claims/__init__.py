"""Claims in the researcher's words, the evidence (highlights) for and against them, the
events they are about, provenance chains (W3C PROV-O), the timeline, their history and
the demo library's claims.

Builds on the rest of `annotations` (and on sources, jobs and core); annotations imports
it only to wire it (apps, urls, the demo command, the reading view's claims panel).
"""
