"""Sandbox clock: real time shifted by an offset, so tests can jump forward (consent lapse, delayed syncs).

Powens writes naive datetimes in Europe/Paris local time, so `now()` returns a naive Paris datetime.
"""
import datetime as dt
from zoneinfo import ZoneInfo

PARIS = ZoneInfo("Europe/Paris")
DATETIME_FORMAT = "%Y-%m-%d %H:%M:%S"
DATE_FORMAT = "%Y-%m-%d"


def format_datetime(value: dt.datetime) -> str:
    return value.strftime(DATETIME_FORMAT)


def parse_datetime(text: str) -> dt.datetime:
    return dt.datetime.strptime(text, DATETIME_FORMAT)


class SandboxClock:
    def __init__(self, offset_seconds: float = 0.0):
        self.offset_seconds = offset_seconds

    def now_utc(self) -> dt.datetime:
        return dt.datetime.now(dt.timezone.utc) + dt.timedelta(seconds=self.offset_seconds)

    def now(self) -> dt.datetime:
        return self.now_utc().astimezone(PARIS).replace(tzinfo=None, microsecond=0)

    def now_text(self) -> str:
        return format_datetime(self.now())

    def today(self) -> dt.date:
        return self.now().date()

    def advance(self, seconds: float) -> None:
        self.offset_seconds += seconds

    def set_now(self, paris_local: dt.datetime) -> None:
        target = paris_local.replace(tzinfo=PARIS)
        self.offset_seconds = (target - dt.datetime.now(dt.timezone.utc)).total_seconds()

    def reset(self) -> None:
        self.offset_seconds = 0.0
