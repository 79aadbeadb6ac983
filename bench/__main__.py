"""`make bench` (and `make bench-smoke`): the site under load over HTTP, in its production configuration.

    python -m bench                 # full sizes, writes docs/benchmarks.md
    python -m bench --smoke         # tiny sizes, for CI: fails on wrong counts, never on speed

The harness creates a database of its own (bench/stack.py), fills it
(bench/data.py), starts gunicorn with the repository's gunicorn.conf.py in
production mode, and drives it with wrk (bench/load.py) from a separate
process, alternating every subject with its baseline. It exits non-zero
when a count is wrong: seats, sent emails, exported rows, query counts.
"""

import argparse
import os
import signal
import sys
import time
from dataclasses import dataclass

from . import stack


@dataclass(frozen=True)
class Sizes:
    rounds: int
    seconds: float
    upcoming: tuple[int, int]  # home page query count at the first, throughput at the second
    attendees: int
    seats: int
    burst_rounds: int
    mails: int
    mail_rounds: int
    admin: tuple[int, ...]
    admin_repeat: int
    door: int


# `make bench` must finish within 10 minutes on a 2-core machine (the rule).
BUDGET_SECONDS = 600

# Sized for that budget: wrk's figures settle within a few seconds at thousands of
# requests; the median of 3 rounds carries the noise. The slowest parts are the
# email worker (1,000 messages, once, with the baseline before and after it) and
# the export of 100,000 rows (twice: growing and shrinking sizes).
FULL = Sizes(
    rounds=3,
    seconds=4,
    upcoming=(50, 200),
    attendees=1000,
    seats=300,
    burst_rounds=2,
    mails=1000,
    mail_rounds=1,
    admin=(1000, 10_000, 100_000),
    admin_repeat=3,
    door=1000,
)
SMOKE = Sizes(
    rounds=1,
    seconds=2,
    upcoming=(5, 25),
    attendees=100,
    seats=30,
    burst_rounds=1,
    mails=20,
    mail_rounds=1,
    admin=(50, 200, 1000),
    admin_repeat=1,
    door=50,
)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__.split("\n\n")[0])
    parser.add_argument("--smoke", action="store_true", help="tiny sizes: check the counts, not the speed")
    parser.add_argument("--output", help="where to write the report (default: docs/benchmarks.md; smoke: var/bench/)")
    args = parser.parse_args(argv)
    sizes = SMOKE if args.smoke else FULL
    output = args.output or (
        stack.WORK_DIR / "benchmarks-smoke.md" if args.smoke else stack.BASE_DIR / "docs" / "benchmarks.md"
    )

    started = time.monotonic()
    # gunicorn runs in a session of its own: only the harness's cleanup stops
    # it. Ctrl-C reaches that cleanup as KeyboardInterrupt; a terminating
    # signal (CI cancelling a job, `timeout`, a closed terminal) does too.
    for number in (signal.SIGTERM, signal.SIGHUP):
        signal.signal(number, _stop)
    stack.prepare_work_dir()
    database = stack.bench_database(os.environ.get("DATABASE_URL", ""))
    stack.recreate(database)
    env = stack.environment(database)
    # The harness reads and writes the same database with the same settings as the servers.
    os.environ.update(env)
    import django

    django.setup()
    from . import scenarios

    run = scenarios.Run(env=env, sizes=sizes, smoke=args.smoke, database=database)
    try:
        run.prepare()
        run.all()
    finally:
        from django.db import connections

        connections.close_all()
        stack.drop(database)
    run.lap("dropping the database")
    run.elapsed = time.monotonic() - started

    from . import report

    text = report.render(run)
    output = stack.Path(output)
    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_text(text, encoding="utf-8")
    print(report.summary(run))
    print("\nHow long each part took:")
    for name, seconds in run.durations.items():
        print(f"  {name:<28} {seconds:6.0f} s")
    print(f"  {'total':<28} {run.elapsed:6.0f} s (the budget: {BUDGET_SECONDS} s)")
    if not args.smoke and run.elapsed > BUDGET_SECONDS:
        print(f"\nOVER BUDGET: the run took {run.elapsed / 60:.1f} minutes, more than {BUDGET_SECONDS // 60}.")
    print(f"\nWrote {output} in {run.elapsed:.0f} s.")
    if run.problems:
        print("\nFAILED: wrong counts:\n" + "\n".join(f"  - {problem}" for problem in run.problems), file=sys.stderr)
        return 1
    return 0


def _stop(number, frame):
    # Once: a second signal must not cut the cleanup short.
    for other in (signal.SIGTERM, signal.SIGHUP):
        signal.signal(other, signal.SIG_IGN)
    raise SystemExit(128 + number)


if __name__ == "__main__":
    try:
        sys.exit(main())
    except KeyboardInterrupt:
        print("\nInterrupted: the servers it started are stopped, its database dropped.", file=sys.stderr)
        sys.exit(130)
