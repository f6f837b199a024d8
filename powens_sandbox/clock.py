"""Sandbox clock: real time shifted by an offset, so tests can jump forward (consent lapse, delayed syncs).

Powens writes naive datetimes with no offset; production clients read them as Europe/Paris local time, which
the documentation does not say. `now()` returns a naive datetime of the clock's zone: Paris by default, UTC
when the switch `naive_timezone` says so, and every stamp and `last_update` filter follows it.
"""

import datetime as dt
from zoneinfo import ZoneInfo

DATETIME_FORMAT = "%Y-%m-%d %H:%M:%S"
DATE_FORMAT = "%Y-%m-%d"


def format_datetime(value: dt.datetime) -> str:
    return value.strftime(DATETIME_FORMAT)


def parse_datetime(text: str) -> dt.datetime:
    return dt.datetime.strptime(text, DATETIME_FORMAT)


class SandboxClock:
    def __init__(self, offset_seconds: float = 0.0, zone: str = "Europe/Paris"):
        self.offset_seconds = offset_seconds
        self.zone = ZoneInfo(zone)

    def now_utc(self) -> dt.datetime:
        return dt.datetime.now(dt.UTC) + dt.timedelta(seconds=self.offset_seconds)

    def now(self) -> dt.datetime:
        return self.now_utc().astimezone(self.zone).replace(tzinfo=None, microsecond=0)

    def now_text(self) -> str:
        return format_datetime(self.now())

    def today(self) -> dt.date:
        return self.now().date()

    def advance(self, seconds: float) -> None:
        self.offset_seconds += seconds

    def set_now(self, local: dt.datetime) -> None:
        target = local.replace(tzinfo=self.zone)
        self.offset_seconds = (target - dt.datetime.now(dt.UTC)).total_seconds()

    def reset(self) -> None:
        self.offset_seconds = 0.0
