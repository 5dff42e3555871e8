"""Benchmark: ten representative searches through /api/search/, next to their SQL time.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/marginalia_bench \\
        .venv/bin/python bench/search.py [--runs 40] [--markdown]

Run `bench/search_corpus.py` first. Each query goes through the real stack in-process
(Django's test client: URL routing, session authentication as the user `historian`, DRF,
the search, JSON rendering), `--runs` times after two warm-up runs. For every request
the time spent inside the database (every statement the search issued, measured with
`connection.execute_wrapper`) is recorded too: "SQL" is that part of "API". Prints
p50/p95/p99 per query, the count as the API gives it ("about N" when estimated), the
machine it ran on and the load average before and after.
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
os.environ.setdefault("DEBUG", "false")
os.environ.setdefault("SECRET_KEY", "bench-only-secret-key-not-for-production-use-0123456789")
os.environ.setdefault("ALLOWED_HOSTS", "testserver")

QUERIES = [
    ("frequent word, relevance", {"q": "soviet"}),
    ("two frequent words, relevance", {"q": "treaty delegation"}),
    ("phrase", {"q": '"mutual security"'}),
    ("prefix", {"q": "negotiat*"}),
    ("Russian word (stemmed)", {"q": "Сталина"}),
    ("Chinese substring", {"q": "毛泽东"}),
    (
        "example: face, primary, 1950",
        {
            "q": "treaty",
            "tag": "theme:face",
            "source_kind": "primary",
            "from": "1950",
            "to": "1950",
        },
    ),
    ("namespace person:*, newest", {"tag": "person:*", "sort": "-date"}),
    (
        "claims: OR, exclusion, status",
        {"q": "stalin OR mao -korea", "in": "claim", "status": "disputed"},
    ),
    ("browse all, oldest first", {"sort": "date"}),
]


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    position = min(len(ordered) - 1, max(0, round(share * (len(ordered) - 1))))
    return ordered[position]


def load() -> str:
    return ", ".join(f"{v:.1f}" for v in os.getloadavg())


def machine() -> str:
    cpu = "unknown CPU"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    memory = ""
    try:
        total = int(Path("/proc/meminfo").read_text().split()[1]) // 1024 // 1024
        memory = f", {total} GB RAM"
    except (OSError, ValueError, IndexError):
        pass
    return f"{os.cpu_count()} cores ({cpu}){memory}, Python {platform.python_version()}"


def database() -> str:
    """The server's version and its cache (shared_buffers: a server setting, 128 MB by
    default, a quarter of the RAM on a production server)."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SHOW server_version")
        version = cursor.fetchone()[0]
        cursor.execute("SHOW shared_buffers")
        return f"PostgreSQL {version}, shared_buffers {cursor.fetchone()[0]}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=40)
    args = parser.parse_args()
    import django

    django.setup()
    from django.contrib.auth import get_user_model
    from django.db import connection
    from django.test import Client

    from search.models import SearchEntry

    client = Client()
    client.force_login(get_user_model().objects.get(username="historian"))
    sql_time = [0.0]

    def timed(execute, sql, params, many, context):
        started = time.perf_counter()
        try:
            return execute(sql, params, many, context)
        finally:
            sql_time[0] += time.perf_counter() - started

    rows = []
    load_before = load()
    with connection.execute_wrapper(timed):
        for label, params in QUERIES:
            api, sql, count = [], [], 0
            for run in range(args.runs + 2):
                sql_time[0] = 0.0
                started = time.perf_counter()
                response = client.get("/api/search/", params)
                elapsed = time.perf_counter() - started
                assert response.status_code == 200, response.content[:300]
                if run >= 2:
                    api.append(elapsed * 1000)
                    sql.append(sql_time[0] * 1000)
                body = response.json()
                count = body["count"] if body["count_exact"] else f"about {body['count']:,}"
            rows.append((label, params, count, api, sql))
    entries = SearchEntry.objects.count()
    print(f"\nMachine: {machine()}; {database()}")
    print(f"Load average: {load_before} at the start, {load()} at the end.")
    print(f"Index: {entries:,} entries; {args.runs} runs per query after 2 warm-up runs.\n")
    print("| query | results | API p50 | API p95 | API p99 | SQL p50 | SQL p95 | SQL p99 |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|")
    for label, _params, count, api, sql in rows:
        shown = count if isinstance(count, str) else f"{count:,}"
        cells = [f"{percentile(v, p):.1f}" for v in (api, sql) for p in (0.5, 0.95, 0.99)]
        print(
            f"| {label} | {shown} | " + " | ".join(cells[:3]) + " | " + " | ".join(cells[3:]) + " |"
        )
    everything = [v for *_, api, _ in rows for v in api]
    print(
        f"\nAll queries: API p50 {statistics.median(everything):.1f} ms, "
        f"p95 {percentile(everything, 0.95):.1f} ms, p99 {percentile(everything, 0.99):.1f} ms."
    )
    for label, params, *_ in rows:
        print(f"- {label}: `{params}`")


if __name__ == "__main__":
    main()
