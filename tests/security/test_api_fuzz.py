"""Schemathesis against /api/schema/: generated requests, valid and not, to every operation
of the API, signed in as a library's owner. Whatever it sends, no answer is a 5xx.

The schema is read from the Django WSGI application in the test's own database, so the
walk covers whatever operations exist when it runs. Examples per operation are bounded
(SCHEMATHESIS_EXAMPLES, default 12) so that the whole run takes about a minute.
"""

from __future__ import annotations

import os

import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from schemathesis import GenerationMode

from sources.sharing import tokens
from tests.factories import (
    add_member,
    make_annotation,
    make_claim,
    make_event,
    make_library,
    make_source,
    make_text,
    make_user,
)

EXAMPLES = int(os.environ.get("SCHEMATHESIS_EXAMPLES", "12"))


@pytest.fixture
def api_schema(db):
    """The schema, read through the WSGI application that the generated requests go to.
    Django closes the database connection when a WSGI request ends; inside a test's
    transaction it must not (its test client does the same)."""
    from django.core import signals
    from django.db import close_old_connections

    from config.wsgi import application

    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    yield schemathesis.openapi.from_wsgi("/api/schema/", application)
    signals.request_started.connect(close_old_connections)
    signals.request_finished.connect(close_old_connections)


@pytest.fixture
def owner_key(db) -> str:
    """A library with something of every kind in it, and its owner's API key."""
    alice, bob = make_user(username="fuzz-alice"), make_user(username="fuzz-bob")
    library = make_library(owner=alice, name="Fuzzed library")
    add_member(library=library, user=bob, role="editor")
    source = make_source(library=library)
    text = make_text(source=source, text="Mao said the treaty mattered more than the loan.")
    make_annotation(text=text, creator=alice, quote="treaty", comment="*why*", tags=["a:b"])
    make_claim(library=library, creator=alice, statement="The treaty mattered.")
    make_event(library=library, creator=alice, name="Treaty signed", date="1950-02-14")
    return tokens.create_token(alice, name="fuzz")[1]


def test_no_generated_request_gets_a_server_error(api_schema, owner_key):
    """Every operation, with valid (positive) and invalid (negative) requests."""
    failures: list[str] = []
    operations = 0
    for result in api_schema.get_all_operations():
        operation = result.ok()
        operations += 1
        failures += fuzz(operation, owner_key)
    assert operations > 20, "the schema lists too few operations"
    assert not failures, "\n\n".join(failures)


def fuzz(operation, key: str) -> list[str]:
    """Bounded Hypothesis run of one operation; every 5xx is reported with a replay."""
    failures: list[str] = []
    cases = st.one_of(
        operation.as_strategy(GenerationMode.POSITIVE),
        operation.as_strategy(GenerationMode.NEGATIVE),
    )

    @given(case=cases)
    @settings(
        max_examples=EXAMPLES,
        deadline=None,
        derandomize=True,  # the same requests on every run: a failure can be replayed
        phases=[Phase.explicit, Phase.generate],
        suppress_health_check=list(HealthCheck),
        database=None,
    )
    def run(case) -> None:
        response = case.call(headers={"Authorization": f"Bearer {key}"})
        if response.status_code >= 500 and len(failures) < 3:
            failures.append(
                f"{case.method} {case.formatted_path} answered {response.status_code}: "
                f"{response.text[:500]}\nReplay: {case.as_curl_command()}"
            )

    run()
    return failures


HOSTILE_VALUES = ["1" + "0" * 30, "-1", "9" * 400, "\x00", "a\x00b", "x" * 10_000, "%", "[]"]


def query_parameters(schema: dict) -> list[tuple[str, str]]:
    """(path, parameter) for every query parameter of every GET operation of the schema."""
    found = []
    for path, operations in schema["paths"].items():
        parameters = operations.get("get", {}).get("parameters", [])
        found += [(path, p["name"]) for p in parameters if p.get("in") == "query"]
    return found


def test_hostile_values_in_every_query_parameter_get_a_4xx_at_worst(owner_key):
    """Numbers past 64 bits, NUL characters, very long strings: the database must never
    see them raw (PostgreSQL refuses NUL in text; 10**30 overflows bigint)."""
    from drf_spectacular.generators import SchemaGenerator
    from rest_framework.test import APIClient

    schema = SchemaGenerator().get_schema(request=None, public=True)
    client = APIClient(raise_request_exception=False)
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {owner_key}")
    failures = []
    parameters = query_parameters(schema)
    assert len(parameters) > 20
    for path, name in parameters:
        url = path.replace("{id}", "1").replace("{source_pk}", "1").replace("{revision}", "1")
        for value in HOSTILE_VALUES:
            status = client.get(url, {name: value}).status_code
            if status >= 500:
                failures.append(f"GET {url}?{name}={value[:40]!r}: {status}")
    assert not failures, "\n".join(failures)
