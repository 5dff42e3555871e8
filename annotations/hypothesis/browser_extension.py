"""Marginalia's browser extension (Manifest V3, loaded unpacked) for pages whose
Content-Security-Policy refuses bookmarklets: its source (extension/), the vendored client's
files bundled into it unmodified (client/, as hypothesis/browser-extension bundles them), and
`config.js` naming the Marginalia it talks to. Served as a zip at /hypothesis/extension.zip,
or written to a folder by `manage.py write_browser_extension`.
"""

from __future__ import annotations

import functools
import io
import json
import zipfile
from pathlib import Path
from urllib.parse import urlsplit

from django.conf import settings
from django.core.exceptions import ValidationError

SOURCE = Path(__file__).resolve().parent / "extension"
CLIENT = Path(settings.BASE_DIR) / "static" / "vendor" / "hypothesis"
FOLDER = "marginalia-extension"


def origin_of(url: str) -> str:
    """`https://host[:port]` of a Marginalia address; ValidationError if it is not one."""
    parts = urlsplit(url.strip())
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValidationError({"url": "Give Marginalia's address (http or https)."})
    return f"{parts.scheme}://{parts.netloc}"


def files(origin: str) -> dict[str, bytes]:
    """The extension's files by their path in its folder, for the Marginalia at `origin`."""
    found = {path.name: path.read_bytes() for path in SOURCE.iterdir() if path.is_file()}
    found["config.js"] = (
        "// Written by Marginalia: the annotation service this extension talks to.\n"
        f"const MARGINALIA_ORIGIN = {json.dumps(origin_of(origin))};\n"
    ).encode()
    for path in sorted(CLIENT.rglob("*")):
        if path.is_file():
            name = path.relative_to(CLIENT).as_posix()
            if name == "build/boot-template.js":  # the client's boot, read by its config
                name = "build/boot.js"
            found[f"client/{name}"] = path.read_bytes()
    return found


@functools.lru_cache(maxsize=4)
def zipped(origin: str) -> bytes:
    """The extension as a zip of one folder (about 0.5 MB)."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in files(origin).items():
            archive.writestr(f"{FOLDER}/{name}", data)
    return buffer.getvalue()


def write(origin: str, folder: Path) -> list[Path]:
    """Write the extension into `folder` (created if need be); the files written."""
    written = []
    for name, data in files(origin).items():
        target = folder / name
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(data)
        written.append(target)
    return written
