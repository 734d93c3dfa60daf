"""The proving ground (`make reliability`): the real daemon against the strict sandbox, scored."""
