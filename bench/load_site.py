"""Settings for the load test (bench/load.py): Marginalia's production settings unchanged,
with the URLs of `bench.load_urls`, which add one trivial view. Never used outside it."""

from config.settings import *  # noqa: F403

ROOT_URLCONF = "bench.load_urls"
