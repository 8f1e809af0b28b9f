"""Schedule expressions (lamina.engine.timers.expressions): AWS's rate(), cron() and at(), their
occurrences, time zones and daylight saving time, and the expressions AWS refuses."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from lamina.engine.timers.expressions import InvalidSchedule, parse

UTC = timezone.utc
T0 = datetime(2024, 1, 1, tzinfo=UTC)  # a Monday


def utc(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=UTC)


def occurrences(expression: str, start: datetime = T0, count: int = 4, tz: str = "UTC") -> list[datetime]:
    schedule, found, moment = parse(expression, tz), [], start
    for _ in range(count):
        moment = schedule.next_after(moment)
        if moment is None:
            break
        found.append(moment)
    return found


def days(expression: str, start: datetime = T0, count: int = 4) -> list[str]:
    return [moment.strftime("%Y-%m-%d %a") for moment in occurrences(expression, start, count)]


# --- rate ------------------------------------------------------------------------------------------


def test_rate_counts_from_its_anchor():
    anchor = utc(2024, 1, 1, 10, 3, 17)
    schedule = parse("rate(5 minutes)").with_anchor(anchor)
    assert schedule.next_after(anchor - timedelta(hours=1)) == anchor
    assert schedule.next_after(anchor) == anchor + timedelta(minutes=5)
    assert schedule.next_after(anchor + timedelta(minutes=7)) == anchor + timedelta(minutes=10)
    assert schedule.next_after(anchor + timedelta(minutes=10)) == anchor + timedelta(minutes=15)


def test_rate_without_an_anchor_counts_from_the_epoch():
    assert occurrences("rate(15 minutes)", utc(2024, 1, 1, 0, 7), 2) == [utc(2024, 1, 1, 0, 15), utc(2024, 1, 1, 0, 30)]


def test_rate_units_and_a_day_is_24_hours_even_across_dst():
    assert parse("rate(1 minute)").period == timedelta(minutes=1)
    assert parse("rate(2 hours)").period == timedelta(hours=2)
    anchor = utc(2024, 3, 9, 12)  # New York springs forward on March 10th
    schedule = parse("rate(1 day)", "America/New_York").with_anchor(anchor)
    assert schedule.next_after(anchor) == utc(2024, 3, 10, 12)
    assert schedule.next_after(utc(2024, 3, 10, 12)) == utc(2024, 3, 11, 12)


def test_rate_anchor_must_be_aware():
    with pytest.raises(ValueError):
        parse("rate(1 hour)").with_anchor(datetime(2024, 1, 1))


@pytest.mark.parametrize(
    "expression",
    [
        "rate(1 minutes)",
        "rate(5 minute)",
        "rate(0 minutes)",
        "rate(5 weeks)",
        "rate(-1 minutes)",
        "rate(1.5 hours)",
        "rate(minutes)",
        "rate(5)",
    ],
)
def test_rate_expressions_aws_refuses(expression):
    with pytest.raises(InvalidSchedule):
        parse(expression)


# --- cron: the fields ------------------------------------------------------------------------------


def test_cron_minutes_hours_steps_and_ranges():
    assert occurrences("cron(0/20 9-10 * * ? *)", count=7) == [
        utc(2024, 1, 1, 9, 0),
        utc(2024, 1, 1, 9, 20),
        utc(2024, 1, 1, 9, 40),
        utc(2024, 1, 1, 10, 0),
        utc(2024, 1, 1, 10, 20),
        utc(2024, 1, 1, 10, 40),
        utc(2024, 1, 2, 9, 0),
    ]
    assert occurrences("cron(5,35 */12 * * ? *)", count=4) == [
        utc(2024, 1, 1, 0, 5),
        utc(2024, 1, 1, 0, 35),
        utc(2024, 1, 1, 12, 5),
        utc(2024, 1, 1, 12, 35),
    ]


def test_cron_next_after_is_strict():
    schedule = parse("cron(0 12 * * ? *)")
    assert schedule.next_after(utc(2024, 1, 1, 12)) == utc(2024, 1, 2, 12)
    assert schedule.next_after(utc(2024, 1, 1, 11, 59, 59)) == utc(2024, 1, 1, 12)


def test_cron_day_of_week_counts_sunday_as_1():
    assert days("cron(0 12 ? * 1 *)", count=1) == ["2024-01-07 Sun"]
    assert days("cron(0 12 ? * 2 *)", count=1) == ["2024-01-01 Mon"]
    assert days("cron(0 12 ? * 7 *)", count=1) == ["2024-01-06 Sat"]
    assert days("cron(0 12 ? * 2-6 *)", count=6) == [
        "2024-01-01 Mon",
        "2024-01-02 Tue",
        "2024-01-03 Wed",
        "2024-01-04 Thu",
        "2024-01-05 Fri",
        "2024-01-08 Mon",
    ]
    assert days("cron(0 12 ? * 1,7 *)", count=3) == ["2024-01-06 Sat", "2024-01-07 Sun", "2024-01-13 Sat"]
    assert days("cron(0 12 ? * 2/3 *)", count=3) == ["2024-01-01 Mon", "2024-01-04 Thu", "2024-01-08 Mon"]


def test_cron_day_and_month_names():
    assert days("cron(0 12 ? * MON-FRI *)", utc(2024, 1, 5), count=2) == ["2024-01-05 Fri", "2024-01-08 Mon"]
    assert days("cron(0 12 ? * sun,SAT *)", count=2) == ["2024-01-06 Sat", "2024-01-07 Sun"]
    assert days("cron(0 12 1 MAR-APR,DEC ? *)", count=4) == [
        "2024-03-01 Fri",
        "2024-04-01 Mon",
        "2024-12-01 Sun",
        "2025-03-01 Sat",
    ]
    assert days("cron(0 12 1 JAN/4 ? *)", count=3) == ["2024-01-01 Mon", "2024-05-01 Wed", "2024-09-01 Sun"]
    assert days("cron(0 12 ? * MON,4-5 *)", count=4) == [
        "2024-01-01 Mon",
        "2024-01-03 Wed",
        "2024-01-04 Thu",
        "2024-01-08 Mon",
    ]


def test_cron_last_day_of_month_and_leap_years():
    assert days("cron(0 12 L * ? *)", count=3) == ["2024-01-31 Wed", "2024-02-29 Thu", "2024-03-31 Sun"]
    assert days("cron(0 12 L 2 ? *)", count=2) == ["2024-02-29 Thu", "2025-02-28 Fri"]


def test_cron_nearest_weekday():
    # June 1st 2024 is a Saturday: the nearest weekday in the month is Monday the 3rd.
    assert days("cron(0 12 1W * ? *)", utc(2024, 5, 15), count=2) == ["2024-06-03 Mon", "2024-07-01 Mon"]
    # September 15th 2024 is a Sunday -> Monday 16th; June 15th 2024 a Saturday -> Friday 14th.
    assert days("cron(0 12 15W 9 ? *)", count=1) == ["2024-09-16 Mon"]
    assert days("cron(0 12 15W 6 ? *)", count=1) == ["2024-06-14 Fri"]


def test_cron_last_weekday_of_month():
    assert days("cron(0 12 LW * ? *)", count=4) == [
        "2024-01-31 Wed",
        "2024-02-29 Thu",
        "2024-03-29 Fri",
        "2024-04-30 Tue",
    ]


def test_cron_last_given_weekday_of_month():
    assert days("cron(0 12 ? * 6L *)", count=2) == ["2024-01-26 Fri", "2024-02-23 Fri"]  # 6 = Friday
    assert days("cron(0 12 ? * L *)", count=2) == ["2024-01-06 Sat", "2024-01-13 Sat"]  # alone, L = Saturday


def test_cron_nth_weekday_of_month():
    assert days("cron(0 12 ? * 3#2 *)", count=2) == ["2024-01-09 Tue", "2024-02-13 Tue"]  # second Tuesday
    assert days("cron(0 12 ? * FRI#5 *)", count=2) == ["2024-03-29 Fri", "2024-05-31 Fri"]  # months with five


def test_cron_question_mark_in_either_day_field():
    assert days("cron(0 12 15 * ? *)", count=2) == ["2024-01-15 Mon", "2024-02-15 Thu"]
    assert days("cron(0 12 ? * * *)", count=2) == ["2024-01-01 Mon", "2024-01-02 Tue"]


def test_cron_year_field():
    assert days("cron(0 12 1 1 ? 2026-2027)", count=3) == ["2026-01-01 Thu", "2027-01-01 Fri"]
    assert days("cron(0 12 1 1 ? 2024/3)", count=3) == ["2024-01-01 Mon", "2027-01-01 Fri", "2030-01-01 Tue"]
    assert days("cron(0 12 L 2 ? 2025,2028)", count=3) == ["2025-02-28 Fri", "2028-02-29 Tue"]
    assert occurrences("cron(0 12 * * ? 2023)") == []  # only years already gone


def test_cron_that_never_matches_ends():
    assert occurrences("cron(0 0 30 2 ? *)") == []


# --- cron: time zones and daylight saving time -----------------------------------------------------


def test_cron_in_a_time_zone():
    # 09:00 in Tokyo (UTC+9, no DST) is midnight UTC.
    assert occurrences("cron(0 9 * * ? *)", count=2, tz="Asia/Tokyo") == [utc(2024, 1, 2), utc(2024, 1, 3)]


def test_cron_in_the_spring_gap_is_skipped():
    # New York: 2024-03-10 02:00 EST -> 03:00 EDT; 02:30 does not exist that day.
    assert occurrences("cron(30 2 * * ? *)", utc(2024, 3, 8), 3, "America/New_York") == [
        utc(2024, 3, 8, 7, 30),
        utc(2024, 3, 9, 7, 30),
        utc(2024, 3, 11, 6, 30),
    ]
    # Times after the gap keep their wall-clock hour: 09:00 is 14:00 UTC, then 13:00 UTC.
    assert occurrences("cron(0 9 * * ? *)", utc(2024, 3, 9), 2, "America/New_York") == [
        utc(2024, 3, 9, 14),
        utc(2024, 3, 10, 13),
    ]


def test_cron_in_the_repeated_autumn_hour_runs_once():
    # New York: 2024-11-03 02:00 EDT -> 01:00 EST; 01:30 happens twice, the schedule fires once.
    assert occurrences("cron(30 1 * * ? *)", utc(2024, 11, 2), 3, "America/New_York") == [
        utc(2024, 11, 2, 5, 30),
        utc(2024, 11, 3, 5, 30),
        utc(2024, 11, 4, 6, 30),
    ]
    # An every-15-minutes schedule does not repeat the hour either: 01:45 EDT is followed by 02:00 EST.
    found = occurrences("cron(0/15 * * * ? *)", utc(2024, 11, 3, 5, 40), 2, "America/New_York")
    assert found == [utc(2024, 11, 3, 5, 45), utc(2024, 11, 3, 7, 0)]
    # Asked from inside the repeated hour, the next is after it, never back in the first pass.
    assert parse("cron(45 1 * * ? *)", "America/New_York").next_after(utc(2024, 11, 3, 6, 10)) == utc(
        2024, 11, 4, 6, 45
    )


# --- cron: refused ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "expression",
    [
        "cron(0 12 * * *)",  # five fields
        "cron(0 12 * * ? * *)",  # seven
        "cron(0 12 * * * *)",  # neither day field is ?
        "cron(0 12 ? * ? *)",  # both are
        "cron(60 12 * * ? *)",
        "cron(0 24 * * ? *)",
        "cron(0 12 32 * ? *)",
        "cron(0 12 0 * ? *)",
        "cron(0 12 * 13 ? *)",
        "cron(0 12 ? * 0 *)",  # day of week is 1-7
        "cron(0 12 ? * 8 *)",
        "cron(0 12 ? * 2#6 *)",
        "cron(0 12 * * ? 1969)",
        "cron(0 12 * * ? 2200)",
        "cron(0 12 5-1 * ? *)",
        "cron(0 12 * FOO ? *)",
        "cron(a 12 * * ? *)",
        "cron(0 12 15W,L * ? *)",
        "cron()",
    ],
)
def test_cron_expressions_aws_refuses(expression):
    with pytest.raises(InvalidSchedule) as caught:
        parse(expression)
    assert caught.value.reason


# --- at --------------------------------------------------------------------------------------------


def test_at_fires_once():
    schedule = parse("at(2024-01-02T03:04:05)")
    assert schedule.one_time
    assert schedule.next_after(T0) == utc(2024, 1, 2, 3, 4, 5)
    assert schedule.next_after(utc(2024, 1, 2, 3, 4, 5)) is None


def test_at_in_a_time_zone():
    assert parse("at(2024-07-01T12:00:00)", "Europe/Paris").at == utc(2024, 7, 1, 10)  # CEST, UTC+2
    assert parse("at(2024-01-01T12:00:00)", "Europe/Paris").at == utc(2024, 1, 1, 11)  # CET, UTC+1


@pytest.mark.parametrize(
    "expression",
    ["at(2024-02-30T00:00:00)", "at(2024-01-01 00:00:00)", "at(2024-01-01T00:00)", "at(2024-01-01T25:00:00)", "at()"],
)
def test_at_expressions_aws_refuses(expression):
    with pytest.raises(InvalidSchedule):
        parse(expression)


def test_unknown_expressions_and_time_zones():
    for expression in ["", "every 5 minutes", "rate 5 minutes"]:
        with pytest.raises(InvalidSchedule):
            parse(expression)
    with pytest.raises(InvalidSchedule) as caught:
        parse("rate(5 minutes)", "Mars/Olympus_Mons")
    assert "time zone" in caught.value.reason
    assert isinstance(caught.value, ValueError)
