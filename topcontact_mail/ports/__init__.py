"""Narrow protocols the services need from the outside world: mailbox, calendars, store, clock."""
