"""Probes: small functions that return plain data about this terminal and degrade to null, never raise.

Parsers are pure functions over what the OS prints or exposes, tested against
recorded outputs of Linux and Windows (tests/data/agent/); the functions that
read the OS take the file-system root and the command runner as arguments.
`SystemProbes` in system.py puts them together into a report body.
"""
