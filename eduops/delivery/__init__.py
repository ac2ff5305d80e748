"""Sky classroom delivery: recording schedules, readiness, notifications and what was delivered."""
