"""Background jobs: long work (large imports, re-anchoring, exports, re-indexing, backups)
run inline or by Celery workers, with progress, retries and a lock (`queue`, `runner`,
`tasks`), and the pages that follow one job (`views`).

jobs knows no kind of work: the package that enqueues it registers it (`registry`). It
imports only core; the packages above it import jobs to register and enqueue their work.
"""
