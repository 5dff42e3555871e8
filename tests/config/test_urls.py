"""config/urls.py includes each package once, in any order: no route of one package can be
taken for another's. Every named route is resolved under every order of the packages (and
with each package's own routes alone), and must reach the same view every time."""

from __future__ import annotations

import itertools
import re
import types

import pytest
from django.urls import URLPattern, URLResolver, get_resolver, include, path, resolve

from config import urls as site

SAMPLE = {"int": "7", "slug": "a-library", "str": "7", "path": "7"}


def routes(patterns, prefix: str = "") -> list[tuple[str, URLPattern]]:
    """(a concrete path, pattern) for every route, with sample values for its parameters."""
    found = []
    for pattern in patterns:
        route = prefix + str(pattern.pattern)
        if isinstance(pattern, URLResolver):
            found += routes(pattern.url_patterns, route)
        elif "(?P" not in route and "^" not in route:
            concrete = re.sub(r"<(?:(\w+):)?\w+>", lambda m: SAMPLE[m[1] or "str"], route)
            found.append(("/" + concrete, pattern))
    return found


def conf(packages: list[str]) -> types.ModuleType:
    module = types.ModuleType("shuffled_urls")
    module.urlpatterns = [path("", include(f"{package}.urls")) for package in packages]
    return module


def view_of(urlconf, url: str) -> str:
    match = resolve(url, urlconf=urlconf)
    return f"{match.func.__module__}.{match.func.__name__} {match.url_name}"


SITE_WIDE = ("/admin/", "/accounts/", "/api/schema/", "/api/docs/", "/health/")


def test_config_includes_every_package_once_at_the_root():
    included = [
        p.urlconf_name.__name__
        for p in site.urlpatterns
        if isinstance(p, URLResolver) and str(p.pattern) == ""
    ]
    assert sorted(included) == sorted(f"{package}.urls" for package in site.PACKAGES)


@pytest.fixture(scope="module")
def reference() -> dict[str, str]:
    """Each package route's concrete path and the view the site resolves it to."""
    found = routes(get_resolver(site).url_patterns)
    return {
        url: view_of(site, url)
        for url, _ in found
        if not url.startswith(SITE_WIDE) and url != "/api/"
    }


@pytest.mark.parametrize("order", list(itertools.permutations(site.PACKAGES))[::7])
def test_every_route_reaches_the_same_view_in_any_order(reference, order):
    shuffled = conf(list(order))
    assert len(reference) > 100  # every package's routes, not a few
    for url, expected in reference.items():
        assert view_of(shuffled, url) == expected, url


@pytest.mark.parametrize("package", site.PACKAGES)
def test_each_package_serves_its_own_routes_alone(package):
    alone = conf([package])
    served = routes(alone.urlpatterns)
    assert served
    for url, _ in served:
        assert view_of(alone, url) == view_of(site, url), url
