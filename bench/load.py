"""Load test: annotation reads and writes, tag search and a trivial view, through gunicorn and
PostgreSQL on loopback, measured with wrk. Not part of the test suite.

    .venv/bin/python bench/load.py                      # the defaults below, about 3 minutes
    .venv/bin/python bench/load.py --duration 30 --workers 4 --threads 1   # sync workers
    .venv/bin/python bench/load.py --cpu 200             # CPU per request, no gunicorn or wrk

It creates (once) a database `marginalia_load` with a synthetic corpus made in bulk through the
ORM (sources with texts from bench/corpus.py, annotations with quotes, tags), starts gunicorn
with config/gunicorn.conf.py in the production configuration (DEBUG=false, JSON access log,
persistent connections) and `bench.load_site` (which adds the trivial view), runs one wrk
scenario after another, and prints requests per second and latency percentiles per scenario.
The figures and the machine go to bench/out/load-*.json; bench/README.md records them.

Needs wrk (`apt-get install wrk`) and PostgreSQL. Every request goes to 127.0.0.1 only, and
every scenario stops after --duration seconds.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import random
import resource
import secrets
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path
from urllib.parse import urlparse

BASE_DIR = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(BASE_DIR))

LIBRARY_NAME = "Load test corpus"
USERNAME = "loadtest"
TAGS = ["person:Stalin", "person:Mao Zedong", "person:Zhou Enlai", "theme:treaty", "theme:loan",
        "theme:face", "place:Moscow", "place:Port Arthur", "claim:disputed", "todo"]  # fmt: skip


# --- The corpus ---------------------------------------------------------------------------------


def ensure_database(url: str, *, fresh: bool) -> None:
    import psycopg

    parsed = urlparse(url)
    name = parsed.path.lstrip("/")
    admin = parsed._replace(path="/postgres").geturl()
    with psycopg.connect(admin, autocommit=True) as conn:
        if fresh:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone():
            conn.execute(f'CREATE DATABASE "{name}"')


def seed(*, sources: int, per_text: int, text_chars: int) -> dict:
    """The corpus, made once (bulk inserts, no signals); ids the scenarios pick from."""
    from django.contrib.auth import get_user_model
    from rest_framework.authtoken.models import Token

    from sources.models import Library

    user, _ = get_user_model().objects.get_or_create(username=USERNAME)
    library = Library.objects.filter(name=LIBRARY_NAME).first()
    if library is None:
        library = Library.objects.create_for(user, name=LIBRARY_NAME)
        _fill(library, user, sources=sources, per_text=per_text, text_chars=text_chars)
    _index(library)
    _analyze()
    token, _ = Token.objects.get_or_create(user=user)
    return _ids(library) | {"token": token.key, "library": library.slug}


def _analyze() -> None:
    """Statistics for the planner, as autovacuum would keep them: the corpus comes in bulk,
    and on a server with autovacuum off (or before it comes round) the planner would take
    a text's 200 annotations for one row and sort them all for a page of 50."""
    from django.db import connection

    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")


def _index(library) -> None:
    """The search index, which bulk inserts (no signals) leave empty."""
    try:
        from search import index as search_index
        from search.models import SearchEntry
    except ImportError:
        return
    if not SearchEntry.objects.filter(library=library).exists():
        search_index.rebuild([library])


