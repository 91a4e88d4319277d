"""When scheduled actions fire: `at()`, `rate()` and the common forms of `cron()`."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

from leanstack.simulate.policies import ScheduledAction

_DOW = {"SUN": 0, "MON": 1, "TUE": 2, "WED": 3, "THU": 4, "FRI": 5, "SAT": 6}
_MONTHS = {
    m: i + 1
    for i, m in enumerate(
        ["JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"]
    )
}


def _utc(value: datetime) -> datetime:
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def _field(text: str, names: dict[str, int], low: int, high: int) -> set[int] | None:
    """A cron day/month field as a set of values; None for `*`/`?` (any)."""
    if text in ("*", "?"):
        return None
    out: set[int] = set()
    for part in text.split(","):
        step = 1
        if "/" in part:
            part, step_text = part.split("/", 1)
            step = int(step_text)
        if part in ("*", "?"):
            start, stop = low, high
        elif "-" in part:
            a, b = part.split("-", 1)
            start, stop = names.get(a.upper()) or int(a), names.get(b.upper()) or int(b)
        else:
            start = stop = names[part.upper()] if part.upper() in names else int(part)
        out.update(range(start, stop + 1, step))
    return out


def occurrences(action: ScheduledAction, start: datetime, end: datetime) -> list[datetime]:
    """Times in [start, end) at which the action fires, UTC.

    Raises ValueError on an expression this model does not understand; callers turn it into
    an Issue naming the action.
    """
    start, end = _utc(start), _utc(end)
    if action.at is not None:
        at = _utc(action.at)
        return [at] if at < end else []
    expr = action.schedule.strip()
    if match := re.fullmatch(r"at\((.+)\)", expr):
        at = _utc(datetime.fromisoformat(match.group(1)))
        return [at] if at < end else []
    if match := re.fullmatch(r"rate\((\d+)\s+(minute|minutes|hour|hours|day|days)\)", expr):
        amount = int(match.group(1))
        unit = match.group(2).rstrip("s")
        step = timedelta(minutes=amount * {"minute": 1, "hour": 60, "day": 1440}[unit])
        if step <= timedelta(0):
            raise ValueError(f"rate must be positive: {expr}")
        out: list[datetime] = []
        when = start
        while when < end:
            out.append(when)
            when += step
        return out
    if match := re.fullmatch(r"cron\((.+)\)", expr):
        fields = match.group(1).split()
        if len(fields) != 6 or not fields[0].isdigit() or not fields[1].isdigit():
            raise ValueError(f"unsupported cron expression (fixed minute and hour needed): {expr}")
        minute, hour = int(fields[0]), int(fields[1])
        dom = _field(fields[2], {}, 1, 31)
        month = _field(fields[3], _MONTHS, 1, 12)
        # AWS cron numbers days of week 1-7 from Sunday; names map to 0-6 from Sunday.
        dow_names = {k: v + 1 for k, v in _DOW.items()}
        dow = _field(fields[4], dow_names, 1, 7)
        out = []
        day = datetime(start.year, start.month, start.day, tzinfo=UTC)
        while day < end:
            when = day.replace(hour=hour, minute=minute)
            aws_dow = (day.isoweekday() % 7) + 1
            if (
                start <= when < end
                and (dom is None or day.day in dom)
                and (month is None or day.month in month)
                and (dow is None or aws_dow in dow)
            ):
                out.append(when)
            day += timedelta(days=1)
        return out
    raise ValueError(f"unsupported schedule expression: {expr!r}")
