"""docs/benchmarks.md from one run: every figure a ratio to a baseline measured in the same run."""

import datetime
import os
import statistics

from . import scenarios

MIB = 2**20
# Export time is "linear" when a row costs at most this much more at the largest size than at the smallest.
LINEAR_SLACK = 1.5
MEMORY_BUDGET = 50 * MIB
# The door page's list (checkin.views.DOOR_LIST_LIMIT; the check-in app may be absent).
DOOR_LIST_LIMIT = 50


def _verdict(ok: bool) -> str:
    return "met" if ok else "**missed**"


# The pages' target: a cached page against the bare view of the same run (issue 21).
PAGE_TARGET = 0.8
# The burst's: registrations per second against one-row inserts; and the p99 of a sign-up in the rush.
BURST_TARGET = 0.5
RUSH_P99_MS = 250


def rows(run) -> list[dict]:
    """The issue's table for one stack: scenario, subject, baseline, ratio, target, verdict, and why where missed."""
    table = []
    pages, queries = run.pages, run.queries
    for name, label, count_key in (
        ("talk", "talk page: GET the demo talk (40 seats, 25 taken)", "talk"),
        ("home", f"home page: GET / with {run.sizes.upcoming[1]} upcoming talks", None),
    ):
        series = pages[name]
        bare = pages["bare"]
        extra = ""
        if count_key == "talk":
            counted = queries["talk"]
            extra = f"; {counted['rendered']} queries rendered, {counted['again']} served from the page cache"
        else:
            small, large = run.sizes.upcoming
            a, b = queries["home", small], queries["home", large]
            extra = (
                f"; queries at {small} / {large} talks: {a['rendered']} / {b['rendered']} rendered, "
                f"{a['again']} / {b['again']} cached ({'constant' if a == b else 'NOT constant'})"
            )
        # A round in which a busy machine let a run answer nothing has no CPU figure: no ratio then.
        if series.cpu_us and bare.cpu_us and series.cpu_ratio:
            extra += (
                f"; server CPU per request {series.cpu_us:,.0f} µs against the bare view's {bare.cpu_us:,.0f} µs, "
                f"{series.cpu_ratio:.2f} ×"
            )
        if count_key == "talk" and run.costs.get("hit_statements") is not None:
            extra += (
                f"; a hit: {run.costs['hit_statements']} SQL statements, "
                f"{run.costs['hit_cache_calls']} calls to the shared cache"
            )
        met = series.ratio >= PAGE_TARGET
        table.append(
            {
                "scenario": label,
                "subject": f"{series.rate:,.0f} req/s, p50 {series.p50_ms:.1f} ms, p99 {series.p99_ms:.1f} ms",
                "baseline": f"bare view {bare.rate:,.0f} req/s, p50 {bare.p50_ms:.1f} ms, p99 {bare.p99_ms:.1f} ms",
                "ratio": f"{series.ratio:.2f} ×",
                "target": f"≥ {PAGE_TARGET} ×"
                + (", query count constant" if count_key is None else ", p50/p99 reported"),
                "verdict": _verdict(met and (count_key or a == b)),
                "detail": extra.removeprefix("; "),
                "why": "" if met else _page_why(run, name),
            }
        )

    if run.rush_runs:
        subject, baseline = run.rush_runs[-1]
        seats = run.rush_seats
        counts_ok = not any(problem.startswith("rush") for problem in run.problems)
        held = f" + {seats['held']} held" if seats.get("held") else ""
        met = subject.post_p99 < RUSH_P99_MS
        table.append(
            {
                "scenario": f"opening rush: {subject.people:,} people load the talk page within "
                f"{run.sizes.rush_window:g} s, {subject.posters:,} of them register, {seats.get('capacity', 0)} "
                f"seats, own CSRF cookie and token each, {scenarios.CONNECTIONS} connections",
                "subject": f"{subject.rate:,.0f} requests/s ({subject.signups_per_second:,.0f} sign-ups/s) over "
                f"{subject.seconds:.1f} s; posts p50 {subject.post_p50:.1f} ms, p99 {subject.post_p99:.1f} ms; "
                f"pages p50 {subject.page_p50:.1f} ms, p99 {subject.page_p99:.1f} ms; {seats.get('confirmed', 0)} "
                f"confirmed{held} + {seats.get('waitlisted', 0)} waitlisted",
                "baseline": f"a bare form and the one-row insert, same schedule: {baseline.rate:,.0f} requests/s; "
                f"posts p50 {baseline.post_p50:.1f} ms, p99 {baseline.post_p99:.1f} ms; pages p50 "
                f"{baseline.page_p50:.1f} ms, p99 {baseline.page_p99:.1f} ms",
                "ratio": f"post p99 {subject.post_p99 / baseline.post_p99:.1f} × the insert's"
                if baseline.post_p99
                else "",
                "target": f"p99 of a sign-up under {RUSH_P99_MS} ms; every post confirmed, held or waitlisted, "
                "none over capacity",
                "verdict": _verdict(met) + ("; counts exact" if counts_ok else "; **counts wrong**"),
                "detail": "",
                "why": "" if met else _rush_why(run),
            }
        )

    if run.burst_runs:
        ratios = [subject.rate / baseline.rate for subject, baseline in run.burst_runs if baseline.rate]
        subject_rate = statistics.median(subject.rate for subject, _ in run.burst_runs)
        baseline_rate = statistics.median(baseline.rate for _, baseline in run.burst_runs)
        ratio = statistics.median(ratios)
        counts_ok = not any(problem.startswith("burst") for problem in run.problems)
        table.append(
            {
                "scenario": f"registration burst: {run.sizes.attendees:,} attendees, own CSRF cookie and token each, "
                f"64 connections, {run.sizes.seats} seats, waiting list on, rate limit off",
                "subject": f"{subject_rate:,.0f} registrations/s ({run.queries['register']} SQL statements each)",
                "baseline": f"bare view inserting one row in a transaction: {baseline_rate:,.0f} posts/s",
                "ratio": f"{ratio:.2f} ×",
                "target": f"≥ {BURST_TARGET} ×, {run.sizes.seats} seats confirmed or held, the other "
                f"{run.sizes.attendees - run.sizes.seats} waitlisted",
                "verdict": _verdict(ratio >= BURST_TARGET) + ("; counts exact" if counts_ok else "; **counts wrong**"),
                "detail": "",
                "why": "" if ratio >= BURST_TARGET else _burst_why(run),
            }
        )

    if run.mail_runs:
        worker_rates = [scenarios.rate(*worker) for worker, _ in run.mail_runs]
        direct_rates = [scenarios.rate(*direct) for _, direct in run.mail_runs]
        ratio = statistics.median(w / d for w, d in zip(worker_rates, direct_rates, strict=True) if d)
        table.append(
            {
                "scenario": f"email worker: {run.sizes.mails:,} queued confirmations with invites, one worker",
                "subject": f"{statistics.median(worker_rates):,.0f} messages/s (`db_worker`, SMTP)",
                "baseline": f"building and sending the same messages without the queue: "
                f"{statistics.median(direct_rates):,.0f} messages/s",
                "ratio": f"{ratio:.2f} ×",
                "target": "≥ 0.5 ×",
                "verdict": _verdict(ratio >= 0.5),
                "detail": "",
                "why": "" if ratio >= 0.5 else _mail_why(run),
            }
        )

    if run.door_run is not None:
        door, talk = run.door_run, run.door_baselines
        talk_p50 = statistics.median(result.p50_ms for result in talk)
        talk_p99 = statistics.median(result.p99_ms for result in talk)
        table.append(
            {
                "scenario": f"check-in page: search and check in, {run.sizes.door:,} confirmed, "
                f"{scenarios.DOOR_STAFF} door staff at once",
                "subject": f"p50 {door.p50_ms:.1f} ms, p99 {door.p99_ms:.1f} ms "
                f"({door.searches:,} searches, {door.checkins:,} check-ins)",
                "baseline": f"talk page at the same concurrency: p50 {talk_p50:.1f} ms, p99 {talk_p99:.1f} ms",
                "ratio": f"p99 {door.p99_ms / talk_p99:.1f} × the talk page's" if talk_p99 else "",
                "target": "p99 under 100 ms",
                "verdict": _verdict(door.p99_ms < 100),
                "detail": "",
                "why": "" if door.p99_ms < 100 else _door_why(run, talk_p99),
            }
        )

    if run.admin_samples:
        sizes = sorted(run.admin_samples)
        smallest = sizes[0]

        def median(size, attribute):
            return statistics.median(getattr(sample, attribute) for sample in run.admin_samples[size])

        def peak(size):
            return max(sample.peak_rss for sample in run.admin_samples[size])

        def growth(size):
            return max(sample.growth for sample in run.admin_samples[size])

        base_per_row = median(smallest, "export_seconds") / smallest
        for size in sizes[1:]:
            per_row = median(size, "export_seconds") / size
            queries_same = run.queries["admin", size] == run.queries["admin", smallest]
            linear = per_row <= base_per_row * LINEAR_SLACK
            # A worker keeps what it once allocated: compare how far each export pushed it above where it was.
            memory = growth(size) - growth(smallest)
            table.append(
                {
                    "scenario": f"admin: changelist and CSV export of a talk with {size:,} registrations",
                    "subject": f"changelist {median(size, 'changelist_ms'):,.0f} ms "
                    f"({run.queries['admin', size][0]} queries); export {median(size, 'export_seconds'):.2f} s "
                    f"({run.queries['admin', size][1]} queries), peak RSS {peak(size) / MIB:.0f} MiB "
                    f"(+{growth(size) / MIB:.1f} MiB during the export)",
                    "baseline": f"the same at {smallest:,}: changelist {median(smallest, 'changelist_ms'):,.0f} ms "
                    f"({run.queries['admin', smallest][0]} queries); export "
                    f"{median(smallest, 'export_seconds'):.2f} s, peak RSS {peak(smallest) / MIB:.0f} MiB "
                    f"(+{growth(smallest) / MIB:.1f} MiB)",
                    "ratio": f"export time per row {per_row / base_per_row:.2f} ×; memory {memory / MIB:+.0f} MiB",
                    "target": "query count constant; export time linear; peak memory within +50 MB",
                    "verdict": ", ".join(
                        [
                            "queries " + ("constant" if queries_same else "**not constant**"),
                            "time " + ("linear" if linear else "**not linear**"),
                            "memory " + ("met" if memory <= MEMORY_BUDGET else "**missed**"),
                        ]
                    ),
                    "detail": "",
                    "why": "",
                }
            )
    return table


