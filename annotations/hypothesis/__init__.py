"""The Hypothesis client against Marginalia: an annotation service under /hypothesis/.

The client (npm `hypothesis`, vendored under static/vendor/hypothesis/) runs unmodified: its
sidebar page (`app.html`), its boot script rendered from the package's template, and the
API it calls (`api/`: the index of routes, links, token, profile, groups, search and
annotations), read from the client's own source (services/api.ts, api-routes.ts, auth.ts)
and h's (views/api/*, services/oauth/_jwt_grant_token.py).

- `urls`: the routes; `views`: the pages and the API;
- `tokens`: grant tokens Marginalia mints for a signed-in user (an HS256 JWT, RFC 7523) and
  the bearer tokens the token endpoint trades them for;
- `rows`: annotations as Hypothesis rows and back (the one visibility rule of
  `AnnotationQuerySet.visible_to`; a private annotation is "Only me");
- `uris`: page addresses as the client sends them, normalised to find a source.
"""
