"""What the historian writes on a text: annotations (W3C Web Annotation: offsets in code
points, quote selectors), tags, anchoring and re-anchoring on new revisions, the W3C
presenter and protocol, the annotation create (one statement on PostgreSQL), history.

Claims, evidence and events are the subpackage `claims`, which builds on annotations.
annotations imports sources, jobs and core; never search or citations, which follow its
signals (`annotations.reanchoring.annotations_moved`) or join its writes
(`annotations.writes.register_companion`).
"""
