"""An import killed half-way (SIGKILL: the OOM killer, a deploy, a power cut) leaves
nothing half-written.

A separate Python process posts a real import to the page, and kills itself with SIGKILL
in the middle: after the third record of a metadata file has been written, or right after
a text revision's row has been inserted. The test then looks at the database from outside
that process. It runs against PostgreSQL when the suite does (the test database itself),
and against a SQLite file otherwise.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection

ROOT = Path(settings.BASE_DIR)
SCRIPT = r"""
import os, signal, sys
os.environ["DJANGO_SETTINGS_MODULE"] = "config.settings"
import django
django.setup()
from django.contrib.auth import get_user_model
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db.models.signals import post_save
from django.test import Client
from sources.models import Library, Source, SourceText

mode = sys.argv[1]
if mode == "prepare":
    from tests.factories import make_library, make_source, make_text, make_user
    alice = make_user(username="alice")
    library = make_library(owner=alice, name="Killed imports")
    make_text(source=make_source(library=library, title="Telegram"), text="First revision.")
    sys.exit(0)

def die(*args, **kwargs):
    os.kill(os.getpid(), signal.SIGKILL)

client = Client()
client.force_login(get_user_model().objects.get(username="alice"))
library = Library.objects.get(name="Killed imports")
if mode == "metadata":
    import sources.metadata_import as metadata_import
    real = metadata_import.import_record
    def import_record(*args, index, **kwargs):
        outcome = real(*args, index=index, **kwargs)
        if index == 2:
            die()
        return outcome
    metadata_import.import_record = import_record
    items = ",".join(f'{{"id": "r{n}", "type": "book", "title": "Record {n}"}}' for n in range(6))
    upload = SimpleUploadedFile("records.json", f"[{items}]".encode())
    client.post(f"/libraries/{library.slug}/import/", {"file": upload, "format": "csl-json"})
else:
    post_save.connect(die, sender=SourceText, weak=False)
    source = Source.objects.get(title="Telegram")
    upload = SimpleUploadedFile("second.txt", "Second revision, corrected.".encode())
    client.post(f"/sources/{source.pk}/texts/new/", {"file": upload, "encoding": "", "note": ""})
print("NOT KILLED")
"""


def database_url(tmp_path: Path) -> str:
    if connection.vendor == "postgresql":
        db = connection.settings_dict
        auth = db["USER"] + (f":{db['PASSWORD']}" if db["PASSWORD"] else "")
        return f"postgres://{auth}@{db['HOST'] or 'localhost'}:{db['PORT'] or 5432}/{db['NAME']}"
    return f"sqlite:///{tmp_path / 'killed.sqlite3'}"


def run(mode: str, url: str, tmp_path: Path) -> subprocess.CompletedProcess:
    script = tmp_path / "import_and_die.py"
    script.write_text(SCRIPT)
    env = {**os.environ, "DATABASE_URL": url, "PYTHONPATH": str(ROOT), "DEBUG": "true"}
    env.pop("DJANGO_SETTINGS_MODULE", None)
    return subprocess.run(
        [sys.executable, str(script), mode], cwd=ROOT, env=env, capture_output=True, text=True,
        timeout=300,
    )  # fmt: skip


def counts(url: str, tmp_path: Path) -> dict[str, int]:
    """Rows as another process sees them (after the killed one is gone)."""
    query = (
        "from sources.models import ImportRun, Source, SourceText;"
        "print(Source.objects.count(), SourceText.objects.count(), ImportRun.objects.count())"
    )
    env = {**os.environ, "DATABASE_URL": url, "DJANGO_SETTINGS_MODULE": "config.settings"}
    out = subprocess.run(
        [sys.executable, "-c", f"import django; django.setup(); {query}"],
        cwd=ROOT, env=env, capture_output=True, text=True, check=True, timeout=120,
    ).stdout.split()  # fmt: skip
    return dict(zip(("sources", "texts", "imports"), map(int, out), strict=True))


@pytest.fixture
def prepared(transactional_db, tmp_path) -> str:
    url = database_url(tmp_path)
    if connection.vendor != "postgresql":
        env = {**os.environ, "DATABASE_URL": url}
        subprocess.run(
            [sys.executable, "manage.py", "migrate", "--noinput", "-v0"], cwd=ROOT, env=env,
            check=True, timeout=300,
        )  # fmt: skip
    prepared = run("prepare", url, tmp_path)
    assert prepared.returncode == 0, prepared.stderr
    return url


@pytest.mark.parametrize("mode", ["metadata", "text"])
def test_an_import_killed_half_way_leaves_nothing_half_written(prepared, tmp_path, mode):
    before = counts(prepared, tmp_path)
    killed = run(mode, prepared, tmp_path)
    assert killed.returncode == -signal.SIGKILL, killed.stdout + killed.stderr
    assert counts(prepared, tmp_path) == before
