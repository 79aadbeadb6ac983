"""`make bench` (and `make bench-smoke`): the site under load over HTTP, in its production configuration.

    python -m bench                 # full sizes, writes docs/benchmarks.md
    python -m bench --smoke         # tiny sizes, for CI: fails on wrong counts, never on speed
    python -m bench --stacks sqlite # only some of the stacks (sqlite, postgres, redis)

Each stack (bench/stack.py: SQLite; PostgreSQL with DATABASE_URL; Redis as
the cache with CACHE_URL) runs in a process of its own: it creates a database
of its own, fills it (bench/data.py), starts gunicorn with the repository's
gunicorn.conf.py in production mode, and drives it with wrk (bench/load.py)
from a separate process, alternating every subject with its baseline. The
report puts every stack's rows in one file. The run exits non-zero when a
count is wrong: seats, sent emails, exported rows, query counts.
"""

import argparse
import os
import pickle
import signal
import subprocess
import sys
import time

from . import stack
from .sizes import FULL, SMOKE, Sizes

# `make bench` must finish within 10 minutes on a 2-core machine (the rule).
BUDGET_SECONDS = 600


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__.split("\n\n")[0])
    parser.add_argument("--smoke", action="store_true", help="tiny sizes: check the counts, not the speed")
    parser.add_argument("--output", help="where to write the report (default: docs/benchmarks.md; smoke: var/bench/)")
    parser.add_argument("--stacks", help="comma-separated: sqlite, postgres, redis (default: every one configured)")
    # Internal: one stack, in the process the harness starts for it.
    parser.add_argument("--stack", help=argparse.SUPPRESS)
    parser.add_argument("--result", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    sizes = SMOKE if args.smoke else FULL
    # gunicorn runs in a session of its own: only the harness's cleanup stops
    # it. Ctrl-C reaches that cleanup as KeyboardInterrupt; a terminating
    # signal (CI cancelling a job, `timeout`, a closed terminal) does too.
    for number in (signal.SIGTERM, signal.SIGHUP):
        signal.signal(number, _stop)
    if args.stack:
        return run_stack(args.stack, sizes, smoke=args.smoke, result=args.result)

    started = time.monotonic()
    base_env = dict(os.environ)
    chosen = stack.stacks(base_env)
    if args.stacks:
        wanted = {name.strip() for name in args.stacks.split(",")}
        unknown = wanted - {each.name for each in chosen}
        if unknown:
            parser.error(f"not configured here: {', '.join(sorted(unknown))} (see bench/stack.py)")
        chosen = [each for each in chosen if each.name in wanted]
    output = args.output or (
        stack.WORK_DIR / "benchmarks-smoke.md" if args.smoke else stack.BASE_DIR / "docs" / "benchmarks.md"
    )
    stack.prepare_work_dir()
    runs = []
    for each in chosen:
        print(f"\n##### {each.label}", flush=True)
        result = stack.WORK_DIR / f"result-{each.name}.pickle"
        result.unlink(missing_ok=True)
        command = [sys.executable, "-m", "bench", "--stack", each.name, "--result", str(result)]
        process = subprocess.Popen(
            command + (["--smoke"] if args.smoke else []), cwd=stack.BASE_DIR, env=each.environ(base_env)
        )
        try:
            process.wait()
        finally:
            if process.poll() is None:
                process.terminate()
                process.wait()
        if not result.exists():
            print(f"\nFAILED: the {each.label} run ended without a result (exit status {process.returncode}).")
            return 1
        runs.append(_load(result))
    elapsed = time.monotonic() - started

    _setup_django_for_the_report()
    from . import report

    text = report.render(runs, elapsed=elapsed, smoke=args.smoke)
    output = stack.Path(output)
    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_text(text, encoding="utf-8")
    print()
    print(report.summary(runs))
    print("\nHow long each part took:")
    for run in runs:
        for name, seconds in run.durations.items():
            print(f"  {run.stack.name + ': ' + name:<36} {seconds:6.0f} s")
    print(f"  {'total':<36} {elapsed:6.0f} s (the budget: {BUDGET_SECONDS} s)")
    if not args.smoke and elapsed > BUDGET_SECONDS:
        print(f"\nOVER BUDGET: the run took {elapsed / 60:.1f} minutes, more than {BUDGET_SECONDS // 60}.")
    print(f"\nWrote {output} in {elapsed:.0f} s.")
    problems = [f"{run.stack.label}: {problem}" for run in runs for problem in run.problems]
    if problems:
        print("\nFAILED: wrong counts:\n" + "\n".join(f"  - {problem}" for problem in problems), file=sys.stderr)
        return 1
    return 0


def run_stack(name: str, sizes: Sizes, *, smoke: bool, result: str) -> int:
    """Everything on one stack, in this process: its database, its servers, its scenarios; the run pickled."""
    started = time.monotonic()
    chosen = next(each for each in stack.stacks(dict(os.environ)) if each.name == name)
    database = stack.bench_database(os.environ.get("DATABASE_URL", ""))
    stack.recreate(database)
    env = stack.environment(database)
    # The harness reads and writes the same database with the same settings as the servers.
    os.environ.update(env)
    import django

    django.setup()
    from . import scenarios

    run = scenarios.Run(env=env, sizes=sizes, smoke=smoke, database=database, stack=chosen)
    try:
        run.prepare()
        run.all()
    finally:
        from django.db import connections

        from seminar_site import pagecache

        # This process listened to the page cache's channel too (its own hits are measured): stop before the drop.
        pagecache.reset()
        connections.close_all()
        stack.drop(database)
    run.lap("dropping the database")
    run.elapsed = time.monotonic() - started
    with open(result, "wb") as file:
        pickle.dump(run, file)
    return 0


def _load(path):
    _setup_django_for_the_report()
    with open(path, "rb") as file:
        return pickle.load(file)  # noqa: S301 - written by this harness a moment ago


def _setup_django_for_the_report() -> None:
    # The results are the harness's own classes, which import the site's models: no database is opened.
    import django
    from django.conf import settings

    if not settings.configured:
        os.environ.update(stack.environment(stack.bench_database("")))
        django.setup()


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
