"""The scenarios of `make bench`, in the order they run, and the counts each must get right."""

import contextlib
import os
import platform
import subprocess
import sys
import time
from urllib.parse import quote

import django
from django.apps import apps
from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.db import connection
from django.db.models import Count

from bench.models import Row
from registrations.models import Registration

from . import admin_pages, burst, data, load, mail, pages, rush, stack

BARE = "/__bench__/bare/"
# Phones at the door working at once.
DOOR_STAFF = 4
FORM = "/__bench__/form/"
INSERT = "/__bench__/insert/"
# The registration form's connections, in the burst and in the rush.
CONNECTIONS = 64
# A seat held for someone until they confirm it (the "fair seats" issue): counted with the confirmed.
HELD = str(getattr(Registration.Status, "HELD", "held"))


class Run:
    def __init__(self, *, env, sizes, smoke, database, stack):
        self.env = env
        self.sizes = sizes
        self.smoke = smoke
        self.database = database
        self.stack = stack
        self.problems: list[str] = []
        self.facts: dict[str, str] = {}
        self.elapsed = 0.0
        self.pages: dict[str, pages.Series] = {}
        self.queries: dict[str, object] = {}
        self.burst_runs: list[tuple[load.PostResult, load.PostResult]] = []
        # The web workers' CPU seconds per round: (the sign-ups, the inserts); None when a worker was replaced.
        self.burst_cpu: list[tuple[float | None, float | None]] = []
        # The opening rush (subject, baseline), and the seats it ended with.
        self.rush_runs: list[tuple[rush.RushResult, rush.RushResult]] = []
        self.rush_seats: dict[str, int] = {}
        # CPU seconds the web workers used in the rush, and in its baseline (None: a worker was replaced meanwhile).
        self.rush_cpu: dict[str, float | None] = {}
        self.mail_runs: list[tuple[tuple[int, float], tuple[int, float]]] = []
        self.admin_samples: dict[int, list[admin_pages.Sample]] = {}
        # The door (when the check-in app is installed): its run and the talk page's beside it.
        self.door_run: load.DoorResult | None = None
        self.door_baselines: list[load.GetResult] = []
        # Where the time of a request goes, measured in this process (for the report's "why").
        self.costs: dict[str, float] = {}
        # Wall-clock seconds of each part of the run, for the 10-minute budget.
        self.durations: dict[str, float] = {}
        self.started = self.lap_started = time.monotonic()

    def lap(self, name: str) -> None:
        """The part called `name` ends now: keep and print how long it took, and the run so far."""
        now = time.monotonic()
        self.durations[name] = now - self.lap_started
        self.lap_started = now
        print(f"  ({name}: {self.durations[name]:.0f} s; {now - self.started:.0f} s so far)", flush=True)

    def check(self, condition: bool, problem: str) -> None:
        if not condition:
            self.problems.append(problem)
            print(f"  wrong: {problem}", flush=True)

    def prepare(self) -> None:
        step("database and static files")
        call_command("migrate", run_syncdb=True, interactive=False, verbosity=0)
        call_command("collectstatic", interactive=False, verbosity=0)
        self.facts = machine_facts(self.database, smoke=self.smoke)
        self.lap("database and static files")

    def all(self) -> None:
        """Every scenario on a stack that runs them all; on another (the cache apart) the pages and the rush."""
        full = self.stack.full
        step("data: the demo talk, upcoming talks")
        self.demo = data.demo_talk()
        small, large = self.sizes.upcoming
        data.upcoming_talks(small)
        self.queries["home", small] = home_queries()
        data.upcoming_talks(large)
        self.queries["home", large] = home_queries()
        self.queries["talk"] = page_queries(self.demo.get_absolute_url())
        self.check(
            self.queries["home", small] == self.queries["home", large],
            f"home page queries grow with the talks: {self.queries['home', small]} at {small}, "
            f"{self.queries['home', large]} at {large}",
        )
        rush_event = data.open_talk("rush", capacity=self.sizes.rush_seats)
        burst_events, admin_events, door_event = [], {}, None
        if full:
            burst_events = [
                data.open_talk(f"burst-{n}", capacity=self.sizes.seats) for n in range(self.sizes.burst_rounds)
            ]
            admin_events = {size: data.admin_talk(f"admin-{size}", size) for size in self.sizes.admin}
            user = get_user_model().objects.get(username=data.superuser()[0])
            for size, event in admin_events.items():
                self.queries["admin", size] = admin_pages.count_queries(user, event)
            self.queries["register"] = register_queries()
            door_event = data.door_talk("door", self.sizes.door) if apps.is_installed("checkin") else None
        connection.close()
        self.lap("data")
        with contextlib.ExitStack() as servers:
            host = servers.enter_context(stack.gunicorn(self.env))
            # Before and after the page cache: on the stacks that run everything (the cache plays no part in it).
            uncached = (
                servers.enter_context(stack.gunicorn(self.env | {"PAGE_CACHE": "off"}, "web-uncached"))
                if full
                else None
            )
            self.run_pages(host, uncached)
            self.lap("talk and home pages")
            self.run_rush(host, rush_event)
            self.lap("opening rush")
            if full:
                self.run_burst(host, burst_events)
                self.lap("registration burst")
                self.run_admin(host, admin_events)
                self.lap("admin")
                if door_event is not None:
                    self.run_door(host, door_event)
                    self.lap("check-in page")
        if full:
            self.run_mail()
            self.lap("email worker")
        step("where a cached page's time goes, in this process")
        self.costs = costs(self.demo)
        self.lap("costs")
        self.facts["load average at end"] = " ".join(f"{value:.2f}" for value in os.getloadavg())

    def run_pages(self, host, uncached) -> None:
        step("talk page and home page against the bare view")
        talk = self.demo.get_absolute_url()
        subjects = {"talk": host.url + talk, "home": host.url + "/"}
        if uncached is not None:
            subjects |= {"talk, no page cache": uncached.url + talk, "home, no page cache": uncached.url + "/"}
        servers = [(host.url, stack.worker_pids(host))]
        if uncached is not None:
            servers.append((uncached.url, stack.worker_pids(uncached)))

        def cpu(url):
            return stack.cpu_seconds(next(pids for base, pids in servers if url.startswith(base + "/")))

        self.pages = pages.alternate(
            subjects, baseline=host.url + BARE, rounds=self.sizes.rounds, seconds=self.sizes.seconds, cpu=cpu
        )
        for series in self.pages.values():
            self.check(series.failures == 0, f"{series.name}: {series.failures} answers were errors")
            cpu_ratio = (
                f", CPU per request {series.cpu_us:.0f} µs ({series.cpu_ratio:.2f} ×)" if series.cpu_ratio else ""
            )
            print(f"  {series.name:<22} {series.rate:8.0f} req/s  × bare {series.ratio:.2f}{cpu_ratio}", flush=True)

    def check_seats(self, what: str, event, *, posts: int) -> dict[str, int]:
        """Each post confirmed, holding a seat or waiting; no more seats than the room; none free while anyone waits."""
        counts = dict(Registration.objects.filter(event=event).values_list("status").annotate(n=Count("pk")).order_by())
        confirmed, held = counts.get(Registration.Status.CONFIRMED, 0), counts.get(HELD, 0)
        waitlisted = counts.get(Registration.Status.WAITLISTED, 0)
        capacity = event.capacity
        event.refresh_from_db()
        self.check(
            confirmed + held + waitlisted == posts and sum(counts.values()) == posts,
            f"{what}: {counts} for {posts} posts (every post must be confirmed, held or waiting, once)",
        )
        self.check(
            confirmed + held <= capacity and event.seats_taken <= capacity,
            f"{what}: {confirmed} confirmed and {held} held, seats_taken {event.seats_taken}, for {capacity} seats",
        )
        self.check(
            confirmed + held == capacity or waitlisted == 0,
            f"{what}: {capacity - confirmed - held} seats free while {waitlisted} wait",
        )
        return {"confirmed": confirmed, "held": held, "waitlisted": waitlisted, "capacity": capacity}

    def run_burst(self, host, events) -> None:
        step(f"registration burst: {self.sizes.attendees} attendees, {self.sizes.seats} seats, 64 connections")
        attendees = burst.collect_attendees(
            host.url + events[0].get_absolute_url(), self.sizes.attendees, stack.WORK_DIR / "attendees" / "all.tsv"
        )
        for number, event in enumerate(events):
            path = f"/events/{event.slug}/register/"
            before = Row.objects.count()
            order = ["baseline", "subject"] if number % 2 == 0 else ["subject", "baseline"]
            results, cpu = {}, {}
            workers = stack.worker_pids(host)
            for which in order:
                cpu_before = stack.cpu_seconds(workers)
                results[which] = burst.run(
                    host.url, INSERT if which == "baseline" else path, attendees, connections=CONNECTIONS
                )
                try:
                    cpu[which] = stack.cpu_seconds(workers) - cpu_before
                except FileNotFoundError:
                    cpu[which] = None
            subject, baseline = results["subject"], results["baseline"]
            self.burst_runs.append((subject, baseline))
            self.burst_cpu.append((cpu["subject"], cpu["baseline"]))
            n = self.sizes.attendees
            for which, result in results.items():
                # (Socket errors are the filler requests cut off when wrk stops itself: not posts.)
                self.check(
                    result.redirects == n and not result.other,
                    f"burst {which}: {result.redirects} of {n} posts redirected, other answers {result.other}",
                )
            seats = self.check_seats("burst", event, posts=n)
            self.check(
                Row.objects.count() - before == n, f"insert baseline wrote {Row.objects.count() - before} of {n}"
            )
            print(
                f"  round {number + 1}: registrations {subject.rate:.0f}/s, inserts {baseline.rate:.0f}/s; "
                f"{seats['confirmed']} confirmed + {seats['held']} held + {seats['waitlisted']} waitlisted",
                flush=True,
            )
            connection.close()

    def run_rush(self, host, event) -> None:
        sizes = self.sizes
        step(
            f"opening rush: {sizes.rush_people:,} people load the talk page within {sizes.rush_window:g} s, "
            f"{sizes.rush_posters:,} of them register for {sizes.rush_seats} seats, {CONNECTIONS} connections"
        )
        plan = rush.schedule(
            stack.WORK_DIR / "attendees" / "rush.tsv",
            people=sizes.rush_people,
            posters=sizes.rush_posters,
            window=sizes.rush_window,
        )
        talk = event.get_absolute_url()
        before = Row.objects.count()
        workers = stack.worker_pids(host)

        def measured(which, *args):
            cpu_before = stack.cpu_seconds(workers)
            result = rush.run(host.url, *args, plan, connections=CONNECTIONS)
            try:
                self.rush_cpu[which] = stack.cpu_seconds(workers) - cpu_before
            except FileNotFoundError:
                self.rush_cpu[which] = None
            return result

        # The baseline first: a bare view handing out a CSRF token, and the one-row insert.
        baseline = measured("baseline", FORM, INSERT)
        subject = measured("rush", talk, f"/events/{event.slug}/register/")
        self.rush_runs.append((subject, baseline))
        for which, result in (("rush", subject), ("rush baseline", baseline)):
            self.check(
                (result.pages, result.page_errors) == (sizes.rush_people, 0),
                f"{which}: {result.pages} of {sizes.rush_people} pages loaded, {result.page_errors} without a form",
            )
            self.check(
                (result.posts, result.redirects, result.other) == (sizes.rush_posters, sizes.rush_posters, {}),
                f"{which}: {result.redirects} of {sizes.rush_posters} posts redirected, other answers {result.other}",
            )
        self.rush_seats = self.check_seats("rush", event, posts=sizes.rush_posters)
        wrote = Row.objects.count() - before
        self.check(wrote == sizes.rush_posters, f"rush baseline wrote {wrote} of {sizes.rush_posters}")
        print(
            f"  rush: {subject.rate:.0f} requests/s over {subject.seconds:.1f} s, pages p50 {subject.page_p50:.1f} ms "
            f"p99 {subject.page_p99:.1f} ms, posts p50 {subject.post_p50:.1f} ms p99 {subject.post_p99:.1f} ms; "
            f"baseline: pages p99 {baseline.page_p99:.1f} ms, posts p99 {baseline.post_p99:.1f} ms; {self.rush_seats}",
            flush=True,
        )
        connection.close()

    def run_admin(self, host, events) -> None:
        sizes = list(events)
        step(f"admin: changelist and CSV export at {', '.join(f'{size:,}' for size in sizes)} registrations")
        username, password = data.superuser()
        staff = admin_pages.Staff(host.url, username, password)
        orders = [sizes] if self.smoke else [sizes, list(reversed(sizes))]
        for order in orders:
            for size in order:
                sample = admin_pages.measure(staff, host, events[size], size, repeat=self.sizes.admin_repeat)
                changelist_queries, export_queries = self.queries["admin", size]
                sample.changelist_queries, sample.export_queries = changelist_queries, export_queries
                self.admin_samples.setdefault(size, []).append(sample)
                self.check(sample.export_rows == size, f"admin export at {size}: {sample.export_rows} rows")
                print(
                    f"  {size:>7,}: changelist {sample.changelist_ms:.0f} ms ({changelist_queries} queries), "
                    f"export {sample.export_seconds:.2f} s ({export_queries} queries), "
                    f"peak {sample.peak_rss / 2**20:.0f} MiB (+{sample.growth / 2**20:.1f})",
                    flush=True,
                )
        counts = {self.queries["admin", size] for size in sizes}
        self.check(len(counts) == 1, f"admin query counts change with the size: {self.queries}")

    def run_door(self, host, event) -> None:
        from django.urls import reverse

        n = self.sizes.door
        step(f"check-in page: {DOOR_STAFF} door staff search for and check in {n:,} confirmed people")
        # Door staff, not a superuser: their permissions and their series are looked up as at a real door.
        username, password = data.door_staff(event)
        staff = admin_pages.Staff(host.url, username, password, first_page=reverse("checkin:event", args=[event.pk]))
        lines = []
        for registration in Registration.objects.filter(event=event).order_by("pk"):
            search = reverse("checkin:event", args=[event.pk]) + f"?q={quote(registration.email.split('@')[0])}%40"
            lines.append(f"{search}\t{reverse('checkin:check_in', args=[event.pk, registration.pk])}\n")
        attendees = stack.WORK_DIR / "attendees" / "door.tsv"
        attendees.write_text("".join(lines), encoding="utf-8")
        talk = host.url + self.demo.get_absolute_url()
        cookie = "; ".join(f"{name}={value}" for name, value in staff.cookies.items())
        self.door_baselines.append(load.get(talk, seconds=self.sizes.seconds, connections=DOOR_STAFF, threads=1))
        self.door_run = load.door(host.url, attendees, cookie=cookie, token=staff.token, connections=DOOR_STAFF)
        self.door_baselines.append(load.get(talk, seconds=self.sizes.seconds, connections=DOOR_STAFF, threads=1))
        run = self.door_run
        self.check(
            (run.searches, run.checkins, run.other) == (n, n, {}),
            f"door: {run.searches} searches and {run.checkins} check-ins of {n} answered, other answers {run.other}",
        )
        here = Registration.objects.filter(event=event, checked_in_at__isnull=False).count()
        self.check(here == n, f"door: {here} of {n} checked in")
        print(f"  door p50 {run.p50_ms:.1f} ms, p99 {run.p99_ms:.1f} ms; {here} checked in", flush=True)

    def run_mail(self) -> None:
        step(
            f"email worker: {self.sizes.mails} confirmations with invites, one worker, against sending directly "
            "(half of them before the worker, half after)"
        )
        for number in range(self.sizes.mail_rounds):
            mail.set_aside_queued_mail()
            event = data.open_talk(f"mail-{number}", capacity=self.sizes.mails)
            data.register_many(event, self.sizes.mails, prefix=f"mail{number}-")
            connection.close()
            with stack.smtp_sink() as port:
                env = self.env | {"BENCH_SMTP_PORT": str(port)}
                # The baseline on both ends of the worker's run, as for the pages: each half
                # of the messages built and sent directly, the worker sending all of them between.
                before = mail.direct(env, event, part=0, parts=2)
                worker = mail.worker(env, event, self.sizes.mails)
                after = mail.direct(env, event, part=1, parts=2)
            built = before[0] + after[0]
            # Each half is timed from its first message sent to its last: one interval fewer than messages.
            direct = (built - 1, before[1] + after[1])
            self.mail_runs.append((worker, direct))
            for which, messages in (("worker", worker[0]), ("direct", built)):
                self.check(messages == self.sizes.mails, f"email {which}: {messages} of {self.sizes.mails} sent")
            print(
                f"  round {number + 1}: worker {rate(*worker):.0f}/s, direct {rate(*direct):.0f}/s "
                f"({before[0]} before the worker, {after[0]} after)",
                flush=True,
            )