def _fill(library, user, *, sources: int, per_text: int, text_chars: int) -> None:
    from django.db import transaction

    from annotations.anchoring import quote_selector
    from annotations.models import Annotation, Tag
    from bench.corpus import make_text
    from core.dates import edtf_bounds
    from sources.models import Creator, Source, SourceText, canonical_text, sha256_hex

    rng = random.Random(1949)
    with transaction.atomic():
        made = Source.objects.bulk_create(
            Source(library=library, title=f"Record of conversation no. {n}", csl_type="manuscript",
                   issued=f"19{49 + n % 12}-0{1 + n % 9}-1{n % 10}", citation_key=f"load{n}",
                   archive="AVPRF", archive_location=f"f. 0100, op. {n % 50}, d. {n}")
            for n in range(sources)
        )  # fmt: skip
        for source in made:  # bulk_create skips save(), which derives these
            source.issued_earliest, source.issued_latest = edtf_bounds(source.issued)
        Source.objects.bulk_update(made, ["issued_earliest", "issued_latest"])
        Creator.objects.bulk_create(
            Creator(source=s, family="Roshchin", given="N. V.") for s in made
        )
        bodies = [canonical_text(make_text(text_chars, seed=n)) for n in range(len(made))]
        texts = SourceText.objects.bulk_create(
            SourceText(source=s, revision=1, text=body, sha256=sha256_hex(body),
                       file_name=f"record-{n}.txt", media_type="text/plain")
            for n, (s, body) in enumerate(zip(made, bodies, strict=True))
        )  # fmt: skip
        tags = Tag.objects.bulk_create(
            Tag(library=library, name=name, name_key=name.casefold(),
                namespace=name.split(":")[0] if ":" in name else "")
            for name in TAGS
        )  # fmt: skip
        notes = []
        for text in texts:
            for _ in range(per_text):
                start = rng.randrange(0, len(text.text) - 200)
                exact, prefix, suffix = quote_selector(
                    text.text, start, start + rng.randint(8, 160)
                )
                notes.append(Annotation(
                    library=library, text=text, creator=user, start=start, end=start + len(exact),
                    exact=exact, prefix=prefix, suffix=suffix, comment_raw="", comment_html="",
                ))  # fmt: skip
        notes = Annotation.objects.bulk_create(notes, batch_size=2000)
        through = Annotation.tags.through
        through.objects.bulk_create(
            (
                through(annotation=note, tag=rng.choice(tags))
                for note in notes
                if rng.random() < 0.5
            ),
            batch_size=5000,
        )


def _ids(library) -> dict:
    from annotations.models import Annotation
    from sources.models import SourceText

    rng = random.Random(7)
    annotation_ids = list(Annotation.objects.filter(library=library).values_list("pk", flat=True))
    texts = list(SourceText.objects.filter(source__library=library).values_list("pk", "text"))
    spans = []
    for _ in range(2000):
        text_id, body = rng.choice(texts)
        start = rng.randrange(0, len(body) - 100)
        spans.append((text_id, start, start + rng.randint(5, 80)))
    return {
        "annotations": rng.sample(annotation_ids, min(4000, len(annotation_ids))),
        "texts": [text_id for text_id, _ in texts],
        "spans": spans,
        "annotation_count": len(annotation_ids),
        "text_count": len(texts),
    }


# --- wrk scenarios ------------------------------------------------------------------------------

# wrk calls done() once with every thread's counts; it prints one JSON line to parse.
# --close: one connection per request, as a proxy without upstream keep-alive sends them.
LUA_CLOSE = """
wrk.headers["Connection"] = "close"
if headers then headers["Connection"] = "close" end
"""
LUA_DONE = """
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format('\\n@@{"requests": %d, "duration_us": %d, "non2xx": %d, ' ..
    '"socket_errors": %d, "mean_ms": %.3f, "p50_ms": %.3f, "p95_ms": %.3f, "p99_ms": %.3f}\\n',
    summary.requests, summary.duration, e.status, e.connect + e.read + e.write + e.timeout,
    latency.mean / 1000, latency:percentile(50) / 1000, latency:percentile(95) / 1000,
    latency:percentile(99) / 1000))
end
"""


def lua_list(values: list) -> str:
    return (
        "{"
        + ",".join(
            json.dumps(v) if not isinstance(v, list | tuple) else lua_list(list(v)) for v in values
        )
        + "}"
    )


