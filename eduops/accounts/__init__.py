"""Accounts: users, sessions, sign-in and its rate limits, passwords, user admin pages, `eduops user`."""
