"""How big each scenario is: `make bench` (FULL) and `make bench-smoke` (SMOKE)."""

from dataclasses import dataclass


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
    # The opening rush: people load the talk page within `rush_window` seconds, `rush_posters` of them post.
    rush_people: int
    rush_posters: int
    rush_seats: int
    rush_window: float


# Sized for the budget of `make bench` (10 minutes, bench/__main__.py): wrk's
# figures settle within a few seconds at thousands of requests; the median of 3
# rounds carries the noise. The slowest parts are the email worker (1,000
# messages, once, with the baseline before and after it) and the export of
# 100,000 rows (twice: growing and shrinking sizes).
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
    rush_people=2000,
    rush_posters=1000,
    rush_seats=300,
    rush_window=10,
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
    rush_people=100,
    rush_posters=50,
    rush_seats=15,
    rush_window=1,
)