def scenarios(ids: dict, search_path: str | None) -> list[tuple[str, str, str]]:
    """(name, path, Lua script) per scenario; `auth` is the token header."""
    auth = (
        f'headers = {{["Authorization"] = "Token {ids["token"]}", ["Accept"] = "application/json"}}'
    )
    pick = "math.randomseed(os.time() + tonumber(tostring({}):sub(8), 16))\n"
    found = [
        ("floor: trivial Django view", "/bench/floor/", ""),
        ("health: one SELECT 1", "/health/", ""),
        (
            "annotation read (GET /api/annotations/<id>/)",
            "/api/annotations/",
            f"{auth}\n{pick}local ids = {lua_list(ids['annotations'])}\n"
            "request = function()\n  return wrk.format('GET', '/api/annotations/' .. "
            "ids[math.random(#ids)] .. '/', headers)\nend\n",
        ),
        (
            "annotation list (GET /api/annotations/?text=<id>&limit=50)",
            "/api/annotations/",
            f"{auth}\n{pick}local ids = {lua_list(ids['texts'])}\n"
            "request = function()\n  return wrk.format('GET', "
            "'/api/annotations/?limit=50&text=' .. ids[math.random(#ids)], headers)\nend\n",
        ),
        (
            "annotation write (POST /api/annotations/)",
            "/api/annotations/",
            f"{auth}\nheaders['Content-Type'] = 'application/json'\n{pick}"
            f"local spans = {lua_list(ids['spans'])}\n"
            "request = function()\n  local s = spans[math.random(#spans)]\n"
            '  local body = string.format(\'{"text": %d, "start": %d, "end": %d, '
            '"comment": "load test", "tags": ["theme:treaty"]}\', s[1], s[2], s[3])\n'
            "  return wrk.format('POST', '/api/annotations/', headers, body)\nend\n",
        ),
        (
            "tag search (GET /api/tags/?q=…)",
            "/api/tags/",
            f"{auth}\n{pick}local qs = {lua_list(['per', 'the', 'mao', 'loa', 'pla', 'to'])}\n"
            "request = function()\n  return wrk.format('GET', '/api/tags/?library="
            f"{ids['library']}&q=' .. qs[math.random(#qs)], headers)\nend\n",
        ),
    ]
    if search_path:
        found.append(
            (f"search ({search_path})", search_path, f"{auth}\nrequest = function()\n"
             f"  return wrk.format('GET', '{search_path}', headers)\nend\n")
        )  # fmt: skip
    return found


def run_wrk(base: str, name: str, path: str, script: str, args, server_pid: int) -> dict:
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as lua:
        lua.write(script + (LUA_CLOSE if args.close else "") + LUA_DONE)
    command = ["wrk", "-t", str(args.wrk_threads), "-c", str(args.connections), "-d",
               f"{args.duration}s", "--timeout", "10s", "-s", lua.name, base + path]  # fmt: skip
    database = urlparse(args.database_url).path.lstrip("/")
    before, wrk_before = (
        cpu_by_part(server_pid, database),
        resource.getrusage(resource.RUSAGE_CHILDREN),
    )
    done = subprocess.run(command, capture_output=True, text=True, timeout=args.duration + 60)
    after, wrk_after = (
        cpu_by_part(server_pid, database),
        resource.getrusage(resource.RUSAGE_CHILDREN),
    )
    spent = {part: after[part] - before[part] for part in after}
    spent["wrk"] = sum(
        getattr(wrk_after, f) - getattr(wrk_before, f) for f in ("ru_utime", "ru_stime")
    )
    os.unlink(lua.name)
    line = next((ln for ln in done.stdout.splitlines() if ln.startswith("@@")), None)
    if line is None:
        raise RuntimeError(f"wrk failed for {name}: {done.stdout}\n{done.stderr}")
    result = json.loads(line[2:])
    result["rps"] = round(result["requests"] / (result["duration_us"] / 1e6), 1)
    result["cpu_ms_per_request"] = {
        program: round(seconds * 1000 / max(result["requests"], 1), 3)
        for program, seconds in spent.items()
    }
    return {"scenario": name} | result


def settle(server_pid: int, database: str, *, quiet: float = 0.02, most: float = 15.0) -> None:
    """Wait until the server and its database are idle: what the last scenario left queued
    (wrk stops sending, the server goes on working) would otherwise run during the next
    scenario and be counted in its CPU per request."""
    deadline = time.monotonic() + most
    before = sum(cpu_by_part(server_pid, database).values())
    while time.monotonic() < deadline:
        time.sleep(0.5)
        now = sum(cpu_by_part(server_pid, database).values())
        if now - before < quiet:
            return
        before = now


