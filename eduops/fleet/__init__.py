"""The fleet: agent enrollment, report ingest, terminal state, commands (docs/protocol.md, docs/fleet.md)."""