def costs(demo) -> dict[str, float]:
    """Microseconds per operation in this process: what a cached page costs beyond the bare view, and why."""
    import time

    from django.core.cache import cache
    from django.http import HttpResponse
    from django.test import Client, RequestFactory

    from outbox import delivery, registry
    from outbox.models import OutgoingMail
    from seminar_site import pagecache
    from seminar_site.pagecache import visitor

    def timed(operation, times=200):
        # CPU time of this process, the least of five: other processes on the machine do not count.
        for _ in range(20):
            operation()
        best = []
        for _ in range(5):
            started = time.process_time()
            for _ in range(times):
                operation()
            best.append((time.process_time() - started) / times * 1e6)
        return min(best)

    client = Client(HTTP_HOST="127.0.0.1", HTTP_X_FORWARDED_PROTO="https")
    talk = demo.get_absolute_url()
    tag_keys = [pagecache.tag_key(pagecache.CONTENT), pagecache.tag_key(pagecache.talk_tag(demo.slug))]
    factory = RequestFactory()
    listening()

    def csrf():
        request = factory.get("/")
        pagecache.csrf_token(request)
        visitor.give_csrf_cookie(request, HttpResponse())

    found = {
        "bare_us": timed(lambda: client.get(BARE)),
        "talk_hit_us": timed(lambda: client.get(talk)),
        "home_hit_us": timed(lambda: client.get("/")),
        "tokens_us": timed(lambda: cache.get_many(tag_keys)),
        "csrf_us": timed(csrf),
    }

    def count(operation):
        statements = []

        def record(execute, sql, params, many, context):
            statements.append(sql)
            return execute(sql, params, many, context)

        with connection.execute_wrapper(record):
            operation()
        return len(statements)

    # What a hit asks of the database and of the shared cache: nothing, once the worker listens.
    asked = []

    class Counting:
        def __getattr__(self, name):
            asked.append(name)
            return getattr(cache, name)

    client.get(talk)
    pagecache.cache = Counting()
    try:
        found["hit_statements"] = count(lambda: client.get(talk))
        found["hit_cache_calls"] = len(asked)
    finally:
        pagecache.cache = cache

    mail = OutgoingMail.objects.filter(status=OutgoingMail.Status.SENT).order_by("-pk").first()
    if mail is not None:
        found["build_statements"] = count(lambda: registry.get_kind(mail.kind).build(mail))
        OutgoingMail.objects.filter(pk=mail.pk).update(status=OutgoingMail.Status.PENDING)
        found["deliver_statements"] = count(lambda: delivery.deliver(mail_id=mail.pk))
    return found