def _page_why(run, name) -> str:
    costs = run.costs
    if not costs:
        return ""
    hit = costs["talk_hit_us" if name == "talk" else "home_hit_us"]
    series = run.pages[name]
    text = (
        f"In one process a hit took {hit:,.0f} µs of CPU against {costs['bare_us']:,.0f} µs for the bare view "
        f"({costs.get('hit_statements', '?')} SQL statements, {costs.get('hit_cache_calls', '?')} calls to the "
        "shared cache: the page and its tokens are in the worker's memory)"
    )
    if name == "talk":
        text += f", {costs['csrf_us']:,.0f} µs of it the visitor's own CSRF token and cookie"
    text += (
        ", the rest the page cache's own steps (the tokens, the stored copy, filling in the page). A hit is "
        "answered before the URL resolver, the view and the middleware after CSRF's (PageCacheMiddleware), which "
        "the bare view all goes through."
    )
    if series.cpu_ratio and series.cpu_ratio >= PAGE_TARGET:
        text += (
            f" The servers' CPU per request says {series.cpu_ratio:.2f} ×: the requests per second were "
            "squeezed by other processes on the machine (load average at the start "
            f"{run.facts.get('load average at start', '?')}, at the end {run.facts.get('load average at end', '?')})."
        )
    return text


