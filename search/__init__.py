"""Search: one index over claims, annotations, source descriptions and text passages
(`index`, kept equal to the rows through their signals), the query language (`query`,
`text`), two backends (`postgres`: full text and GIN; `sqlite`: FTS5), the engine that
plans, pages and facets a search, and its page and API.

search reads sources and annotations and may be read by citations; nothing below it
imports search.
"""
