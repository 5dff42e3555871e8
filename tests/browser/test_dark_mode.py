"""Dark mode follows the system and the header's toggle; every piece of text on the main
pages (highlights 1–4 deep, tag chips of each namespace colour, buttons, notices) keeps
WCAG AA contrast against what is really behind it, in both themes (Chromium)."""

from __future__ import annotations

import pprint

import pytest
from django.urls import reverse

from annotations.models import TagNamespace
from annotations.templatetags.tag_chips import PALETTE_SIZE, palette_index
from tests.factories import make_annotation, make_source, make_text

TEXT = (
    "Record of conversation between Comrade I. V. Stalin and Chairman Mao Zedong.\n\n"
    "Mao said the treaty mattered more than the loan. Stalin asked about the railway.\n\n"
    "The conversation lasted two hours; Molotov and Zhou Enlai were present."
)
# Every text node's colour against its composited background: WCAG 2 ratio, and whether it
# counts as large text (3:1 suffices). Colours come as rgb()/rgba() or color(srgb …).
CONTRAST_JS = """() => {
  const parse = (value) => {
    const n = value.match(/[\\d.]+/g).map(Number);
    const rgb = value.startsWith('color(') ? n.slice(0, 3).map((v) => v * 255) : n.slice(0, 3);
    return rgb.concat(n.length > 3 ? n[3] : 1);
  };
  const over = (top, bottom) => [0, 1, 2]
    .map((i) => top[i] * top[3] + bottom[i] * (1 - top[3])).concat(1);
  const theme = document.documentElement.dataset.theme;
  const dark = theme === 'dark' || (!theme && matchMedia('(prefers-color-scheme: dark)').matches);
  const background = (el) => {
    const layers = [];
    for (let node = el; node; node = node.parentElement) {
      layers.push(parse(getComputedStyle(node).backgroundColor));
    }
    let colour = dark ? [0, 0, 0, 1] : [255, 255, 255, 1];  // the canvas behind the page
    for (const layer of layers.reverse()) colour = over(layer, colour);
    return colour;
  };
  const luminance = ([r, g, b]) => {
    const c = [r, g, b].map((v) => {
      const s = v / 255;
      return s <= 0.03928 ? s / 12.92 : ((s + 0.055) / 1.055) ** 2.4;
    });
    return 0.2126 * c[0] + 0.7152 * c[1] + 0.0722 * c[2];
  };
  const skip = 'script, style, template, svg, [hidden], .visually-hidden, .skip-link, select';
  const found = [];
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  for (let node = walker.nextNode(); node; node = walker.nextNode()) {
    const el = node.parentElement;
    if (!node.data.trim() || !el || el.closest(skip) || !el.getClientRects().length) continue;
    const style = getComputedStyle(el);
    if (style.visibility === 'hidden') continue;
    const bg = background(el);
    const fg = over(parse(style.color), bg);
    const [a, b] = [luminance(fg), luminance(bg)].sort((x, y) => y - x);
    const size = parseFloat(style.fontSize);
    const large = size >= 24 || (Number(style.fontWeight) >= 700 && size >= 18.66);
    found.push({
      text: node.data.trim().slice(0, 40),
      tag: el.tagName + '.' + [...el.classList].join('.'),
      ratio: Math.round(((a + 0.05) / (b + 0.05)) * 100) / 100,
      needed: large ? 3 : 4.5,
    });
  }
  return found;
}"""


@pytest.fixture
def reading(library, alice):
    source = make_source(library=library, title="Stalin and Mao, 16 December 1949")
    text = make_text(source=source, text=TEXT, imported_by=alice)
    namespaces = {}
    for candidate in [f"ns{i}" for i in range(200)]:
        namespaces.setdefault(palette_index(candidate), candidate)
        if len(namespaces) == PALETTE_SIZE:
            break
    tags = [f"{namespace}:Mao" for namespace in namespaces.values()]
    TagNamespace.objects.create(library=library, namespace=namespaces[0], colour="#1f5f8b")
    # Four highlights over "the treaty mattered": 1, 2, 3 and 4 deep.
    for quote in [
        "Mao said the treaty mattered",
        "the treaty mattered more",
        "treaty mattered",
        "mattered",
    ]:
        make_annotation(text=text, creator=alice, quote=quote, tags=tags[:4], comment="A *note*.")
    make_annotation(text=text, creator=alice, quote="two hours", tags=tags[4:])
    return source


def low_contrast(page) -> list[dict]:
    return [item for item in page.evaluate(CONTRAST_JS) if item["ratio"] < item["needed"]]


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_every_text_keeps_aa_contrast_in_both_themes(
    browser, live_server, sign_in, alice, library, reading, scheme
):
    context = browser.new_context(base_url=live_server.url, color_scheme=scheme, locale="en-US")
    page = context.new_page()
    sign_in(page, alice)
    failing = {}
    for url in [
        reverse("source-detail", args=[reading.pk]),
        reverse("library-detail", args=[library.slug]),
        reverse("tag-manager", args=[library.slug]),
        reverse("search") + "?q=treaty",
        reverse("home"),
    ]:
        page.goto(url)
        if "sources/" in url:
            page.locator("[data-annotate][data-state=ready]").wait_for()
            assert page.locator("#reading mark.hl-d4").count() >= 1  # the deepest shade is checked
        if found := low_contrast(page):
            failing[url] = found
    background = page.evaluate("getComputedStyle(document.body).backgroundColor")
    context.close()
    assert not failing, pprint.pformat(failing, width=110)
    assert (background == "rgb(22, 22, 24)") == (
        scheme == "dark"
    )  # the system's choice is followed


def test_the_toggle_overrides_the_system_and_is_kept(page, sign_in, alice, library):
    sign_in(page, alice)
    page.goto(reverse("home"))
    toggle = page.locator("[data-theme-toggle]")
    assert toggle.inner_text() == "Theme: as the system"
    toggle.click()
    assert page.evaluate("document.documentElement.dataset.theme") == "dark"
    page.goto(reverse("library-detail", args=[library.slug]))  # rendered dark by the server
    assert page.evaluate("document.documentElement.dataset.theme") == "dark"
    assert page.evaluate("getComputedStyle(document.body).backgroundColor") == "rgb(22, 22, 24)"
    assert low_contrast(page) == []
    page.locator("[data-theme-toggle]").click()
    page.locator("[data-theme-toggle]").click()
    page.reload()
    assert page.evaluate("document.documentElement.dataset.theme ?? ''") == ""