def rate(messages: int, seconds: float) -> float:
    # Timed from the first message sent to the last: messages - 1 intervals.
    return (messages - 1) / seconds if seconds else 0.0


def step(text: str) -> None:
    print(f"\n== {text}", flush=True)


def listening() -> None:
    """As in a server's worker: this process hears of changes to pages, and trusts its channel, before a hit counts."""
    import time

    from seminar_site import pagecache

    channel = pagecache.state().channel
    channel.start()
    deadline = time.monotonic() + 10
    while channel.name != "off" and not channel.trusted() and time.monotonic() < deadline:
        time.sleep(0.02)


def page_queries(path: str) -> dict[str, int]:
    """SQL statements of a page rendered (without the page cache), and served from the page cache."""
    from django.test import override_settings

    listening()
    counts = {}
    with override_settings(PAGE_CACHE=False):
        status, counts["rendered"] = pages.count_queries(path)
    pages.count_queries(path)  # stored
    status, counts["again"] = pages.count_queries(path)
    assert status == 200, (path, status)
    return counts


def home_queries() -> dict[str, int]:
    return page_queries("/")


def register_queries() -> int:
    """SQL statements of one registration posted through the form, in this process."""
    event = data.open_talk("count-register", capacity=10)
    name, email = data.attendee_fields(0)
    statements = []

    def record(execute, sql, params, many, context):
        statements.append(sql)
        return execute(sql, params, many, context)

    from django.test import Client

    client = Client(HTTP_HOST="127.0.0.1", HTTP_X_FORWARDED_PROTO="https")
    with connection.execute_wrapper(record):
        response = client.post(
            f"/events/{event.slug}/register/",
            f"name={name}&email={email}&consent=on&website=",
            content_type="application/x-www-form-urlencoded",
        )
    assert response.status_code == 302, response.status_code
    return len(statements)


