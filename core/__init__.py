"""The shared toolkit: what every package of Marginalia uses and nothing of Marginalia's own.

core holds no models and imports no other package of Marginalia (`make lint` checks it):
hand-written SQL helpers (`rows`), If-Match versioning (`versioning`), HTML sanitising
(`sanitize`), EDTF dates (`dates`), words and their folded forms (`text`), names in
another script (`transliterate`), upload checks (`uploads`), API helpers for 400s and
bounded ids (`api`), page helpers (`http`), database outages (`db`), batched reactions to
several writes (`batching`), change history (`history`), and the app configuration the
other packages share (`apps`). Above it: jobs, then sources, annotations, search, citations.
"""
