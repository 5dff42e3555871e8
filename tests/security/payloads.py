"""Classic and mutation XSS payloads. Each one, if it ever ran, would call
`window.__xss(n)` with its own number: the browser test records the calls and every
Content-Security-Policy violation, and expects none of either.

Sources of inspiration: the OWASP XSS filter evasion cheat sheet, PortSwigger's XSS cheat
sheet, and the published DOMPurify/bleach mutation-XSS bypasses (noscript, math/mtext,
svg/style, form nesting, comment and CDATA confusion).
"""

from __future__ import annotations

_TEMPLATES = [
    # Classic: elements that run script or fire handlers on their own
    "<script>__xss(N)</script>",
    '"><script>__xss(N)</script>',
    "'><script>__xss(N)</script>",
    "</title><script>__xss(N)</script>",
    "</textarea><script>__xss(N)</script>",
    "</script><script>__xss(N)</script>",
    "<img src=x onerror=__xss(N)>",
    '<img src="x" onerror="__xss(N)">',
    "<img src=x onerror=&#95;&#95;xss(N)>",
    "<svg onload=__xss(N)>",
    "<svg/onload=__xss(N)>",
    "<body onload=__xss(N)>",
    "<iframe src=javascript:__xss(N)></iframe>",
    '<iframe srcdoc="<script>parent.__xss(N)</script>"></iframe>',
    "<details open ontoggle=__xss(N)>",
    "<input autofocus onfocus=__xss(N)>",
    "<select autofocus onfocus=__xss(N)></select>",
    "<video><source onerror=__xss(N)></video>",
    "<audio src=x onerror=__xss(N)></audio>",
    "<object data=javascript:__xss(N)></object>",
    "<embed src=javascript:__xss(N)>",
    '<object data="data:text/html,<script>parent.__xss(N)</script>"></object>',
    '<meta http-equiv="refresh" content="0;url=javascript:__xss(N)">',
    "<base href=javascript:__xss(N)//>",
    "<marquee onstart=__xss(N)>x</marquee>",
    "<img srcset=x onerror=__xss(N)>",
    '<style>@import "javascript:__xss(N)";</style>',
    '<div style="background:url(javascript:__xss(N))">x</div>',
    '<link rel=stylesheet href="javascript:__xss(N)">',
    # Attribute and URL context breakouts
    '" autofocus onfocus="__xss(N)',
    "' autofocus onfocus='__xss(N)",
    '" onmouseover="__xss(N)" x="',
    "javascript:__xss(N)",
    "JaVaScRiPt:__xss(N)",
    '<a href="javascript:__xss(N)">click</a>',
    '<a href="&#106;avascript:__xss(N)">click</a>',
    '<a href="jav&#x09;ascript:__xss(N)">click</a>',
    '<a href=" javascript:__xss(N)">click</a>',
    '<a href="data:text/html,<script>__xss(N)</script>">click</a>',
    '<a href="vbscript:__xss(N)">click</a>',
    # Mutation XSS: markup that a sanitiser and a browser parse differently
    '<noscript><p title="</noscript><img src=x onerror=__xss(N)>">',
    "<math><mtext><table><mglyph><style><img src=x onerror=__xss(N)>",
    "<svg><style><img src=x onerror=__xss(N)></style></svg>",
    "<form><math><mtext></form><form><mglyph><style></math><img src onerror=__xss(N)>",
    '<math><mtext><h1><a><h6></a></h6><mglyph><svg><mtext><style><a title="</style>'
    '<img src onerror=__xss(N)>">',
    '<!--<img src="--><img src=x onerror=__xss(N)//">',
    "<![CDATA[<img src=x onerror=__xss(N)>]]>",
    "<scr<script>ipt>__xss(N)</scr</script>ipt>",
    "<textarea><img src=x onerror=__xss(N)></textarea>",
    "<title><img src=x onerror=__xss(N)></title>",
    "<xmp><img src=x onerror=__xss(N)></xmp>",
    "<noembed><img src=x onerror=__xss(N)></noembed>",
    "<template><img src=x onerror=__xss(N)></template>",
    "<svg><a xlink:href=javascript:__xss(N)><text y=20>x</text></a></svg>",
    '<math href="javascript:__xss(N)">x</math>',
    "<svg><script>__xss(N)</script></svg>",
    '<svg><![CDATA[><image xlink:href="]]><img src=x onerror=__xss(N)>"></svg>',
    "<img src=x onerror=__xss(N)//",
    "<img\tsrc=x\tonerror=__xss(N)>",
    "<<img src=x onerror=__xss(N)>>",
    # Template, JSON and Markdown contexts
    "{{constructor.constructor('__xss(N)')()}}",
    "${__xss(N)}",
    '\\"}]</script><script>__xss(N)</script>',
    "[click](javascript:__xss(N))",
    '![x](x" onerror="__xss(N))',
    "[click](&#106;avascript:__xss(N))",
    '<http://example.org/"onmouseover="__xss(N)">',
]

PAYLOADS: list[str] = [t.replace("N", str(n)) for n, t in enumerate(_TEMPLATES, start=1)]


def fitting(limit: int | None) -> list[str]:
    """The payloads that fit a field of `limit` characters."""
    return [p for p in PAYLOADS if limit is None or len(p) <= limit]
