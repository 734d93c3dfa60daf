"""The screening rules, one short module per concern; `chain.RULES` puts them in order."""
