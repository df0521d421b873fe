"""Strict readers of environment variables.

Every setting of RareDerm comes from the environment through these helpers.
They refuse what they do not understand instead of guessing: the string
"False" must never turn on a feature, and a typo in a number must not start a
server with a surprise default. An empty variable means its default, as an
unset one does (docker compose passes `${NAME:-}` for settings left unset).

settings.py reads them between `collect()` and `collected()`: a refused value
is then noted (and its default used) instead of raised at once, so that an
operator reads every problem in one message instead of one traceback per try.
"""

import os
import re

from django.core.exceptions import ImproperlyConfigured

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off"}

_collecting: list[str] | None = None


def collect() -> None:
    """From now on, note refused values instead of raising (see `collected`)."""
    global _collecting
    _collecting = []


def collected() -> list[str]:
    """Stop collecting; the problems noted since `collect()`, in the order met."""
    global _collecting
    problems, _collecting = _collecting or [], None
    return problems


def refuse(message: str) -> None:
    """A setting cannot be used: raise, or note it while settings are being collected."""
    if _collecting is None:
        raise ImproperlyConfigured(message)
    _collecting.append(message)


def report(problems: list[str]) -> str:
    """One message naming every problem, for ImproperlyConfigured and the preflight."""
    lines = "\n".join(f"  - {problem}" for problem in problems)
    noun = "setting needs" if len(problems) == 1 else "settings need"
    return f"{len(problems)} {noun} attention (see README, Settings):\n{lines}"


def _raw(name: str) -> str | None:
    raw = os.environ.get(name)
    if raw is None or raw.strip() == "":
        return None
    return raw


def env_str(name: str, default: str = "") -> str:
    raw = _raw(name)
    return default if raw is None else raw.strip()


def env_bool(name: str, default: bool) -> bool:
    raw = _raw(name)
    if raw is None:
        return default
    value = raw.strip().lower()
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    refuse(
        f"{name}={raw!r} is not a boolean: use one of "
        f"{', '.join(sorted(_TRUE))} or {', '.join(sorted(_FALSE))}."
    )
    return default


def env_int(name: str, default: int, *, minimum: int | None = None) -> int:
    raw = _raw(name)
    if raw is None:
        return default
    try:
        value = int(raw.strip())
    except ValueError:
        refuse(f"{name}={raw!r} is not a whole number.")
        return default
    if minimum is not None and value < minimum:
        refuse(f"{name}={value} is below its minimum of {minimum}.")
        return default
    return value


def env_float(name: str, default: float, *, minimum: float | None = None) -> float:
    raw = _raw(name)
    if raw is None:
        return default
    try:
        value = float(raw.strip())
    except ValueError:
        refuse(f"{name}={raw!r} is not a number.")
        return default
    if minimum is not None and value < minimum:
        refuse(f"{name}={value} is below its minimum of {minimum}.")
        return default
    return value


def env_choice(name: str, default: str, choices: tuple[str, ...]) -> str:
    """One of `choices` (compared without case), returned as spelled in `choices`."""
    raw = _raw(name)
    if raw is None:
        return default
    by_key = {choice.lower(): choice for choice in choices}
    value = by_key.get(raw.strip().lower())
    if value is None:
        refuse(f"{name}={raw!r} is not one of {', '.join(choices)}.")
        return default
    return value


RATE = re.compile(r"[0-9]+/(s|sec|second|m|min|minute|h|hour|d|day)")


def env_rate(name: str, default: str) -> str:
    """A request rate as Django REST framework reads it: `<number>/<second|minute|hour|day>`."""
    raw = _raw(name)
    if raw is None:
        return default
    value = raw.strip()
    if not RATE.fullmatch(value):
        refuse(f"{name}={raw!r} is not like 120/minute (second, hour, day).")
        return default
    return value


def env_list(name: str, default: list[str]) -> list[str]:
    raw = _raw(name)
    if raw is None:
        return list(default)
    return [item.strip() for item in raw.split(",") if item.strip()]
