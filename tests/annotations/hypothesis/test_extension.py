"""The unpacked browser extension: served as a zip with this site's origin baked in, and
written to a folder by a management command."""

from __future__ import annotations

import io
import json
import zipfile

import pytest
from django.core.management import CommandError, call_command
from django.test import Client


def test_the_zip_holds_the_extension_the_client_and_this_origin(db):
    response = Client().get("/hypothesis/extension.zip")
    assert response.status_code == 200 and response["Content-Type"] == "application/zip"
    archive = zipfile.ZipFile(io.BytesIO(response.content))
    names = set(archive.namelist())
    folder = "marginalia-extension/"
    manifest = json.loads(archive.read(folder + "manifest.json"))
    assert manifest["manifest_version"] == 3 and "scripting" in manifest["permissions"]
    assert manifest["background"]["service_worker"] == "background.js"
    wanted = [
        "background.js",
        "config.js",
        "client/build/boot.js",
        "client/LICENSE",
        "client/build/scripts/annotator.bundle.js",
        "client/build/styles/annotator.css",
    ]
    for name in wanted:
        assert folder + name in names, name
    config = archive.read(folder + "config.js").decode()
    assert 'const MARGINALIA_ORIGIN = "http://testserver";' in config
    assert Client().post("/hypothesis/extension.zip").status_code == 405


def test_the_start_page_offers_the_extension_beside_the_bookmarklets(db):
    page = Client().get("/hypothesis/").content.decode()
    assert 'href="/hypothesis/extension.zip"' in page and "Load unpacked" in page


def test_the_command_writes_the_folder_for_a_given_address(tmp_path):
    call_command("write_browser_extension", "https://marginalia.example.org/x", str(tmp_path))
    config = (tmp_path / "config.js").read_text()
    assert '"https://marginalia.example.org"' in config
    assert (tmp_path / "client/build/boot.js").is_file()
    with pytest.raises(CommandError):
        call_command("write_browser_extension", "javascript:alert(1)", str(tmp_path / "x"))
