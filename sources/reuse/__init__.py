"""Text reuse: the passages two texts of a library share (winnowed word shingles), the
reports the pages show (shared passages, a compilation attributed to its originals, the
other occurrences of a passage), and recording them as source links.

Builds on the rest of `sources`; independent of `sources.sharing`.
"""
