"""jobs.registry: the packages register their work; jobs knows none of it by name."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError

from jobs import registry
from jobs.models import Job


def test_every_package_registers_its_work():
    names = {"import-metadata", "import-text", "backup", "reanchor", "reindex", "export"}
    assert names <= set(registry._kinds)
    assert registry.get("backup").writes is False and registry.get("export").writes is False
    assert registry.get("import-text").writes is True


def test_an_unknown_kind_is_a_validation_error_naming_kind():
    with pytest.raises(ValidationError) as caught:
        registry.get("defragment")
    assert "defragment" in caught.value.message_dict["kind"][0]


def test_a_job_of_a_kind_no_longer_registered_still_has_a_label():
    assert Job(kind="import-metadata").kind_label == "Metadata import"
    assert Job(kind="defragment").kind_label == "defragment"