def _burst_why(run) -> str:
    measured = [
        (subject / run.sizes.attendees * 1000, baseline / run.sizes.attendees * 1000)
        for subject, baseline in getattr(run, "burst_cpu", [])
        if subject is not None and baseline is not None
    ]
    spent = ""
    if measured:
        signup, insert = statistics.median(m[0] for m in measured), statistics.median(m[1] for m in measured)
        spent = (
            f"The web workers spent {signup:.1f} ms of CPU per sign-up against {insert:.1f} ms per insert (the "
            "median round; the rest of the machine's 2 cores go to the client, the database and the kernel). "
        )
    return (
        f"{spent}A sign-up reads the talk and its questions, validates the form, and in one transaction counts "
        "the address's sign-ups and writes the registration, its history entry, its email (on PostgreSQL the "
        "three in one statement; no task of its own: the commit wakes the email worker at most once a second "
        "per process), the page cache's token and the "
        f"seat ({run.queries['register']} SQL statements, counted in this process); the 700 who "
        "find the talk full take its lock first with one UPDATE that checks it is still full, without reading "
        "it again. Its hot statements are compiled once "
        "(seminar_site/statements.py) and, on PostgreSQL, prepared on the server once per connection; what is "
        "left is Python's work per statement and per request (the database driver, the form, the model "
        "instances) and, on PostgreSQL, a round trip per statement: the baseline is one row and a redirect."
    )


