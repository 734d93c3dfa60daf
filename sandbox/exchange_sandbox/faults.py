"""Fault injection of the sandbox Exchange server (a test double): the spec and the dice.

One spec serves EWS and Graph alike: each request of a listed operation (all when ``ops`` is
empty) fails with the given probabilities, answered the way its protocol answers
(``server_busy``: EWS ErrorServerBusy / Graph 429, ``http503``, ``http500``, ``drop``: the
connection closes unanswered, ``slow``: a delay, ``lost``: the request is carried out and
then the connection closes unanswered; for Graph a ``$batch`` is lost whole, when ``ops`` is
empty or lists ``graph.batch`` or one of its steps' operations). ``match`` narrows the faults
to EWS requests whose SOAP body holds the given text (an item id: one message that fails every
time it is asked for, in any batch); Graph requests are never matched by it.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

KINDS = ("drop", "http500", "http503", "server_busy", "slow")
"""The faults decided by one roll, in the order the roll is divided among them."""


class FaultSpecError(ValueError):
    """A fault injection spec could not be parsed."""


@dataclass
class Faults:
    """Probabilities of injected failures per EWS request, optionally only for some operations."""

    server_busy: float = 0.0
    http503: float = 0.0
    http500: float = 0.0
    slow: float = 0.0
    drop: float = 0.0
    #: The request is carried out, then the connection drops before the answer: the client
    #: cannot tell whether it happened (the hardest case for exactly-once). EWS and Graph.
    lost: float = 0.0
    ops: frozenset[str] = frozenset()
    #: Only requests whose body holds this text get a fault (EWS; empty: every request).
    match: str = ""
    backoff_ms: int = 1000
    slow_ms: int = 2000
    seed: int | None = None

    def spec(self) -> str:
        parts = [
            f"{name}={getattr(self, name)}"
            for name in ("server_busy", "http503", "http500", "slow", "drop", "lost")
            if getattr(self, name)
        ]
        if self.ops:
            parts.append("ops=" + "+".join(sorted(self.ops)))
        if self.match:
            parts.append(f"match={self.match}")
        parts.append(f"backoff_ms={self.backoff_ms}")
        parts.append(f"slow_ms={self.slow_ms}")
        return ",".join(parts)


def parse_faults(spec: str | None) -> Faults:
    """Parse ``server_busy=0.2,http503=0.1,http500=0.05,slow=0.05,drop=0.05,lost=0.1,ops=CreateItem``.

    Also ``backoff_ms=N`` (BackOffMilliseconds of ErrorServerBusy), ``slow_ms=N``, ``seed=N`` and
    ``match=TEXT`` (only EWS requests whose body holds TEXT).
    """
    faults = Faults()
    if not spec or not spec.strip():
        return faults
    for part in spec.split(","):
        if not part.strip():
            continue
        key, sep, value = part.partition("=")
        key = key.strip()
        if not sep:
            raise FaultSpecError(f"fault spec part {part!r} lacks '='")
        try:
            if key in ("server_busy", "http503", "http500", "slow", "drop", "lost"):
                prob = float(value)
                if not 0.0 <= prob <= 1.0:
                    raise FaultSpecError(f"{key} must be a probability between 0 and 1")
                setattr(faults, key, prob)
            elif key == "ops":
                faults.ops = frozenset(o.strip() for o in value.split("+") if o.strip())
            elif key == "match":
                if not value.strip():
                    raise FaultSpecError("match needs the text a request must hold")
                faults.match = value.strip()
            elif key in ("backoff_ms", "slow_ms", "seed"):
                setattr(faults, key, int(value))
            else:
                raise FaultSpecError(f"unknown fault {key!r}")
        except ValueError as exc:
            if isinstance(exc, FaultSpecError):
                raise
            raise FaultSpecError(f"bad value in {part!r}") from exc
    return faults


def pick_fault(
    faults: Faults, rng: random.Random, operation: str, request: bytes | None = None
) -> str | None:
    """The fault (one of :data:`KINDS`) one request of ``operation`` gets, or None.

    ``request``: the request's body, when ``match`` can be looked for in it (EWS); a request
    without one is never matched.
    """
    if faults.ops and operation not in faults.ops:
        return None
    if faults.match and (request is None or faults.match.encode() not in request):
        return None
    roll = rng.random()
    for name in KINDS:
        prob = float(getattr(faults, name))
        if roll < prob:
            return name
        roll -= prob
    return None


def answer_lost(
    faults: Faults, rng: random.Random, operation: str, request: bytes | None = None
) -> bool:
    """Whether the answer to a request of ``operation``, already carried out, is lost."""
    if not faults.lost or (faults.ops and operation not in faults.ops):
        return False
    if faults.match and (request is None or faults.match.encode() not in request):
        return False
    return rng.random() < faults.lost
