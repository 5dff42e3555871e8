"""The page view, its page images and words, the original file: read by whoever reads the
source, refused (404) to anyone else; images cached and sent with caching headers."""

from __future__ import annotations

import hashlib
import io
import json
from pathlib import Path

import pytest
from bs4 import BeautifulSoup
from django.urls import reverse
from PIL import Image

from sources.pages import render
from sources.pages.models import OriginalFile, Page
from tests.factories import make_library, make_source, make_text
from tests.sources.pages.conftest import import_pdf
from tests.sources.pages.scans import english_text, russian_text, text_pdf, wrapped

pytestmark = pytest.mark.django_db


@pytest.fixture
def revision(source, alice):
    """Revision 2 of the source: a two-page text-layer PDF."""
    pages = [wrapped(english_text())[:20], wrapped(russian_text())[:20]]
    return import_pdf(source, alice, text_pdf(pages), "record.pdf")


@pytest.fixture
def first_page(revision):
    return Page.objects.get(text=revision, index=0)


def urls(page: Page) -> list[str]:
    return [
        reverse("source-pages", args=[page.text.source_id]),
        reverse("page-image", args=[page.pk]),
        reverse("page-words", args=[page.pk]),
        reverse("original-download", args=[page.original_id]),
        reverse("page-crop", args=[page.text_id, page.index]) + "?xywh=percent:10,10,30,20",
        reverse("text-doubts", args=[page.text_id]),
    ]


def crop_url(page: Page, xywh: str, width: int | None = None) -> str:
    url = reverse("page-crop", args=[page.text_id, page.index]) + f"?xywh={xywh}"
    return url if width is None else f"{url}&width={width}"


def ink(png: bytes) -> int:
    """How many of the picture's pixels are dark (type, not paper)."""
    with Image.open(io.BytesIO(png)) as image:
        return sum(image.convert("L").histogram()[:128])


def test_a_viewer_reads_every_page_of_the_page_view(as_user, vera, revision):
    response = as_user(vera).get(reverse("source-pages", args=[revision.source_id]))
    assert response.status_code == 200
    body = response.content.decode()
    for page in Page.objects.filter(text=revision):
        assert f'data-page="{page.pk}"' in body
        assert f"{reverse('page-image', args=[page.pk])}?width=2400 2400w" in body
    assert body.count('loading="lazy"') == 1  # every page but the first waits to be seen
    script = BeautifulSoup(body, "html.parser").find("script", id="pages-config")
    config = json.loads(script.string)
    assert config["text"] == revision.pk
    assert config["canAnnotate"] is False  # vera reads


def test_an_editor_may_annotate_the_current_revision_on_its_pages(as_user, bob, revision):
    response = as_user(bob).get(reverse("source-pages", args=[revision.source_id]))
    assert response.context["config"]["canAnnotate"] is True
    older = as_user(bob).get(reverse("source-pages", args=[revision.source_id]) + "?revision=1")
    assert older.context["config"]["canAnnotate"] is False
    assert "has no pages" in older.content.decode()


def test_an_outsider_gets_404_for_every_page_route(as_user, mallory, first_page):
    for url in urls(first_page):
        assert as_user(mallory).get(url).status_code == 404, url


def test_an_anonymous_visitor_of_a_private_library_sees_nothing(client, first_page):
    view, *files = urls(first_page)
    assert client.get(view).status_code == 302  # asked to sign in: the library may be theirs
    for url in files:
        assert client.get(url).status_code == 404, url


def test_anyone_reads_the_pages_of_a_published_library(client, library, first_page):
    library.is_public = True
    library.save()
    for url in urls(first_page):
        assert client.get(url).status_code == 200, url


def test_page_routes_answer_only_get(as_user, alice, first_page):
    for url in urls(first_page):
        assert as_user(alice).post(url).status_code == 405, url


def test_a_page_image_is_a_jpeg_of_the_width_asked(as_user, vera, first_page):
    response = as_user(vera).get(reverse("page-image", args=[first_page.pk]) + "?width=800")
    assert response.status_code == 200
    assert response["Content-Type"] == "image/jpeg"
    image = Image.open(io.BytesIO(response.content))
    assert image.format == "JPEG"
    assert image.width == 800
    assert abs(image.height - 800 * first_page.height / first_page.width) <= 1
    assert "private" in response["Cache-Control"] and "max-age=86400" in response["Cache-Control"]


