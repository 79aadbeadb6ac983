"""GET scenarios: the talk page and the home page against the bare view, over HTTP."""

import statistics
from collections.abc import Callable
from dataclasses import dataclass, field

from django.db import connection
from django.test import Client

from . import load


@dataclass
class Series:
    """One subject's runs, each next to a baseline run of the same round."""

    name: str
    runs: list = field(default_factory=list)
    baselines: list = field(default_factory=list)

    @property
    def ratios(self) -> list[float]:
        return [run.rate / base.rate for run, base in zip(self.runs, self.baselines, strict=True) if base.rate]

    @property
    def ratio(self) -> float:
        return statistics.median(self.ratios)

    @property
    def rate(self) -> float:
        return statistics.median(run.rate for run in self.runs)

    @property
    def p50_ms(self) -> float:
        return statistics.median(run.p50_ms for run in self.runs)

    @property
    def p99_ms(self) -> float:
        return statistics.median(run.p99_ms for run in self.runs)

    @property
    def failures(self) -> int:
        return sum(run.failures for run in self.runs)

    @property
    def cpu_us(self) -> float | None:
        """The server's CPU time per request (median over rounds)."""
        values = [run.cpu_us for run in self.runs if run.cpu_us]
        return statistics.median(values) if values else None

    @property
    def cpu_ratio(self) -> float | None:
        """The baseline's CPU per request over this subject's (median over rounds): the ratio were CPU all that counts.

        Other processes on a busy machine take turns with the server and its
        load generator, which moves requests per second; the CPU time each
        request took moves far less.
        """
        pairs = [(run.cpu_us, base.cpu_us) for run, base in zip(self.runs, self.baselines, strict=True)]
        ratios = [base / run for run, base in pairs if run and base]
        return statistics.median(ratios) if ratios else None


def alternate(
    subjects: dict[str, str], *, baseline: str, rounds: int, seconds: float, cpu: Callable[[str], float] | None = None
) -> dict[str, Series]:
    """Run the baseline URL and each subject URL in turn, `rounds` times, reversing the order every round.

    Every subject's ratio is taken against the baseline of its own round, so
    a machine that is busier in one round than another does not tilt it.
    `cpu(url)`, when given, is the CPU time so far of the server that answers
    `url`: each run then also says how much of it a request took.
    """
    results = {name: Series(name) for name in subjects}
    names = list(subjects)

    def get(url):
        before = cpu(url) if cpu else None
        result = load.get(url, seconds=seconds)
        if cpu and result.requests:
            result.cpu_us = (cpu(url) - before) / result.requests * 1e6
        return result

    # Every worker compiles its templates and opens its connections before anything counts.
    for url in [baseline, *subjects.values()]:
        load.get(url, seconds=1)
    base_runs = []
    for number in range(rounds):
        order = names if number % 2 == 0 else list(reversed(names))
        base_runs.append(get(baseline))
        for name in order:
            results[name].runs.append(get(subjects[name]))
        # The baseline on both ends of the round: its mean is what the subjects ran beside.
        closing = get(baseline)
        base = base_runs[-1]
        base_runs[-1] = load.GetResult(
            requests=base.requests + closing.requests,
            seconds=base.seconds + closing.seconds,
            p50_ms=(base.p50_ms + closing.p50_ms) / 2,
            p99_ms=(base.p99_ms + closing.p99_ms) / 2,
            failures=base.failures + closing.failures,
            cpu_us=(base.cpu_us + closing.cpu_us) / 2 if base.cpu_us and closing.cpu_us else None,
        )
        for name in names:
            results[name].baselines.append(base_runs[-1])
    results["bare"] = Series("bare", runs=base_runs, baselines=base_runs)
    return results


def count_queries(path: str, *, headers=None) -> tuple[int, int]:
    """(status, SQL statements) of one GET of `path`, served in this process by the same settings."""
    statements = []

    def record(execute, sql, params, many, context):
        statements.append(sql)
        return execute(sql, params, many, context)

    client = Client(headers=headers or {}, HTTP_HOST="127.0.0.1", HTTP_X_FORWARDED_PROTO="https")
    with connection.execute_wrapper(record):
        response = client.get(path)
        if getattr(response, "streaming", False):
            b"".join(response.streaming_content)
    return response.status_code, len(statements)
