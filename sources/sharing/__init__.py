"""Sharing a library: members and roles, invitations, publishing read-only, personal API
tokens, and whole-library backups and their restore.

Builds on the rest of `sources` (and on core and jobs); `sources` itself imports it only
to wire it (apps, urls, management commands).
"""
