"""Rules `done_folder` and `done_category`: the team filed the message as done.

The folder and category names are the administrator's (`AnsweredPolicy`),
compared without regard to case or surrounding spaces; a folder matches by its
whole path ("Inbox/Afgehandeld") or by its own name ("Afgehandeld"). Exchange
does not say when a message was moved or categorised: its last change is the
latest moment it can have happened, or else the moment of observation.
"""

from __future__ import annotations

from topcontact_mail.domain.tracking.model import AnsweredPolicy, Evidence, Observation


def _key(name: str) -> str:
    return " ".join(name.split()).casefold().strip("/")


def done_folder(observation: Observation, policy: AnsweredPolicy) -> Evidence | None:
    wanted = {_key(f) for f in policy.done_folders} - {""}
    path = _key(observation.folder)
    if not wanted or not path:
        return None
    own_name = path.rpartition("/")[2]
    if path in wanted or own_name in wanted:
        return Evidence(observation.changed_at, f"moved to the done folder {observation.folder!r}")
    return None


def done_category(observation: Observation, policy: AnsweredPolicy) -> Evidence | None:
    wanted = {_key(c) for c in policy.done_categories} - {""}
    for category in observation.categories:
        if _key(category) in wanted:
            return Evidence(observation.changed_at, f"given the done category {category!r}")
    return None
