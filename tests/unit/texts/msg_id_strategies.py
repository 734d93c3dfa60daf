"""Hypothesis strategies for RFC 5322 msg-ids: every legal form a header can carry, any length.

Shared by the unit tests of `to_mime` and the threading round trip through the
sandbox of each backend (tests/integration/test_threading_roundtrip.py).
"""

from __future__ import annotations

import re
import string

from hypothesis import strategies as st

from topcontact_mail.domain.acknowledgement import MAX_MSG_ID_LENGTH

#: RFC 5322 atext, and dtext (printable ASCII but "[", "]" and "\").
ATEXT = string.ascii_letters + string.digits + "!#$%&'*+/=?^_`{|}~-"
DTEXT = "".join(chr(c) for c in range(33, 127) if chr(c) not in "[]\\")
#: An RFC 2047 encoded word; legal in a msg-id, but such ids are not used for threading.
ENCODED_WORD = re.compile(r"=\?[^?]*\?[bBqQ]\?[^?]*\?=")


def _dot_atom(draw: st.DrawFn, size: int) -> str:
    """A dot-atom-text of exactly `size` characters: atext runs joined by single dots."""
    text = list(draw(st.text(alphabet=ATEXT + "..", min_size=size, max_size=size)))
    for i, char in enumerate(text):
        if char == "." and (i in (0, size - 1) or text[i - 1] == "."):
            text[i] = "x"
    return "".join(text)


@st.composite
def legal_msg_ids(draw: st.DrawFn, min_size: int = 5, max_size: int = MAX_MSG_ID_LENGTH) -> str:
    """A legal msg-id `<id-left@id-right>` of `min_size`..`max_size` characters, brackets included.

    id-right is a dot-atom-text or a domain literal ("[10.0.0.1]"); ids holding
    an RFC 2047 encoded word are left out (see `valid_msg_id`).
    """
    size = draw(st.integers(min_value=max(min_size, 5), max_value=max_size))
    inner = size - 3
    left = draw(st.integers(min_value=1, max_value=inner - 1))
    right = inner - left
    id_left = _dot_atom(draw, left)
    if right >= 2 and draw(st.booleans()):
        body = draw(st.text(alphabet=DTEXT, min_size=right - 2, max_size=right - 2))
        id_right = f"[{body}]"
    else:
        id_right = _dot_atom(draw, right)
    msg_id = f"<{id_left}@{id_right}>"
    if ENCODED_WORD.search(msg_id):
        msg_id = msg_id.replace("=?", "=_")
    return msg_id