def cpu_by_part(server_pid: int, database: str) -> dict[str, float]:
    """CPU seconds (user + system) used so far by gunicorn (the server and its workers) and
    by the PostgreSQL backends connected to `database` (their titles name it), from /proc;
    wrk's own comes from `resource` once it has exited. Other work on the machine is left
    out, so the split holds on a shared machine."""
    spent = {"gunicorn": 0.0, "postgres": 0.0}
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            stat = Path(f"/proc/{pid}/stat").read_text()
            title = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
            seconds = process_cpu_seconds(int(pid), reaped=int(pid) == server_pid)
        except (OSError, ValueError):  # gone meanwhile
            continue
        parent = int(stat[stat.rindex(")") + 2 :].split()[1])
        if int(pid) == server_pid or parent == server_pid:
            spent["gunicorn"] += seconds
        elif title.startswith("postgres:") and f" {database} " in title:
            spent["postgres"] += seconds
    return spent


# --- CPU per request ---------------------------------------------------------------------------


def cpu_requests(ids: dict) -> list[tuple[str, object]]:
    """(name, request(client, n)) for what `--cpu` measures: the wrk scenarios' requests."""
    auth = {"HTTP_AUTHORIZATION": f"Token {ids['token']}", "HTTP_ACCEPT": "application/json"}
    jsonld = auth | {
        "HTTP_ACCEPT": 'application/ld+json; profile="http://www.w3.org/ns/anno.jsonld"'
    }
    notes, texts, spans = ids["annotations"], ids["texts"], ids["spans"]

    def write(client, n: int):
        text, start, end = spans[n % len(spans)]
        body = {"text": text, "start": start, "end": end, "comment": "load test",
                "tags": ["theme:treaty"]}  # fmt: skip
        return client.post("/api/annotations/", body, content_type="application/json", **auth)

    def read(headers: dict):
        return lambda client, n: client.get(f"/api/annotations/{notes[n % len(notes)]}/", **headers)

    def listing(client, n: int):
        return client.get(f"/api/annotations/?limit=50&text={texts[n % len(texts)]}", **auth)

    return [
        ("floor", lambda client, n: client.get("/bench/floor/")),
        ("health", lambda client, n: client.get("/health/")),
        ("annotation read", read(auth)),
        ("annotation read (JSON-LD)", read(jsonld)),
        ("annotation list (50)", listing),
        ("annotation write", write),
    ]


def measure_cpu(ids: dict, count: int, only: str | None, profile: bool) -> list[dict]:
    """CPU time one request costs the Django process (Django's test client: the whole
    middleware stack and view, no gunicorn), after a warm-up; the database's own CPU is
    not in it. Wall-clock figures on a shared machine measure the neighbours; this does not."""
    import cProfile
    import pstats

    from django.test import Client

    client = Client(HTTP_HOST="127.0.0.1")
    results = []
    for name, call in cpu_requests(ids):
        if only and only not in name:
            continue
        for n in range(20):  # warm-up: imports, caches, the connection
            assert call(client, n).status_code < 300, name
        profiler = cProfile.Profile(time.process_time) if profile else None
        if profiler:
            profiler.enable()
        costs = []
        backend = postgres_backend()
        database_before = process_cpu_seconds(backend)
        for n in range(count):
            started = time.process_time()
            call(client, 1000 + n)
            costs.append((time.process_time() - started) * 1000)
        database_ms = (process_cpu_seconds(backend) - database_before) * 1000 / count
        if profiler:
            profiler.disable()
        ms = statistics.median(costs)
        results.append({"scenario": name, "cpu_ms_median": round(ms, 3),
                        "cpu_ms_mean": round(statistics.fmean(costs), 3),
                        "postgres_cpu_ms_mean": round(database_ms, 3),
                        "at_most_on_2_cores": round(2000 / (ms + database_ms))})  # fmt: skip
        print(f"{name:32} median {ms:6.2f} ms, mean {statistics.fmean(costs):6.2f} ms CPU/request,"
              f" PostgreSQL {database_ms:5.2f} ms   at most {2000 / (ms + database_ms):6.0f}/s"
              " on 2 cores")  # fmt: skip
        if profiler:
            stats = pstats.Stats(profiler).sort_stats(os.environ.get("PROFILE_SORT", "cumulative"))
            stats.print_stats(int(os.environ.get("PROFILE_LINES", "40")))
    return results


