"""Stored XSS: payloads in every user-text field, then every page rendered in Chromium.

Every text field of every model whose rows belong to a library is filled with payloads
(found by walking the models, so that fields added later are covered); the real entry
points get them too: an imported HTML page and a Markdown file (with payload file names),
a CSL-JSON metadata import, annotation comments in Markdown, people's names. Then every
page of the site (discovered from the URL resolver) is opened in Chromium, where each
payload would call `window.__xss(n)` if it ever ran. The test fails on any call and on any
Content-Security-Policy violation: a violation means markup got through that only the
policy stopped.
"""

from __future__ import annotations

import contextlib
import json
import time
from itertools import cycle
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import models
from django.test import Client

from sources.importers import import_text_revision
from sources.metadata_import import import_metadata
from sources.sharing import backup
from tests.factories import make_annotation
from tests.security.payloads import PAYLOADS, fitting
from tests.security.world import World, all_routes, build_world, urls_for

pytestmark = pytest.mark.browser

# Fields a program parses (dates, URLs, checksums, identifiers) or that must keep an
# invariant (a quote equals its text), and stored HTML that is sanitised by contract:
# payloads reach those through the importers and forms instead.
SKIP_FIELDS = {
    "issued", "accessed", "date", "sha256", "slug", "url", "wikidata_id", "colour",
    "namespace", "name_key", "exact", "prefix", "suffix", "text", "html", "comment_html",
    "key_hash", "password",
}  # fmt: skip
SPY = """
window.__xssCalls = [];
window.__xss = (n) => window.__xssCalls.push(n);
window.__csp = [];
document.addEventListener("securitypolicyviolation", (e) => {
  window.__csp.push(`${e.violatedDirective} blocked ${e.blockedURI || "inline"} ` +
                    `at ${e.sourceFile}:${e.lineNumber} «${e.sample}»`);
});
"""


def text_fields(model: type[models.Model]) -> list[models.Field]:
    return [
        f
        for f in model._meta.concrete_fields
        if isinstance(f, models.CharField | models.TextField)
        and not f.choices
        and f.name not in SKIP_FIELDS
    ]


def poison_fields(world: World, payloads) -> int:
    """Every text field of every row of the library gets a payload; returns how many."""
    count = 0
    for part in backup.owned_models():
        if part.history_of is not None or part.model._meta.auto_created:
            continue
        for field in text_fields(part.model):
            fits = cycle(fitting(field.max_length) or ["<b>"])
            for pk in backup.rows_of(part, world.library).values_list("pk", flat=True):
                part.model._base_manager.filter(pk=pk).update(**{field.attname: next(fits)})
                count += 1
        for field in part.model._meta.concrete_fields:
            if isinstance(field, models.JSONField):
                value = poisoned_json(field, payloads)
                rows = backup.rows_of(part, world.library)
                if field.null:  # only where it holds something (a passage has no region)
                    rows = rows.filter(**{f"{field.attname}__isnull": False})
                rows.update(**{field.attname: value})
    return count


def poisoned_json(field: models.JSONField, payloads) -> Any:
    """Payloads in the shape the field holds: a page map, a dict, a list of dicts."""
    if field.name == "page_map":
        return [[0, next(payloads)]]
    if field.name == "keywords":
        return [next(payloads), next(payloads)]
    if field.default is dict:
        return {"DOI": next(payloads), next(payloads): next(payloads)}
    return [{"index": 0, "status": "failed", "message": next(payloads), next(payloads): "x"}]


def poison_entry_points(world: World) -> None:
    """Payloads through what users really use: imports, Markdown comments, names."""
    alice, bob = world.users["alice"], world.users["bob"]
    source = world.objects["source"][0]
    page = "<html><body>" + "".join(f"<p>{p}</p>" for p in PAYLOADS) + "</body></html>"
    text = import_text_revision(
        source, SimpleUploadedFile(f"{PAYLOADS[6]}.html", page.encode()), user=alice
    )
    markdown = "\n\n".join(PAYLOADS)
    import_text_revision(source, SimpleUploadedFile("notes.md", markdown.encode()), user=alice)
    items = [{"id": f"x{n}", "type": "book", "title": p, "note": p, "author": [{"family": p}]}
             for n, p in enumerate(PAYLOADS)]  # fmt: skip
    upload = SimpleUploadedFile(f"{PAYLOADS[10]}.json", json.dumps(items).encode())
    import_metadata(world.library, upload, user=alice, fmt="csl-json")
    for payload in PAYLOADS[:20]:
        start = text.text.index(payload[:4]) if payload[:4] in text.text else 0
        make_annotation(text=text, creator=alice, start=start, end=start + 3, comment=payload,
                        tags=[f"theme:{payload[:150]}"[:190]])  # fmt: skip
    make_annotation(text=text, creator=bob, start=0, end=2, comment=PAYLOADS[0],
                    visibility="private")  # fmt: skip
    for user in world.users.values():
        user.first_name, user.last_name = PAYLOADS[3], PAYLOADS[8][:150]
        user.save()


@pytest.fixture
def poisoned(live_server, transactional_db) -> World:
    world = build_world()
    assert poison_fields(world, cycle(PAYLOADS)) > 50
    poison_entry_points(world)
    return world


def html_pages(world: World, user) -> list[str]:
    """Every page (and browsable API view) that answers the user with HTML."""
    client = Client()
    client.force_login(user)
    found = []
    for route in all_routes():
        if "GET" not in route.methods():
            continue
        for url in urls_for(route, world):
            response = client.get(url, HTTP_ACCEPT="text/html")
            if response.status_code == 200 and "text/html" in response.get("Content-Type", ""):
                found.append(url)
    return found


TABS = 4


def visit_all(context, urls: list[str]) -> list[tuple[str, dict[str, list]]]:
    """Each page's payload calls and policy violations, once it has loaded and its scripts'
    requests are done (the reading view streams the rest of a text after the load). Most of
    a visit is waiting for the network to stay quiet for 500 ms, so TABS pages are opened
    at once and their quiet spells overlap (~45 s a walk one page at a time)."""
    tabs = [context.new_page() for _ in range(TABS)]
    seen = []
    try:
        for first in range(0, len(urls), TABS):
            batch = list(zip(tabs, urls[first : first + TABS], strict=False))
            for tab, url in batch:
                tab.goto(url, wait_until="load")
            for tab, _ in batch:
                # A page that polls (a job's progress) is never idle; it has loaded all the same.
                with contextlib.suppress(Exception):
                    tab.wait_for_load_state("networkidle", timeout=3_000)
            time.sleep(0.05)  # violation events are dispatched asynchronously
            for tab, url in batch:
                seen.append((url, tab.evaluate("({calls: window.__xssCalls, csp: window.__csp})")))
    finally:
        for tab in tabs:
            tab.close()
    return seen


# One test per reader (the owner; bob, who also sees his private work), so that two
# workers can walk at once.
@pytest.mark.parametrize("name", ["alice", "bob"])
def test_no_payload_runs_and_no_policy_is_violated_on_any_page(poisoned, page, sign_in, name):
    page.context.add_init_script(SPY)
    problems = []
    user = poisoned.users[name]
    sign_in(page, user)
    urls = html_pages(poisoned, user)
    assert len(urls) > 20, "too few pages found to mean anything"
    for url, seen in visit_all(page.context, urls):
        assert seen["calls"] is not None, f"{url}: the spy was not installed in its tab"
        if seen["calls"]:
            problems.append(f"{url} as {name}: payloads {seen['calls']} RAN")
        problems += [f"{url} as {name}: CSP {v}" for v in seen["csp"]]
    assert not problems, "\n".join(problems)
