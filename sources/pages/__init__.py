"""See the page: a text revision's original file (a PDF, or the images of a scan), kept as it
came; its pages with their labels, sizes and the boxes of their words; the pages rendered as
images for the page view; scans read by OCR (Tesseract) in a background job.

Builds on the rest of `sources`; independent of `sources.sharing` and `sources.reuse`. It
learns of each import through the hooks it registers with `sources.importers`
(`register_page_hooks`), which cannot import it.
"""
