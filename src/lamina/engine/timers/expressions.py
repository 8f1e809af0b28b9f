"""Schedule expressions as AWS writes them — rate(), cron() and at() — and their occurrences.

Pure: no I/O, no clock. `parse(expression, timezone)` checks an expression and returns a
`Schedule`; `Schedule.next_after(moment)` is the first occurrence strictly after an aware
datetime (returned in UTC), or None when there is none left.

    rate(5 minutes)             every period from an anchor: anchor + k * period. The anchor
                                is the rule's / schedule's creation time or StartDate, given
                                with `with_anchor`; without one, the Unix epoch (so rate(5
                                minutes) falls on :00, :05, ...). A day is 24 hours, DST or not.
    cron(0 12 ? * MON-FRI *)    AWS's six fields: minutes hours day-of-month month day-of-week
                                year. One of day-of-month / day-of-week must be `?`. Day of week
                                counts 1=SUN..7=SAT (croniter's 0=SUN..6=SAT underneath). L, W,
                                LW, #, ranges, lists, steps, month and day names.
    at(2030-01-01T09:00:00)     once, at that wall-clock time.

cron() and at() read wall-clock time in `timezone` (an IANA name). Daylight saving time is
handled as EventBridge Scheduler documents: an occurrence in the hour skipped in spring is
skipped; one in the hour repeated in autumn runs once (the first time).

The five standard cron fields are evaluated by croniter on naive wall-clock times; this
module translates AWS's syntax to croniter's, and handles the year field, LW and the time
zone itself.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from datetime import timezone as dt_timezone
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from croniter import croniter
from croniter.croniter import CroniterBadDateError, CroniterError

UTC = dt_timezone.utc
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
YEAR_RANGE = (1970, 2199)

_RATE = re.compile(r"^rate\((\d+)\s+([a-z]+)\)$")
_CRON = re.compile(r"^cron\((.*)\)$")
_AT = re.compile(r"^at\((\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})\)$")
_UNITS = {"minute": 60, "hour": 3600, "day": 86400}

_MONTHS = ("JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC")
_DAYS = ("SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT")  # AWS numbers them 1..7
# One list element of a plain field: *, n, a-b, each optionally /step (names allowed where given).
_ELEMENT = re.compile(r"^(\*|[0-9A-Z]+(?:-[0-9A-Z]+)?)(?:/(\d+))?$")
# Give up on a cron search that finds nothing this far ahead (e.g. cron(0 0 30 2 ? *)).
_SEARCH_YEARS = 400


class InvalidSchedule(ValueError):
    """An expression AWS would refuse; `reason` says why."""

    def __init__(self, expression: str, reason: str) -> None:
        super().__init__(f"invalid schedule expression {expression!r}: {reason}")
        self.expression = expression
        self.reason = reason


@dataclass(frozen=True)
class _Cron:
    standard: str  # croniter's five fields, day of week renumbered
    years: frozenset[int] | None  # None: every year
    last_weekday: bool  # LW: the last weekday (Mon-Fri) of the month


@dataclass(frozen=True)
class Schedule:
    expression: str
    kind: str  # "rate" | "cron" | "at"
    timezone: str = "UTC"
    period: timedelta | None = None  # rate
    anchor: datetime | None = None  # rate: occurrences are anchor + k * period
    at: datetime | None = None  # at: the one occurrence, UTC
    _cron: _Cron | None = field(default=None, repr=False, compare=False)

    @property
    def one_time(self) -> bool:
        return self.kind == "at"

    def with_anchor(self, anchor: datetime) -> Schedule:
        """The same schedule with rate occurrences counted from `anchor` (others ignore it)."""
        return replace(self, anchor=_aware(anchor))

    def next_after(self, moment: datetime) -> datetime | None:
        """The first occurrence strictly after `moment` (aware), in UTC; None if there is none."""
        moment = _aware(moment)
        if self.kind == "at":
            assert self.at is not None
            return self.at if self.at > moment else None
        if self.kind == "rate":
            assert self.period is not None
            return _next_rate(self.anchor or EPOCH, self.period, moment)
        assert self._cron is not None
        return _next_cron(self._cron, ZoneInfo(self.timezone), moment)


def parse(expression: str, timezone: str = "UTC") -> Schedule:
    """A Schedule from an AWS schedule expression; InvalidSchedule if AWS would refuse it."""
    text = (expression or "").strip()
    zone = _zone(text, timezone or "UTC")
    if text.startswith("rate("):
        return _parse_rate(text, timezone or "UTC")
    if text.startswith("cron("):
        return Schedule(text, "cron", timezone or "UTC", _cron=_parse_cron(text))
    if text.startswith("at("):
        return Schedule(text, "at", timezone or "UTC", at=_parse_at(text, zone))
    raise InvalidSchedule(text, "expected rate(...), cron(...) or at(...)")


# --- parsing ------------------------------------------------------------------------------------


def _zone(expression: str, name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise InvalidSchedule(expression, f"unknown time zone {name!r}") from None


def _parse_rate(text: str, timezone: str) -> Schedule:
    match = _RATE.match(text)
    if match is None:
        raise InvalidSchedule(text, "expected rate(value unit)")
    value, unit = int(match.group(1)), match.group(2)
    base = unit[:-1] if unit.endswith("s") else unit
    if base not in _UNITS:
        raise InvalidSchedule(text, "the unit must be minute(s), hour(s) or day(s)")
    if value < 1:
        raise InvalidSchedule(text, "the value must be a positive number")
    # AWS: rate(1 minute) and rate(5 minutes); rate(1 minutes) and rate(5 minute) are refused.
    if (value == 1) != (unit == base):
        raise InvalidSchedule(text, "the unit must be singular for 1 and plural otherwise")
    return Schedule(text, "rate", timezone, period=timedelta(seconds=value * _UNITS[base]))


def _parse_at(text: str, zone: ZoneInfo) -> datetime:
    match = _AT.match(text)
    if match is None:
        raise InvalidSchedule(text, "expected at(yyyy-mm-ddThh:mm:ss)")
    try:
        year, month, day, hour, minute, second = (int(part) for part in match.groups())
        local = datetime(year, month, day, hour, minute, second)
    except ValueError as error:
        raise InvalidSchedule(text, str(error)) from None
    return local.replace(tzinfo=zone).astimezone(UTC)


def _parse_cron(text: str) -> _Cron:
    body = _CRON.match(text)
    fields = body.group(1).split() if body else []
    if len(fields) != 6:
        raise InvalidSchedule(text, "cron() takes six fields: minutes hours day-of-month month day-of-week year")
    minutes, hours, dom, month, dow, year = (f.upper() for f in fields)
    if (dom == "?") == (dow == "?"):
        raise InvalidSchedule(text, "exactly one of day-of-month and day-of-week must be ?")
    _plain(text, minutes, 0, 59, "minutes")
    _plain(text, hours, 0, 23, "hours")
    _plain(text, month, 1, 12, "month", _MONTHS)
    last_weekday = dom == "LW"
    if dom == "?":
        dom = "*"
    elif last_weekday:
        dom = "26-31"  # the last weekday of a month is never before the 26th; filtered below
    else:
        _day_of_month(text, dom)
    dow = "*" if dow == "?" else _day_of_week(text, dow)
    years = _years(text, year)
    standard = " ".join((minutes, hours, dom, month, dow))
    try:
        croniter(standard)
    except (CroniterError, ValueError, KeyError) as error:
        raise InvalidSchedule(text, str(error)) from None
    return _Cron(standard, years, last_weekday)


def _value(text: str, token: str, low: int, high: int, what: str, names: tuple[str, ...] = ()) -> int:
    if token in names:
        return names.index(token) + low
    if not token.isdigit() or not low <= int(token) <= high:
        raise InvalidSchedule(text, f"{what}: {token!r} is not between {low} and {high}")
    return int(token)


def _plain(text: str, value: str, low: int, high: int, what: str, names: tuple[str, ...] = ()) -> set[int]:
    """Check a field of *, n, a-b, lists and steps; return the values it allows."""
    allowed: set[int] = set()
    for element in value.split(","):
        match = _ELEMENT.match(element)
        if match is None:
            raise InvalidSchedule(text, f"{what}: {element!r} is not valid")
        span, step = match.group(1), int(match.group(2) or 1)
        if step < 1:
            raise InvalidSchedule(text, f"{what}: the step must be positive")
        if span == "*":
            start, end = low, high
        elif "-" in span:
            first, last = span.split("-")
            start, end = _value(text, first, low, high, what, names), _value(text, last, low, high, what, names)
            if start > end:
                raise InvalidSchedule(text, f"{what}: the range {span} runs backwards")
        else:
            start = _value(text, span, low, high, what, names)
            end = high if match.group(2) else start
        allowed.update(range(start, end + 1, step))
    return allowed


def _day_of_month(text: str, dom: str) -> None:
    if dom == "L" or re.fullmatch(r"\d{1,2}W", dom):
        if dom != "L":
            _value(text, dom[:-1], 1, 31, "day-of-month")
        return
    _plain(text, dom, 1, 31, "day-of-month")


def _day_of_week(text: str, dow: str) -> str:
    """AWS's day of week (1=SUN..7=SAT, L, nL, n#k) in croniter's terms (0=SUN..6=SAT, Ln, n#k)."""

    def number(token: str) -> int:  # AWS's 1..7 -> croniter's 0..6
        return _value(text, token, 1, 7, "day-of-week", _DAYS) - 1

    if dow == "L":
        return "6"  # alone, L is the last day of the week: Saturday
    if (match := re.fullmatch(r"([0-9A-Z]+)L", dow)) is not None:
        return f"L{number(match.group(1))}"
    if (match := re.fullmatch(r"([0-9A-Z]+)#(\d)", dow)) is not None:
        nth = int(match.group(2))
        if not 1 <= nth <= 5:
            raise InvalidSchedule(text, "day-of-week: # takes 1 to 5")
        return f"{number(match.group(1))}#{nth}"
    _plain(text, dow, 1, 7, "day-of-week", _DAYS)  # checks the syntax and the range
    out = []
    for element in dow.split(","):
        span, _, step = element.partition("/")
        if span != "*":
            span = "-".join(str(number(part)) for part in span.split("-"))
        out.append(span + (f"/{step}" if step else ""))
    return ",".join(out)


def _years(text: str, year: str) -> frozenset[int] | None:
    if year == "*":
        return None
    return frozenset(_plain(text, year, *YEAR_RANGE, "year"))


# --- occurrences --------------------------------------------------------------------------------


def _aware(moment: datetime) -> datetime:
    if moment.tzinfo is None:
        raise ValueError("schedules work on aware datetimes")
    return moment.astimezone(UTC)


def _next_rate(anchor: datetime, period: timedelta, moment: datetime) -> datetime:
    if moment < anchor:
        return anchor
    steps = (moment - anchor) // period + 1
    return anchor + steps * period


def _next_cron(cron: _Cron, zone: ZoneInfo, moment: datetime) -> datetime | None:
    local = moment.astimezone(zone).replace(tzinfo=None)
    years = cron.years
    limit = local.year + _SEARCH_YEARS
    if years is not None:
        later = [year for year in years if year >= local.year]
        if not later:
            return None
        limit = min(limit, max(later) + 1)
    iterator = croniter(cron.standard, local)
    while True:
        try:
            candidate = iterator.get_next(datetime)
        except CroniterBadDateError:
            return None
        if candidate.year >= limit:
            return None
        if years is not None and candidate.year not in years:
            following = [year for year in years if year > candidate.year]
            if not following:
                return None
            # Jump to just before the next allowed year rather than walking through this one.
            iterator = croniter(cron.standard, datetime(min(following), 1, 1) - timedelta(seconds=1))
            continue
        if cron.last_weekday and not _is_last_weekday(candidate):
            continue
        resolved = _resolve(candidate, zone)
        if resolved is not None and resolved > moment:
            return resolved
        # In the spring gap (skipped), or the repeat of an autumn hour already passed (runs once).


def _resolve(wall: datetime, zone: ZoneInfo) -> datetime | None:
    """A wall-clock time in `zone` as UTC: None when DST skips it, the first when it repeats."""
    instant = wall.replace(tzinfo=zone, fold=0).astimezone(UTC)
    if instant.astimezone(zone).replace(tzinfo=None) != wall:
        return None
    return instant


def _is_last_weekday(day: datetime) -> bool:
    following = day + timedelta(days=1)
    while following.weekday() >= 5:  # skip Saturday and Sunday
        following += timedelta(days=1)
    return day.weekday() < 5 and following.month != day.month