def _rush_why(run) -> str:
    subject = run.rush_runs[-1][0]
    requests = subject.pages + subject.posts
    cpu, baseline_cpu = run.rush_cpu.get("rush"), run.rush_cpu.get("baseline")
    spent = (
        f"The web workers spent {cpu:.1f} CPU seconds on the rush's {requests:,} requests "
        f"({cpu / requests * 1000:.1f} ms each; the baseline's {baseline_cpu / requests * 1000:.1f} ms) over "
        f"{subject.seconds:.1f} s, on {os.cpu_count()} cores shared with the client and the database: "
        if cpu is not None and baseline_cpu is not None and requests
        else ""
    )
    return (
        f"{spent}at {subject.signups_per_second:,.0f} sign-ups per second ({run.queries.get('register', '?')} SQL "
        "statements each on the stacks that count them) the requests wait in the server's queue, and the p99 "
        "measures that wait. Load average at the start of the run "
        f"{run.facts.get('load average at start', '?')}, at its end {run.facts.get('load average at end', '?')}."
    )


def _door_why(run, talk_p99) -> str:
    door = run.door_run
    return (
        f"Each search is a signed-in door staff request: the session, the user and their "
        f"permissions (their own, their role's group), the talk within their series, the counts and at most "
        f"{DOOR_LIST_LIMIT} matching people (the folded name and email scanned within the talk's registrations), and "
        f"the page rendered; each check-in makes the same checks, reads the registration, then locks, writes and "
        f"logs it in one transaction. With "
        f"{scenarios.DOOR_STAFF} "
        f"phones at once on two sync workers a request also waits for those ahead of it (p50 {door.p50_ms:.0f} ms; "
        f"the talk page at the same concurrency: p99 {talk_p99:.0f} ms). Load average at the start of the run "
        f"{run.facts.get('load average at start', '?')}, at its end {run.facts.get('load average at end', '?')}: "
        "on a busy machine every latency here stretches."
    )


def _mail_why(run) -> str:
    costs = run.costs
    if "deliver_statements" not in costs:
        return ""
    return (
        f"Building a message takes {costs['build_statements']} SQL statements; sending it through the outbox "
        f"takes {costs['deliver_statements']} (lock and claim the row and commit that before talking to the "
        "provider, then record the result: the at-most-once rule), plus finding the messages that are due (one "
        "wake-up task sends every one of them); the baseline only builds and sends."
    )


