"""Web pages brought into a library: a page's metadata and a snapshot of its text.

- `extract`: what a page says of itself (Highwire `citation_*`, Dublin Core, Open Graph,
  JSON-LD `ScholarlyArticle`/`NewsArticle`, `<title>`, `rel=canonical`) as a CSL item, and
  its main text (trafilatura), as HTML for the text importer;
- `capture`: a source made from a page, or a new revision of the source already holding it;
- `views`: *Save to Marginalia*, the window the bookmarklet opens and hands the page to.
"""
