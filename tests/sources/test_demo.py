from django.core.management import call_command

from sources.models import Library, SourceLink, SourceText


def test_load_demo_builds_the_library_and_is_harmless_to_repeat(db):
    call_command("load_demo")
    call_command("load_demo")
    library = Library.objects.get(slug="mao-in-moscow")
    assert library.memberships.get().user.username == "demo"
    record = library.sources.get(citation_key="roshchin1950record")
    assert record.kind == "primary" and record.issued_earliest.isoformat() == "1950-01-01"
    assert record.archive.startswith("Archive of Foreign Policy")
    text = record.current_text
    assert text.text.startswith("По указанию министра иностранных дел СССР")
    assert text.verify()
    assert SourceText.objects.count() == 3
    compilation = library.sources.get(citation_key="compilationmaostalin")
    assert compilation.kind == "secondary"
    assert SourceLink.objects.filter(subject=compilation, relation="derived-from").count() == 3


def test_demo_user_can_sign_in(db, client):
    call_command("load_demo")
    assert client.login(username="demo", password="demo-marginalia")
