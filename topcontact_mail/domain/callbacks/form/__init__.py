"""The callback form: a short mail of "Label: value" lines in Dutch, read tolerantly.

`parse_form` turns a plain or HTML body (as Outlook writes it) into a
`ParsedForm`: the fields found and the problems for the booker. The steps,
each its own module and table:

1. `html`: HTML to lines (standard library `html.parser`);
2. `trim`: quoted replies and signatures cut off (`TRIMS`);
3. `labels` and `reader`: "Label: value" lines to raw fields, synonyms and
   small typos allowed (`LABELS`);
4. `phone`/`preference` (one level up): the values interpreted;
5. `checks`: the problems, in the order of `CHECKS`.
"""

# Imported on first use (PEP 562), as in `topcontact_mail.domain.callbacks`.
import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from topcontact_mail.domain.callbacks.form.checks import CHECKS
    from topcontact_mail.domain.callbacks.form.html import html_to_text
    from topcontact_mail.domain.callbacks.form.labels import LABELS, Field, match_label
    from topcontact_mail.domain.callbacks.form.parse import ParsedForm, parse_form
    from topcontact_mail.domain.callbacks.form.trim import TRIMS

#: name → the module that defines it, imported the first time the name is asked for.
_LAZY = {
    "CHECKS": "topcontact_mail.domain.callbacks.form.checks",
    "Field": "topcontact_mail.domain.callbacks.form.labels",
    "LABELS": "topcontact_mail.domain.callbacks.form.labels",
    "ParsedForm": "topcontact_mail.domain.callbacks.form.parse",
    "TRIMS": "topcontact_mail.domain.callbacks.form.trim",
    "html_to_text": "topcontact_mail.domain.callbacks.form.html",
    "match_label": "topcontact_mail.domain.callbacks.form.labels",
    "parse_form": "topcontact_mail.domain.callbacks.form.parse",
}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


__all__ = [
    "CHECKS",
    "LABELS",
    "TRIMS",
    "Field",
    "ParsedForm",
    "html_to_text",
    "match_label",
    "parse_form",
]
