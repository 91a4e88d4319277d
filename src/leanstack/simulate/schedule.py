"""When scheduled actions fire and deployments run: `at()`, `rate()` and common `cron()` forms."""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Protocol

import numpy as np
import numpy.typing as npt

from leanstack.model.issues import Issue, IssueCode
from leanstack.simulate.policies import Deployment

BoolArray = npt.NDArray[np.bool_]

_MINUTE = timedelta(minutes=1)


class Timed(Protocol):
    """Anything with a one-off time or a schedule expression (ScheduledAction, Deployment)."""

    @property
    def at(self) -> datetime | None: ...

    @property
    def schedule(self) -> str: ...


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


def occurrences(action: Timed, start: datetime, end: datetime) -> list[datetime]:
    """Times in [start, end) at which the action fires, UTC (a one-off time before `end`).

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


def deployment_mask(
    deployments: Sequence[Deployment], start: datetime, minutes: int, issues: list[Issue]
) -> BoolArray:
    """Per minute of a series starting at `start`: True while some deployment is in progress.

    Minute t covers [start + t, start + t + 1 min); it is frozen when any part of it overlaps a
    window [occurrence, occurrence + duration_s), because the policy acts on that minute's
    datapoint while the deployment may still be running. Overlapping windows merge. A window
    that began before `start` still freezes the minutes it reaches. A bad expression or a
    non-positive duration adds an Issue naming the deployment and that deployment is skipped.
    """
    mask = np.zeros(max(minutes, 0), dtype=np.bool_)
    if minutes <= 0:
        return mask
    origin = _utc(start)
    end = origin + timedelta(minutes=minutes)
    for dep in deployments:
        if dep.duration_s <= 0:
            issues.append(
                Issue(
                    code=IssueCode.EVALUATION_ERROR,
                    message=f"deployment duration must be positive, got {dep.duration_s} s",
                    where=dep.name,
                )
            )
            continue
        if dep.at is None and not dep.schedule.strip():
            issues.append(
                Issue(
                    code=IssueCode.EVALUATION_ERROR,
                    message="deployment has neither a time nor a schedule",
                    where=dep.name,
                )
            )
            continue
        # rate() is anchored at the window's start, so only cron() looks back for deployments
        # that began before the series and are still running at its first minute.
        anchored = dep.at is None and dep.schedule.strip().startswith("rate(")
        try:
            length = timedelta(seconds=dep.duration_s)
            times = occurrences(dep, origin if anchored else origin - length, end)
            spans = [(when, when + length) for when in times]
        except (ValueError, OverflowError) as exc:
            issues.append(
                Issue(
                    code=IssueCode.EVALUATION_ERROR,
                    message=f"deployment schedule ignored: {exc}",
                    where=dep.name,
                )
            )
            continue
        for begin, finish in spans:
            # Whole-minute floor and ceiling in exact timedelta arithmetic (no float rounding).
            first = (begin - origin) // _MINUTE
            stop = -((origin - finish) // _MINUTE)
            if stop > 0 and first < minutes:
                mask[max(first, 0) : min(stop, minutes)] = True
    return mask
