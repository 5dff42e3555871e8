"""The reading view's json_script config (annotations/templatetags/annotation_reader.py):
no browser needed, but it belongs with the reading view's tests."""

from __future__ import annotations

import json

from django.test import RequestFactory
from django.urls import reverse

from annotations.serializers import AnnotationSerializer
from annotations.templatetags.annotation_reader import reader_config
from tests.factories import make_annotation, make_text


def config_for(user, text):
    request = RequestFactory().get("/")
    request.user = user
    return reader_config(request, text)


def test_annotations_have_the_apis_plain_json_shape(alice, source):
    text = source.current_text
    note = make_annotation(
        text=text, creator=alice, quote="treaty", comment="*Why?*", tags=["theme:treaty", "Moscow"]
    )
    [plain] = config_for(alice, text)["annotations"]
    request = RequestFactory().get("/")
    request.user = alice
    context = {"request": request, "editable_ids": {note.pk}}
    expected = AnnotationSerializer(note, context=context).data
    for key in set(expected) - {"url", "library"}:
        assert plain[key] == expected[key], key
    assert plain["tags"] == ["Moscow", "theme:treaty"]


def test_editors_may_annotate_the_current_revision_only(alice, bob, source):
    first = source.current_text
    assert config_for(bob, first)["canAnnotate"] is True
    second = make_text(source=source, text="A corrected text.", imported_by=alice)
    assert config_for(bob, second)["canAnnotate"] is True
    assert config_for(bob, first)["canAnnotate"] is False
    assert config_for(bob, first)["isCurrent"] is False


def test_viewers_see_annotations_but_may_not_annotate(alice, vera, source):
    text = source.current_text
    note = make_annotation(text=text, creator=alice, quote="treaty")
    config = config_for(vera, text)
    assert config["canAnnotate"] is False
    assert [(a["id"], a["can_edit"]) for a in config["annotations"]] == [(note.pk, False)]


def test_orphans_of_older_revisions_are_listed_on_the_current_one(alice, source):
    old = source.current_text
    lost = make_annotation(text=old, creator=alice, quote="treaty", state="orphaned")
    new = make_text(source=source, text="Mao said the agreement mattered.", imported_by=alice)
    lost.refresh_from_db()
    assert lost.text == old  # the quote is not in the new text: it stays where it stands
    assert [a["id"] for a in config_for(alice, new)["orphans"]] == [lost.pk]
    assert config_for(alice, old)["orphans"] == []


def test_private_notes_of_others_are_not_in_the_config(alice, bob, source):
    text = source.current_text
    make_annotation(text=text, creator=alice, quote="treaty", visibility="private")
    assert config_for(bob, text)["annotations"] == []
    assert len(config_for(alice, text)["annotations"]) == 1


def test_the_source_page_embeds_the_config_as_json_script(as_user, alice, source):
    response = as_user(alice).get(reverse("source-detail", args=[source.pk]))
    html = response.content.decode()
    assert response.status_code == 200
    start = html.index('<script id="annotate-config" type="application/json">')
    body = html[html.index(">", start) + 1 : html.index("</script>", start)]
    config = json.loads(body)
    assert config["text"] == source.current_text.pk
    assert config["api"] == {"annotations": "/api/annotations/", "tags": "/api/tags/"}
    assert 'type="module" src="/static/js/annotate.js"' in html


def test_outsiders_get_no_reading_view(as_user, mallory, source):
    response = as_user(mallory).get(reverse("source-detail", args=[source.pk]))
    assert response.status_code == 404
    assert b"annotate-config" not in response.content