def test_a_page_image_asked_again_with_its_etag_is_not_sent_again(as_user, vera, first_page):
    url = reverse("page-image", args=[first_page.pk]) + "?width=400"
    etag = as_user(vera).get(url)["ETag"]
    again = as_user(vera).get(url, headers={"If-None-Match": etag})
    assert again.status_code == 304
    assert again.content == b""


@pytest.mark.parametrize("width", ["123", "abc", "-800", "99999999999999999999"])
def test_a_width_not_offered_is_a_400_naming_it(as_user, vera, first_page, width):
    response = as_user(vera).get(reverse("page-image", args=[first_page.pk]) + f"?width={width}")
    assert response.status_code == 400
    assert "width" in response.json()


def test_a_rendered_page_is_served_from_the_cache(as_user, vera, first_page, monkeypatch):
    url = reverse("page-image", args=[first_page.pk]) + "?width=400"
    first = as_user(vera).get(url).content

    def no_rendering(*args):
        raise AssertionError("rendered again")

    monkeypatch.setattr(render, "render", no_rendering)
    assert as_user(vera).get(url).content == first


def test_the_page_cache_never_holds_more_than_its_limit(as_user, vera, revision, settings):
    settings.PAGE_CACHE_ENTRIES = 3
    for page in Page.objects.filter(text=revision):
        for width in render.WIDTHS:
            url = reverse("page-image", args=[page.pk]) + f"?width={width}"
            assert as_user(vera).get(url).status_code == 200
    cached = list(Path(settings.PAGE_CACHE_DIR).glob("*.djcache"))
    assert 0 < len(cached) <= 3


def test_a_forged_checksum_does_not_fetch_another_files_cached_page(
    as_user, alice, mallory, first_page
):
    """Restored archives bring their own checksums: a row claiming another file's checksum
    gets its own page rendered, not the cached page of the file it names."""
    url = reverse("page-image", args=[first_page.pk]) + "?width=400"
    genuine = as_user(alice).get(url).content
    theirs = make_source(library=make_library(owner=mallory, name="Mallory's"))
    decoy = import_pdf(theirs, mallory, text_pdf([["Nothing to see here"]]), "decoy.pdf")
    OriginalFile.objects.filter(text=decoy).update(sha256=first_page.original.sha256)
    forged = Page.objects.get(text=decoy)
    response = as_user(mallory).get(reverse("page-image", args=[forged.pk]) + "?width=400")
    assert response.status_code == 200
    assert response.content != genuine


def test_a_pages_words_are_its_slice_of_the_text(as_user, vera, revision, first_page):
    body = as_user(vera).get(reverse("page-words", args=[first_page.pk])).json()
    assert body["text"] == revision.text[first_page.start : first_page.end]
    assert body["label"] == "1"
    assert body["words"] == first_page.words
    for start, end, *_ in body["words"]:
        assert first_page.start <= start < end <= first_page.end


def test_malformed_words_from_a_restored_archive_are_left_out(as_user, vera, first_page):
    good = first_page.words[0]
    Page.objects.filter(pk=first_page.pk).update(
        words=[good, ["1", 2, 3, 4, 5, 6], [1, 2], {"x": 1}, [True, 1, 2, 3, 4, 5]]
    )
    assert as_user(vera).get(reverse("page-words", args=[first_page.pk])).json()["words"] == [good]


def test_the_original_file_is_downloaded_as_it_came(as_user, vera, revision):
    original = OriginalFile.objects.get(text=revision)
    response = as_user(vera).get(reverse("original-download", args=[original.pk]))
    assert response.status_code == 200
    assert response.content == bytes(original.data)
    assert response["Content-Type"] == "application/pdf"
    assert response["Digest"] == f"sha-256={hashlib.sha256(response.content).hexdigest()}"
    assert 'filename="record.pdf"' in response["Content-Disposition"]


def test_the_page_view_says_so_when_there_is_no_page(as_user, vera, library):
    plain = make_source(library=library)
    make_text(source=plain)
    response = as_user(vera).get(reverse("source-pages", args=[plain.pk]))
    assert response.status_code == 200
    assert "has no pages" in response.content.decode()


def test_an_unknown_revision_is_a_404(as_user, vera, revision):
    url = reverse("source-pages", args=[revision.source_id])
    assert as_user(vera).get(url + "?revision=9").status_code == 404
    assert as_user(vera).get(url + "?revision=x").status_code == 404