def machine_facts(database, *, smoke: bool) -> dict[str, str]:
    facts = {}
    cpu = ""
    try:
        for line in open("/proc/cpuinfo", encoding="utf-8"):  # noqa: SIM115
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    facts["CPU"] = f"{cpu or platform.processor()}, {os.cpu_count()} cores visible"
    try:
        memory = next(line for line in open("/proc/meminfo", encoding="utf-8") if line.startswith("MemTotal"))  # noqa: SIM115
        facts["memory"] = f"{int(memory.split()[1]) / 2**20:.1f} GiB"
    except (OSError, StopIteration):
        pass
    facts["command"] = f"python -m bench{' --smoke' if smoke else ''} (`make bench{'-smoke' if smoke else ''}`)"
    facts["load average at start"] = " ".join(f"{value:.2f}" for value in os.getloadavg())
    facts["OS"] = platform.platform()
    facts["Python"] = sys.version.split()[0]
    facts["Django"] = django.get_version()
    import gunicorn

    facts["gunicorn"] = f"{gunicorn.__version__}, 2 sync workers (gunicorn.conf.py, WEB_CONCURRENCY=2)"
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SHOW server_version")
            facts["database"] = f"PostgreSQL {cursor.fetchone()[0]}"
        else:
            cursor.execute("SELECT sqlite_version()")
            facts["database"] = f"SQLite {cursor.fetchone()[0]}"
    backend = settings.CACHES["default"]["BACKEND"]
    facts["cache"] = backend
    if "redis" in backend.lower():
        from django.core.cache import cache

        facts["cache"] += f" (Redis {cache._cache.get_client().info().get('redis_version', '?')})"
    from seminar_site.pagecache import channels

    facts["page cache channel"] = (
        f"{channels.kind(settings.PAGE_CACHE_CHANNEL)} (PAGE_CACHE_LAG {settings.PAGE_CACHE_LAG:g} s)"
    )
    facts["load generator"] = load.generator_name()
    facts["commit"] = (
        subprocess.run(
            ["git", "describe", "--always", "--dirty"], capture_output=True, text=True, cwd=stack.BASE_DIR, check=False
        ).stdout.strip()
        or "?"
    )
    return facts
