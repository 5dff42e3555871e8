"""Citations and exports: pandoc's citeproc with a cache (`engine`), CSL styles and
locales (`styles/`), the export writers (CSL-JSON, BibLaTeX, BibTeX, RIS, formatted
bibliographies and notes), research-notes documents, passage citations, what an export is
of (`selection`) and how it is written (`options`), and their pages and API.

citations reads everything below it, search included; only config imports citations.
"""