def render(runs, *, elapsed: float, smoke: bool) -> str:
    """docs/benchmarks.md: every stack's rows in one table, then each stack's details."""
    today = datetime.date.today().isoformat()
    labels = ", ".join(run.stack.label for run in runs)
    lines = [
        "# Benchmarks",
        "",
        f"Written by `{'make bench-smoke' if smoke else 'make bench'}` on {today} in {elapsed / 60:.1f} minutes, on "
        f"{len(runs)} stack{'s' if len(runs) != 1 else ''} ({labels}).",
        "Every figure comes from this one run; each subject ran next to its baseline on the same stack, in",
        "alternating order, so the machine's noise falls on both. Regenerate with `make bench` (see *How it runs*).",
        "",
    ]
    if smoke:
        lines += ["**Smoke sizes** (CI): the counts were checked, the speeds mean nothing.", ""]
    lines += [
        "## Results",
        "",
        "| stack | scenario | subject | baseline | × baseline | target | result |",
        "|---|---|---|---|---|---|---|",
    ]
    missed = []
    for run in runs:
        for row in rows(run):
            subject = row["subject"] + (f" ({row['detail']})" if row["detail"] else "")
            cells = [run.stack.label, row["scenario"], subject, row["baseline"], row["ratio"], row["target"]]
            lines.append("| " + " | ".join([*cells, row["verdict"]]) + " |")
            if row["why"]:
                missed.append(f"- **{row['scenario'].split(':')[0]}, {run.stack.label}**: {row['why']}")
    if missed:
        lines += ["", "### Why targets were missed", "", *missed]
    lines += _rush_section(runs)
    lines += _pages_section(runs)
    lines += ["", "## Every round"]
    for run in runs:
        lines += ["", f"{run.stack.label}:", "", *_rounds(run)]
    lines += ["", "## How long each part took"]
    for run in runs:
        what = _what_ran(run)
        lines += ["", f"{run.stack.label} ({run.elapsed:,.0f} s):", ""]
        lines += [
            f"- {name}: {seconds:,.0f} s" + (f" ({what[name]})" if name in what else "")
            for name, seconds in run.durations.items()
        ]
    lines += ["", f"Total: {elapsed:,.0f} s ({elapsed / 60:.1f} minutes; the budget is 10 minutes)."]
    lines += ["", "## Machine and versions", ""]
    first = runs[0].facts
    lines += [f"- {name}: {value}" for name, value in first.items() if name not in STACK_FACTS]
    for run in runs:
        lines.append(
            f"- {run.stack.label}: "
            + "; ".join(f"{name} {run.facts[name]}" for name in STACK_FACTS if name in run.facts)
        )
    lines += ["", "## How it runs", "", *HOW, ""]
    problems = [f"- {run.stack.label}: {problem}" for run in runs for problem in run.problems]
    if problems:
        lines += ["## Wrong counts", "", *problems, ""]
    return "\n".join(lines)


# Facts that differ from stack to stack (the rest is the machine's).
STACK_FACTS = ("database", "cache", "page cache channel", "load average at start", "load average at end", "commit")


