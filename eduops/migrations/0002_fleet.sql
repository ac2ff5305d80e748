-- The fleet: enrollment tokens, agents and their keys, raw reports and their daily
-- rollup, hardware claimed twice, state history, the command queue, job runs and
-- ingest counters. Times are UTC ISO-8601 text; a day is county-local YYYY-MM-DD.

-- School IT staff hand a token to whoever installs agents in one school.
-- Only a hash of the token is kept; `id` is what people see and revoke.
CREATE TABLE enrollment_tokens (
    id           INTEGER PRIMARY KEY,
    token_hash   TEXT NOT NULL UNIQUE,
    school_code  TEXT NOT NULL REFERENCES schools(code),
    created_at   TEXT NOT NULL,
    expires_at   TEXT NOT NULL,
    max_uses     INTEGER CHECK (max_uses IS NULL OR max_uses > 0),   -- NULL: any number
    uses         INTEGER NOT NULL DEFAULT 0,
    revoked_at   TEXT,
    replaced_by  INTEGER REFERENCES enrollment_tokens(id),            -- set by rotate
    last_used_at TEXT,
    last_used_by TEXT                                                 -- hostname (instance id) of the last enrollment
);
CREATE INDEX enrollment_tokens_school ON enrollment_tokens(school_code);

CREATE TABLE agents (
    id                 TEXT PRIMARY KEY,             -- 'ag_...'
    instance_id        TEXT UNIQUE NOT NULL,
    school_code        TEXT NOT NULL REFERENCES schools(code),
    room_code          TEXT NOT NULL REFERENCES rooms(code),
    terminal_code      TEXT REFERENCES terminals(code),
    state              TEXT NOT NULL CHECK (state IN ('online', 'stale', 'offline', 'expected_off', 'retired')),
    last_report_at     TEXT,                         -- newest report's skew-corrected time
    retired_at         TEXT,
    key_hash           TEXT UNIQUE,                  -- sha256 of the agent key; NULL once revoked
    enrolled_at        TEXT NOT NULL,
    enrolled_with      INTEGER REFERENCES enrollment_tokens(id),
    hostname           TEXT NOT NULL,
    machine_id         TEXT,
    agent_version      TEXT,
    os                 TEXT,
    state_since        TEXT NOT NULL,
    last_contact_at    TEXT,                         -- hub time of the newest accepted batch
    last_seq           INTEGER,
    clock_skew_s       REAL,                         -- hub clock minus agent clock at the newest batch
    clock_skew_at      TEXT,
    retire_proposed_at TEXT                          -- long silent: IT staff should confirm retirement
);
CREATE INDEX agents_school ON agents(school_code, state);
CREATE INDEX agents_room ON agents(room_code);
CREATE INDEX agents_terminal ON agents(terminal_code);

-- One row per agent per county-local day, kept at ingest; kept for good.
CREATE TABLE agent_days (
    agent_id         TEXT NOT NULL REFERENCES agents(id),
    day              TEXT NOT NULL,
    reports          INTEGER NOT NULL,
    wired_up_reports INTEGER NOT NULL,
    wifi_ssid        TEXT,
    wifi_best_dbm    INTEGER,
    PRIMARY KEY (agent_id, day)
) WITHOUT ROWID;

-- What each agent said it is, for spotting several instances on one machine.
CREATE TABLE agent_hardware (
    agent_id TEXT NOT NULL REFERENCES agents(id),
    fact     TEXT NOT NULL CHECK (fact IN ('machine_id', 'mac', 'display_serial')),
    value    TEXT NOT NULL,
    PRIMARY KEY (agent_id, fact, value)
) WITHOUT ROWID;
CREATE INDEX agent_hardware_value ON agent_hardware(fact, value);

-- Cloned disk images and restore cards: flagged for IT staff, never merged.
CREATE TABLE hardware_flags (
    id          INTEGER PRIMARY KEY,
    agent_id    TEXT NOT NULL REFERENCES agents(id),  -- the newcomer
    other_id    TEXT NOT NULL REFERENCES agents(id),  -- the agent already claiming the hardware
    fact        TEXT NOT NULL,
    value       TEXT NOT NULL,
    flagged_at  TEXT NOT NULL,
    UNIQUE (agent_id, other_id, fact, value)
);
CREATE INDEX hardware_flags_other ON hardware_flags(other_id);

-- Raw reports: kept raw_report_days, then deleted (agent_days already holds their sum).
CREATE TABLE reports (
    id          INTEGER PRIMARY KEY,
    uuid        TEXT NOT NULL UNIQUE,
    agent_id    TEXT NOT NULL REFERENCES agents(id),
    seq         INTEGER NOT NULL,
    agent_time  TEXT NOT NULL,     -- as the agent's clock said
    report_at   TEXT NOT NULL,     -- corrected by the batch's clock skew
    received_at TEXT NOT NULL,
    body        TEXT NOT NULL      -- JSON, as validated
);
CREATE INDEX reports_received ON reports(received_at);

CREATE TABLE agent_states (
    id         INTEGER PRIMARY KEY,
    agent_id   TEXT NOT NULL REFERENCES agents(id),
    from_state TEXT,               -- NULL at enrollment
    to_state   TEXT NOT NULL,
    at         TEXT NOT NULL,
    reason     TEXT NOT NULL
);
CREATE INDEX agent_states_agent ON agent_states(agent_id, at);
CREATE INDEX agent_states_at ON agent_states(at);

CREATE TABLE commands (
    id           TEXT PRIMARY KEY,   -- 'cmd_...'
    agent_id     TEXT NOT NULL REFERENCES agents(id),
    kind         TEXT NOT NULL CHECK (kind IN ('refresh_schedule', 'send_inventory')),
    args         TEXT NOT NULL DEFAULT '{}',
    created_at   TEXT NOT NULL,
    expires_at   TEXT NOT NULL,
    status       TEXT NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'done', 'failed', 'expired')),
    delivered_at TEXT,
    acked_at     TEXT,
    detail       TEXT NOT NULL DEFAULT ''
);
CREATE INDEX commands_pending ON commands(agent_id) WHERE status = 'pending';
CREATE INDEX commands_created ON commands(created_at);

-- The hub's scheduled jobs: when each last ran and how often it failed.
CREATE TABLE job_runs (
    name            TEXT PRIMARY KEY,
    last_started_at TEXT,
    last_success_at TEXT,
    last_failure_at TEXT,
    last_error      TEXT,
    last_duration_s REAL,
    runs            INTEGER NOT NULL DEFAULT 0,
    failures        INTEGER NOT NULL DEFAULT 0
);

-- Reports accepted and duplicate, requests rejected by reason: counters since the database began.
CREATE TABLE ingest_counts (
    outcome TEXT PRIMARY KEY,      -- 'accepted', 'duplicate', or 'rejected:<error code>'
    count   INTEGER NOT NULL
);
