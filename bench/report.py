"""docs/benchmarks.md from one run: every figure a ratio to a baseline measured in the same run."""

import datetime
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


def rows(run) -> list[dict]:
    """The issue's table: scenario, subject, baseline, ratio, target, verdict, and why where it is missed."""
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
        table.append(
            {
                "scenario": label,
                "subject": f"{series.rate:,.0f} req/s, p50 {series.p50_ms:.1f} ms, p99 {series.p99_ms:.1f} ms",
                "baseline": f"bare view {bare.rate:,.0f} req/s, p50 {bare.p50_ms:.1f} ms, p99 {bare.p99_ms:.1f} ms",
                "ratio": f"{series.ratio:.2f} ×",
                "target": "≥ 0.5 ×" + (", query count constant" if count_key is None else ", p50/p99 reported"),
                "verdict": _verdict(series.ratio >= 0.5 and (count_key or a == b)),
                "detail": extra.removeprefix("; "),
                "why": "" if series.ratio >= 0.5 else _page_why(run, name),
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
                "subject": f"{subject_rate:,.0f} registrations/s",
                "baseline": f"bare view inserting one row in a transaction: {baseline_rate:,.0f} posts/s",
                "ratio": f"{ratio:.2f} ×",
                "target": f"≥ 0.5 ×, exactly {run.sizes.seats} confirmed + "
                f"{run.sizes.attendees - run.sizes.seats} waitlisted",
                "verdict": _verdict(ratio >= 0.5) + ("; counts exact" if counts_ok else "; **counts wrong**"),
                "detail": "",
                "why": ""
                if ratio >= 0.5
                else (
                    f"A registration is a form with validation and {run.queries['register']} SQL statements "
                    "(one confirmed sign-up, counted in this process): the talk and its questions; then, under "
                    "the talk's seat lock, where two workers take turns, the lock, the insert, the seat, the "
                    "history entry and the queued email, and the commit; once that commits, the email's task and "
                    "the page cache's new token (with the database as the cache: its entry count, then a read "
                    "and a write of the token in a transaction of their own). The baseline writes one row in one "
                    "commit, without a lock."
                ),
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
    cache = run.facts.get("cache", "").split(" (")[0].rsplit(".", 1)[-1]
    text = (
        f"In one process a hit took {hit:,.0f} µs against {costs['bare_us']:,.0f} µs for the bare view: "
        f"{costs['tokens_us']:,.0f} µs to read the page's tokens from the shared cache ({cache}; the one round trip "
        "that keeps every host current)"
    )
    if name == "talk":
        text += f", {costs['csrf_us']:,.0f} µs to make the visitor's CSRF token and cookie"
    return text + ", the rest building and sending the larger response."


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
        "provider, then record the result: the at-most-once rule), plus the task queue's own claim and result "
        "for each message; the baseline only builds and sends."
    )


def render(run) -> str:
    today = datetime.date.today().isoformat()
    lines = [
        "# Benchmarks",
        "",
        f"Written by `{'make bench-smoke' if run.smoke else 'make bench'}` on {today}"
        f" in {run.elapsed / 60:.1f} minutes. Every figure comes from this one run; each subject ran next to its",
        "baseline, in alternating order, so the machine's noise falls on both. Regenerate with `make bench`.",
        "",
    ]
    if run.smoke:
        lines += ["**Smoke sizes** (CI): the counts were checked, the speeds mean nothing.", ""]
    lines += [
        "## Results",
        "",
        "| scenario | subject | baseline | × baseline | target | result |",
        "|---|---|---|---|---|---|",
    ]
    table = rows(run)
    for row in table:
        subject = row["subject"] + (f" ({row['detail']})" if row["detail"] else "")
        cells = [row["scenario"], subject, row["baseline"], row["ratio"], row["target"], row["verdict"]]
        lines.append("| " + " | ".join(cells) + " |")
    missed = [row for row in table if row["why"]]
    if missed:
        lines += ["", "### Why targets were missed", ""]
        lines += [f"- **{row['scenario'].split(':')[0]}**: {row['why']}" for row in missed]
    lines += ["", "## Before and after the page cache", ""]
    lines += [
        "The same pages from a second gunicorn started with `PAGE_CACHE=off` (every request rendered, as before the",
        "cache), in the same rounds:",
        "",
        "| page | req/s | × bare | p50 | p99 |",
        "|---|---|---|---|---|",
    ]
    for name in ("bare", "talk, no page cache", "talk", "home, no page cache", "home"):
        series = run.pages.get(name)
        if series:
            cells = [name, f"{series.rate:,.0f}", f"{series.ratio:.2f}", f"{series.p50_ms:.1f} ms"]
            lines.append("| " + " | ".join(cells) + f" | {series.p99_ms:.1f} ms |")
    lines += ["", "## Every round", ""]
    for name, series in run.pages.items():
        lines.append(
            f"- {name}: "
            + ", ".join(
                f"{r.rate:,.0f} req/s ({ratio:.2f} ×)" for r, ratio in zip(series.runs, series.ratios, strict=False)
            )
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
    if run.durations:
        lines += ["", "## How long each part took", ""]
        what = _what_ran(run)
        lines += [
            f"- {name}: {seconds:,.0f} s" + (f" ({what[name]})" if name in what else "")
            for name, seconds in run.durations.items()
        ]
        lines.append(f"- total: {run.elapsed:,.0f} s ({run.elapsed / 60:.1f} minutes; the budget is 10 minutes)")
    lines += ["", "## Machine and versions", ""]
    lines += [f"- {name}: {value}" for name, value in run.facts.items()]
    lines += ["", "## How it runs", "", *HOW, ""]
    if run.problems:
        lines += ["## Wrong counts", "", *(f"- {problem}" for problem in run.problems), ""]
    return "\n".join(lines)


def _what_ran(run) -> dict[str, str]:
    """What each timed part of the run consists of, rounds times seconds, so its figures can be weighed."""
    sizes = run.sizes
    subjects = len(run.pages) - 1 if run.pages else 4
    what = {
        "talk and home pages": f"both servers started; a 1 s warm-up per URL, then {sizes.rounds} rounds × "
        f"({subjects} subjects + the bare view twice) × {sizes.seconds:g} s of wrk",
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
    "- `make bench` (`python -m bench`; `make bench-smoke` for CI sizes) creates a database of its own: SQLite in",
    "  `var/bench/`, or `<name>_bench` on the PostgreSQL server `DATABASE_URL` names. The cache is the one",
    "  `CACHE_URL` names, else the database cache, as in production.",
    "- Two gunicorn processes run with the repository's `gunicorn.conf.py` in production mode (`DEBUG=false`,",
    "  `bench.settings`: the production settings plus two baseline views, `/__bench__/bare/` and",
    "  `/__bench__/insert/`, which exist in that settings module's URLconf only). 2 sync workers each,",
    "  `GUNICORN_MAX_REQUESTS=0` so no worker restarts during a measurement. The second runs with",
    "  `PAGE_CACHE=off`. Requests carry `X-Forwarded-Proto: https`, as from the proxy in front.",
    '- Pages: wrk, 2 threads, 16 connections, each figure a few seconds (rounds × seconds below, under "How long'
    ' each part took"); every round runs the bare view first',
    "  and last and the subjects between, in reversed order every other round; a ratio is a subject's requests/s",
    "  over the bare view's in its own round, and the table gives the median over rounds.",
    "- Burst: each attendee first loads the talk page (its own CSRF cookie and token), then wrk (one thread, 64",
    "  connections, `bench/burst.lua`) posts every attendee's form once; the time runs from the first post to",
    "  the last answer. The baseline takes the same posts (same CSRF checks) and inserts one row each.",
    "- Email: registrations queue the confirmations (with invites); `bench/direct_mail.py` builds and sends the",
    "  first half of the same messages without the queue, then `manage.py db_worker --batch` sends all of them",
    "  to a local SMTP sink (aiosmtpd), then `bench/direct_mail.py` the second half: the baseline on both ends.",
    "  Each is timed from its first message sent to its last; the baseline's rate is over both halves.",
    "- Admin: an organizer logged in over HTTP opens the registrations changelist of one talk and downloads its",
    "  CSV export (the admin action, streamed); memory is the gunicorn workers' peak RSS (VmHWM, reset before",
    "  each export) and how far above the RSS before it the export pushed it. Query counts come from the same",
    "  requests served in the harness process.",
]


def summary(run) -> str:
    return "\n".join(f"{row['scenario'][:60]:<60} {row['ratio']:<32} {row['verdict']}" for row in rows(run))
