"""The library: libraries and their members, sources described in CSL variables, creators,
immutable text revisions, provenance links between sources, text and metadata importers,
the CSL mapping, citation keys, a source's history, the demo library.

Its concerns live in subpackages that build on it: `sharing` (members, invitations, API
tokens, backups) and `reuse` (text-reuse detection). sources imports core and jobs only;
it never learns what is written on it (annotations, search, citations): they subscribe to
its signals or join its batches (`core.batching`).
"""