def _rush_section(runs) -> list[str]:
    measured = [run for run in runs if run.rush_runs]
    if not measured:
        return []
    lines = [
        "",
        "## The opening rush",
        "",
        "Registration opens: people arrive at random moments of the window, each loads the talk page as a new",
        "visitor (a CSRF cookie and token of their own), and those who register post the form at once. The",
        "baseline plays the same schedule on a bare page with a form and the one-row insert.",
        "",
        "| stack | | requests/s | sign-ups/s | seconds | page p50 | page p99 | post p50 | post p99 | seats |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for run in measured:
        subject, baseline = run.rush_runs[-1]
        seats = run.rush_seats
        held = f" + {seats['held']} held" if seats.get("held") else ""
        for which, result, taken in (
            ("subject", subject, f"{seats.get('confirmed', 0)} confirmed{held} + {seats.get('waitlisted', 0)} "
             f"waitlisted of {seats.get('capacity', 0)}"),
            ("baseline", baseline, f"{baseline.redirects:,} rows"),
        ):  # fmt: skip
            cells = [
                run.stack.label if which == "subject" else "",
                which,
                f"{result.rate:,.0f}",
                f"{result.signups_per_second:,.0f}",
                f"{result.seconds:.1f}",
                f"{result.page_p50:.1f} ms",
                f"{result.page_p99:.1f} ms",
                f"{result.post_p50:.1f} ms",
                f"{result.post_p99:.1f} ms",
                taken,
            ]
            lines.append("| " + " | ".join(cells) + " |")
    return lines


def _pages_section(runs) -> list[str]:
    lines = [
        "",
        "## The pages, and before the page cache",
        "",
        "Requests per second next to the bare view of the same round, and the CPU time the server's workers spent",
        "per request (less moved by other processes on the machine than requests per second are). On the stacks",
        "that run every scenario a second gunicorn started with `PAGE_CACHE=off` renders every request, as before",
        "the cache.",
    ]
    for run in runs:
        lines += [
            "",
            f"{run.stack.label}:",
            "",
            "| page | req/s | × bare | p50 | p99 | CPU per request | × bare (CPU) |",
            "|---|---|---|---|---|---|---|",
        ]
        for name in ("bare", "talk, no page cache", "talk", "home, no page cache", "home"):
            series = run.pages.get(name)
            if series:
                cpu = f"{series.cpu_us:,.0f} µs" if series.cpu_us else "–"
                cpu_ratio = f"{series.cpu_ratio:.2f}" if series.cpu_ratio else "–"
                cells = [name, f"{series.rate:,.0f}", f"{series.ratio:.2f}", f"{series.p50_ms:.1f} ms"]
                lines.append("| " + " | ".join([*cells, f"{series.p99_ms:.1f} ms", cpu, cpu_ratio]) + " |")
    return lines


def _rounds(run) -> list[str]:
    lines = []
    for name, series in run.pages.items():
        lines.append(
            f"- {name}: "
            + ", ".join(
                f"{r.rate:,.0f} req/s ({ratio:.2f} ×)" for r, ratio in zip(series.runs, series.ratios, strict=False)
            )
        )
    for number, (subject, baseline) in enumerate(run.rush_runs, 1):
        lines.append(
            f"- rush {number}: {subject.rate:,.0f} requests/s over {subject.seconds:.2f} s; baseline "
            f"{baseline.rate:,.0f} requests/s over {baseline.seconds:.2f} s"
        )
    for number, (subject, baseline) in enumerate(run.burst_runs, 1):
        lines.append(
            f"- burst round {number}: registrations {subject.rate:,.0f}/s ({subject.seconds:.2f} s), "
            f"inserts {baseline.rate:,.0f}/s ({baseline.seconds:.2f} s)"
        )
    for number, (worker, direct) in enumerate(run.mail_runs, 1):
        lines.append(
            f"- email round {number}: worker {scenarios.rate(*worker):,.0f}/s ({worker[1]:.2f} s), "
            f"direct {scenarios.rate(*direct):,.0f}/s ({direct[1]:.2f} s)"
        )
    for size, samples in sorted(run.admin_samples.items()):
        lines.append(
            f"- admin at {size:,}: "
            + "; ".join(
                f"changelist {s.changelist_ms:,.0f} ms, export {s.export_seconds:.2f} s, "
                f"peak {s.peak_rss / MIB:.0f} MiB (+{s.growth / MIB:.1f})"
                for s in samples
            )
        )
    return lines


def _what_ran(run) -> dict[str, str]:
    """What each timed part of the run consists of, rounds times seconds, so its figures can be weighed."""
    sizes = run.sizes
    subjects = len(run.pages) - 1 if run.pages else 4
    what = {
        "talk and home pages": f"the servers started; a 1 s warm-up per URL, then {sizes.rounds} rounds × "
        f"({subjects} subjects + the bare view twice) × {sizes.seconds:g} s of wrk",
        "opening rush": f"{sizes.rush_people:,} people over {sizes.rush_window:g} s, {sizes.rush_posters:,} of them "
        "posting; the baseline, then the talk",
        "registration burst": f"{sizes.attendees:,} attendees load the talk page; then {sizes.burst_rounds} rounds, "
        f"each {sizes.attendees:,} registrations and {sizes.attendees:,} baseline inserts (order reversed in "
        "every other round)",
        "admin": f"{len(sizes.admin)} sizes, {'once' if run.smoke else 'twice (growing, then shrinking)'}: "
        f"{sizes.admin_repeat} changelist loads and 1 export each",
        "check-in page": f"the talk page {sizes.seconds:g} s before and after; {sizes.door:,} searches and "
        f"{sizes.door:,} check-ins",
        "email worker": f"{sizes.mail_rounds} round(s): {sizes.mails:,} registrations queue their confirmations; "
        "half of them sent directly, all of them by the worker, the other half directly",
        "costs": "in this process, the CPU time of a cached page's parts (the least of 5 × 200 calls each), for the "
        "reasons given above",
    }
    return what


HOW = [
    "- `make bench` (`python -m bench`; `make bench-smoke` for CI sizes; `--stacks sqlite,postgres,redis` for some)",
    "  runs every scenario on each stack it can reach, each stack in a process of its own with a database of its",
    "  own: **SQLite** in `var/bench/` with the database cache, always; **PostgreSQL** (`<name>_bench` on the",
    "  server `DATABASE_URL` names) with the database cache, when `DATABASE_URL` is PostgreSQL; and **Redis** as",
    "  the cache (`CACHE_URL=redis://...`, on PostgreSQL when there is one), when `CACHE_URL` is Redis: there only",
    "  the pages and the opening rush, the scenarios the cache changes. For all three:",
    "  `DATABASE_URL=postgres://... CACHE_URL=redis://... make bench`. Each stack's page cache hears of changes",
    "  as production's would (`PAGE_CACHE_CHANNEL=auto`: a stamp file, LISTEN/NOTIFY, Redis pub/sub).",
    "- Gunicorn runs with the repository's `gunicorn.conf.py` in production mode (`DEBUG=false`, `bench.settings`:",
    "  the production settings plus the baseline views `/__bench__/bare/`, `/__bench__/form/` (a form with its",
    "  CSRF token) and `/__bench__/insert/`, which exist in that settings module's URLconf only). 2 sync workers,",
    "  `GUNICORN_MAX_REQUESTS=0` so no worker restarts during a measurement. On the stacks that run everything a",
    "  second gunicorn runs with `PAGE_CACHE=off`. Requests carry `X-Forwarded-Proto: https`, as from the proxy.",
    '- Pages: wrk, 2 threads, 16 connections, each figure a few seconds (rounds × seconds below, under "How long'
    ' each part took"); every round runs the bare view first',
    "  and last and the subjects between, in reversed order every other round; a ratio is a subject's requests/s",
    "  over the bare view's in its own round, and the table gives the median over rounds. The workers' CPU time",
    "  (`/proc/<pid>/stat`) before and after each figure gives the CPU per request, and its ratio to the bare",
    "  view's: on a machine busy with other work, requests per second swing with what else runs, CPU per request",
    "  far less. The targets are judged on requests per second; re-measure on a quiet machine.",
    "- Opening rush: 2,000 people arrive at random moments (a fixed seed) within 10 s; each loads the talk page",
    "  as a new visitor and gets a CSRF cookie and token of their own; 1,000 of them post the form at once with",
    "  them, for 300 seats (`bench/rush.py` with `bench/client.py`: 64 connections, one person at a time each,",
    "  opened when a request is to be sent, as the proxy in front would; wrk would hold idle connections open to",
    "  the sync workers). Latencies run from a request's sending to its answer; throughput over the first request to",
    "  the last answer. The baseline plays the same schedule on `/__bench__/form/` and `/__bench__/insert/`. The",
    "  counts: every post answered with a redirect, each registration confirmed, holding a seat or waitlisted,",
    "  never more seats than the room, and no seat free while anyone waits. The fair-seats rules run at their",
    "  defaults (`HOLD_AFTER=10`, `HOLD_DEMAND=50%/10m`: past half the seats within ten minutes, new seats are",
    "  held until confirmed by email), and each person comes from an address of their own as the proxy in front",
    "  reports it (`X-Forwarded-For`, `TRUSTED_PROXY_COUNT=1`), as a campus crowd would; so does each attendee",
    "  of the burst. The per-address rate limits are off (the staff scenarios come from one address).",
    "- Burst: each attendee first loads the talk page (its own CSRF cookie and token), then wrk (one thread, 64",
    "  connections, `bench/burst.lua`) posts every attendee's form once; the time runs from the first post to",
    "  the last answer. The baseline takes the same posts (same CSRF checks) and inserts one row each, in a",
    "  transaction, on the same database.",
    "- Email: registrations queue the confirmations (with invites); `bench/direct_mail.py` builds and sends the",
    "  first half of the same messages without the queue, then `manage.py db_worker --batch` sends all of them",
    "  to a local SMTP sink (aiosmtpd), then `bench/direct_mail.py` the second half: the baseline on both ends.",
    "  Each is timed from its first message sent to its last; the baseline's rate is over both halves.",
    "- Admin: an organizer logged in over HTTP opens the registrations changelist of one talk and downloads its",
    "  CSV export (the admin action, streamed); memory is the gunicorn workers' peak RSS (VmHWM, reset before",
    "  each export) and how far above the RSS before it the export pushed it. Query counts come from the same",
    "  requests served in the harness process.",
]


def summary(runs) -> str:
    return "\n".join(
        f"{run.stack.name:<9}{row['scenario'][:55]:<55} {row['ratio']:<32} {row['verdict']}"
        for run in runs
        for row in rows(run)
    )