def test_a_later_revision_without_pages_shows_the_last_pages_with_a_note(
    as_user, vera, alice, revision
):
    make_text(source=revision.source, text=revision.text + " corrected", imported_by=alice)
    response = as_user(vera).get(reverse("source-pages", args=[revision.source_id]))
    assert response.context["shown"] == revision
    assert "the current text has none" in response.content.decode()


def test_a_region_of_a_page_is_cropped_around_its_words(as_user, vera, first_page):
    _, _, left, top, right, bottom = first_page.words[0]
    x, y = left / 100 - 0.5, top / 100 - 0.5
    w, h = (right - left) / 100 + 1, (bottom - top) / 100 + 1
    response = as_user(vera).get(crop_url(first_page, f"percent:{x},{y},{w},{h}", 80))
    assert response.status_code == 200
    assert response["Content-Type"] == "image/png"
    with Image.open(io.BytesIO(response.content)) as image:
        assert image.width == 80
        page_aspect = first_page.height / first_page.width
        assert image.height == pytest.approx(80 * h / w * page_aspect, rel=0.05)
    assert ink(response.content) > 300  # the first word's type
    margin = as_user(vera).get(crop_url(first_page, "percent:0,0,5,3", 100))
    assert ink(margin.content) == 0  # the top-left corner is bare paper


def test_a_crop_is_cut_from_a_page_image_wide_enough_to_be_sharp(
    as_user, vera, first_page, monkeypatch
):
    asked = []
    real = render.page_image
    monkeypatch.setattr(
        render, "page_image", lambda page, width: asked.append(width) or real(page, width)
    )
    as_user(vera).get(crop_url(first_page, "percent:10,10,20,20", 300))
    as_user(vera).get(crop_url(first_page, "percent:0,0,100,100", 300))
    as_user(vera).get(crop_url(first_page, "percent:10,10,1,1", 1200))
    assert asked == [1600, 400, 2400]  # 300 / 20 % = 1500; 300; the largest there is


def test_a_crop_is_never_enlarged_past_the_pixels_the_page_has(as_user, vera, first_page):
    response = as_user(vera).get(crop_url(first_page, "percent:10,10,2,2", 1200))
    with Image.open(io.BytesIO(response.content)) as image:
        assert image.width == 48  # 2 % of the largest page image, 2400 pixels


@pytest.mark.parametrize(
    "xywh",
    ["10,10,30,20", "pixel:10,10,30,20", "percent:10,10,30", "percent:a,10,30,20",
     "percent:nan,10,30,20", "percent:-1,10,30,20", "percent:10,10,0,20",
     "percent:80,10,30,20", "percent:10,90,30,20.5", ""],
)  # fmt: skip
def test_a_region_off_the_page_or_malformed_is_a_400_naming_xywh(as_user, vera, first_page, xywh):
    response = as_user(vera).get(crop_url(first_page, xywh))
    assert response.status_code == 400
    assert "xywh" in response.json()


@pytest.mark.parametrize("width", ["0", "15", "1201", "wide", "-5"])
def test_a_crop_width_out_of_bounds_is_a_400_naming_width(as_user, vera, first_page, width):
    response = as_user(vera).get(crop_url(first_page, "percent:10,10,30,20") + f"&width={width}")
    assert response.status_code == 400
    assert "width" in response.json()


def test_a_crop_of_a_page_the_revision_lacks_is_a_404(as_user, vera, first_page):
    missing = reverse("page-crop", args=[first_page.text_id, 7]) + "?xywh=percent:1,1,2,2"
    assert as_user(vera).get(missing).status_code == 404


def test_the_text_view_offers_the_pages_and_the_doubted_words(as_user, vera, revision):
    first = Page.objects.get(text=revision, index=0)
    words = [[*w, 90] for w in first.words]
    words[3][6] = 12
    Page.objects.filter(pk=first.pk).update(words=words)
    detail = as_user(vera).get(reverse("source-detail", args=[revision.source_id]))
    link = BeautifulSoup(detail.content, "html.parser").select_one("a[data-view-switch]")
    assert link["href"] == reverse("source-pages", args=[revision.source_id]) + "?revision=2"
    doubts = as_user(vera).get(link["data-doubts"]).json()
    assert doubts["words"] == [[words[3][0], words[3][1], 12]]


def test_a_text_without_pages_offers_no_page_view(as_user, vera, library):
    plain = make_text(source=make_source(library=library, title="Typed"), text="Plain words.")
    detail = as_user(vera).get(reverse("source-detail", args=[plain.source_id]))
    assert b"data-view-switch" not in detail.content
