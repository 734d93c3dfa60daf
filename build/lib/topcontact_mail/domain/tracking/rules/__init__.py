"""The "answered?" rules, one short module per kind of sign; `answered.RULES` puts them in order."""