def postgres_backend() -> int:
    """The process id of the PostgreSQL backend serving this process's connection."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        return cursor.fetchone()[0]


def process_cpu_seconds(pid: int, *, reaped: bool = False) -> float:
    """CPU seconds (user + system) a local process has used so far, from /proc; with
    `reaped`, also that of its children which have exited (gunicorn's recycled workers)."""
    stat = Path(f"/proc/{pid}/stat").read_text()
    fields = [int(field) for field in stat[stat.rindex(")") + 2 :].split()[11:15]]
    return sum(fields if reaped else fields[:2]) / os.sysconf("SC_CLK_TCK")


# --- The server ---------------------------------------------------------------------------------


def server_env(args) -> dict[str, str]:
    return os.environ | {
        "DJANGO_SETTINGS_MODULE": "bench.load_site",
        "DEBUG": "false",
        "SECRET_KEY": secrets.token_urlsafe(50),
        "DATABASE_URL": args.database_url,
        # Not what the caller's environment allows (bench/search.py's test client allows
        # only "testserver"): the server is asked for at 127.0.0.1.
        "ALLOWED_HOSTS": "127.0.0.1,localhost",
        # Connections kept for the whole run, so that every backend's CPU is counted (one
        # closed after DB_CONN_MAX_AGE takes its CPU time with it).
        "DB_CONN_MAX_AGE": "3600",
        "SECURE_COOKIES": "false",
        "GUNICORN_BIND": f"127.0.0.1:{args.port}",
        "WEB_CONCURRENCY": str(args.workers),
        "GUNICORN_THREADS": str(args.threads),
        "GUNICORN_ACCESS_LOG": "true" if args.access_log else "false",
        "TASK_QUEUE": "inline",
        "STATIC_ROOT": str(Path(tempfile.gettempdir()) / "marginalia-load-static"),
        "PYTHONUNBUFFERED": "1",
    }


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start_server(env: dict[str, str], log: Path, port: int) -> subprocess.Popen:
    with socket.socket() as sock:  # never measure someone else's server on that port
        if sock.connect_ex(("127.0.0.1", port)) == 0:
            raise SystemExit(f"port {port} is in use; choose another with --port")
    with log.open("wb") as out:
        server = subprocess.Popen(
            [sys.executable, "-m", "gunicorn", "-c", "config/gunicorn.conf.py", "config.wsgi"],
            cwd=BASE_DIR, env=env, stdout=out, stderr=subprocess.STDOUT,
        )  # fmt: skip
    for _ in range(300):
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/health/", timeout=2)
            return server
        except (urllib.error.URLError, OSError):
            if server.poll() is not None:
                raise RuntimeError(log.read_text()[-3000:]) from None
            time.sleep(0.2)
    server.kill()
    raise RuntimeError("gunicorn did not start")


def probe(url: str, token: str) -> int:
    request = urllib.request.Request(url, headers={"Authorization": f"Token {token}"})
    try:
        return urllib.request.urlopen(request, timeout=10).status
    except urllib.error.HTTPError as error:
        return error.code


def machine() -> dict:
    load = os.getloadavg()
    cpu = next((ln.split(":", 1)[1].strip() for ln in Path("/proc/cpuinfo").read_text().splitlines()
                if ln.startswith("model name")), platform.processor())  # fmt: skip
    pg = subprocess.run(["psql", "--version"], capture_output=True, text=True).stdout.strip()
    return {
        "cores": os.cpu_count(),
        "cpu": cpu,
        "load_average": [round(x, 2) for x in load],
        "python": platform.python_version(),
        "postgres_client": pg,
        "wrk": subprocess.run(["wrk", "-v"], capture_output=True, text=True).stdout.split("\n")[0],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument(
        "--database-url", default="postgres://postgres@127.0.0.1:5432/marginalia_load"
    )
    parser.add_argument("--fresh", action="store_true", help="drop and recreate the database")
    parser.add_argument("--sources", type=int, default=200)
    parser.add_argument("--per-text", type=int, default=100, help="annotations per text")
    parser.add_argument("--text-chars", type=int, default=8000)
    parser.add_argument("--duration", type=int, default=15, help="seconds per scenario")
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--wrk-threads", type=int, default=2)
    parser.add_argument(
        "--workers", type=int, default=os.cpu_count() or 1, help="gunicorn worker processes"
    )
    parser.add_argument("--threads", type=int, default=2, help="threads per gunicorn worker")
    parser.add_argument("--port", type=int, default=0, help="default: a free port")
    parser.add_argument("--no-access-log", dest="access_log", action="store_false")
    parser.add_argument(
        "--close",
        action="store_true",
        help="a new connection for every request (a proxy without upstream keep-alive, "
        "nginx's default), instead of 16 kept-alive ones",
    )
    parser.add_argument("--search-path", default="/api/search/?q=treaty",
                        help="measured when the server answers it with 200")  # fmt: skip
    parser.add_argument("--only", help="run only scenarios whose name contains this")
    parser.add_argument(
        "--cpu",
        type=int,
        default=0,
        metavar="N",
        help="instead of wrk: CPU time per request over N test-client requests",
    )
    parser.add_argument("--profile", action="store_true", help="with --cpu: cProfile each")
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        sys.exit("wrk is not installed: apt-get install wrk")

    args.port = args.port or free_port()
    env = server_env(args)
    ensure_database(args.database_url, fresh=args.fresh)
    for command in (["migrate"], ["collectstatic", "--noinput"]):
        subprocess.run(
            [sys.executable, "manage.py", *command, "-v0"], cwd=BASE_DIR, env=env, check=True
        )
    django_env = ("DJANGO_SETTINGS_MODULE", "DATABASE_URL", "DEBUG", "SECRET_KEY", "STATIC_ROOT")
    os.environ.update({k: env[k] for k in django_env})
    import django

    django.setup()
    started = time.monotonic()
    ids = seed(sources=args.sources, per_text=args.per_text, text_chars=args.text_chars)
    print(f"corpus: {ids['text_count']} texts, {ids['annotation_count']} annotations "
          f"({time.monotonic() - started:.1f} s)")  # fmt: skip
    load_before = [round(x, 2) for x in os.getloadavg()]
    search, log = None, None
    if args.cpu:
        results = measure_cpu(ids, args.cpu, args.only, args.profile)
    else:
        log = Path(tempfile.mkdtemp()) / "gunicorn.log"
        search, results = serve_and_measure(env, log, ids, args)
    report = {
        "when": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "machine": machine() | {"load_average_before": load_before},
        "settings": {k: v for k, v in vars(args).items() if k != "database_url"},
        "corpus": {"texts": ids["text_count"], "annotations": ids["annotation_count"]},
        "search_endpoint": search,
        "results": results,
    }
    out = BASE_DIR / "bench" / "out"
    out.mkdir(exist_ok=True)
    kind = "load-cpu" if args.cpu else "load"
    path = out / f"{kind}-{dt.datetime.now():%Y%m%d-%H%M%S}.json"
    path.write_text(json.dumps(report, indent=2))
    print(f"load average before {load_before}, after {report['machine']['load_average']}")
    print(f"written to {path.relative_to(BASE_DIR)}" + (f"; gunicorn log: {log}" if log else ""))


def serve_and_measure(env: dict[str, str], log: Path, ids: dict, args) -> tuple[str | None, list]:
    """Start gunicorn, run every wrk scenario against it, stop it."""
    server = start_server(env, log, args.port)
    base = f"http://127.0.0.1:{args.port}"
    results = []
    try:
        search = args.search_path if probe(base + args.search_path, ids["token"]) == 200 else None
        if search is None:
            print(f"no search endpoint answers {args.search_path}: full-text search not measured")
        for name, path, script in scenarios(ids, search):
            if args.only and args.only not in name:
                continue
            settle(server.pid, urlparse(args.database_url).path.lstrip("/"))
            result = run_wrk(base, name, path, script, args, server.pid)
            results.append(result)
            print(f"{name:62} {result['rps']:8.1f} req/s  p50 {result['p50_ms']:7.2f} ms  "
                  f"p95 {result['p95_ms']:7.2f} ms  p99 {result['p99_ms']:7.2f} ms  "
                  f"errors {result['non2xx'] + result['socket_errors']}")  # fmt: skip
            print(
                "    CPU ms per request: "
                + ", ".join(
                    f"{program} {ms}" for program, ms in result["cpu_ms_per_request"].items()
                )
            )
    finally:
        server.terminate()
        server.wait(timeout=30)
    return search, results


if __name__ == "__main__":
    main()
