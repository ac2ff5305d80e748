-- Sky classroom delivery (docs/delivery.md): recordings as the source room's agent reports them,
-- readiness before each session, what was delivered after it, training attendance, and
-- notifications (in the hub, and out to group robots through a durable outbox).

-- The newest state of each recording, from the reports of the source room's agent.
CREATE TABLE recordings (
    session_id  INTEGER NOT NULL REFERENCES sky_sessions(id),
    agent_id    TEXT NOT NULL REFERENCES agents(id),
    state       TEXT NOT NULL CHECK (state IN ('scheduled', 'recording', 'finished', 'failed')),
    reason      TEXT NOT NULL DEFAULT '',
    at          TEXT,                 -- when the agent entered that state (its clock, as reported)
    reported_at TEXT NOT NULL,        -- the report's skew-corrected time
    PRIMARY KEY (session_id, agent_id)
) WITHOUT ROWID;

-- One row per session, check (minutes before the start) and room. A check is done once its
-- rows exist, so the job derives what is due from this table and never checks twice.
CREATE TABLE readiness (
    session_id   INTEGER NOT NULL REFERENCES sky_sessions(id),
    lead_minutes INTEGER NOT NULL,
    room_code    TEXT NOT NULL REFERENCES rooms(code),
    school_code  TEXT NOT NULL REFERENCES schools(code),
    role         TEXT NOT NULL CHECK (role IN ('source', 'receiver')),
    ready        INTEGER NOT NULL CHECK (ready IN (0, 1)),
    reasons      TEXT NOT NULL DEFAULT '',   -- comma-separated codes (scheduler/readiness.py)
    checked_at   TEXT NOT NULL,
    PRIMARY KEY (session_id, lead_minutes, room_code)
) WITHOUT ROWID;

-- What was delivered, recorded once by the delivery job after the session's end.
CREATE TABLE deliveries (
    session_id        INTEGER PRIMARY KEY REFERENCES sky_sessions(id),
    held              INTEGER NOT NULL CHECK (held IN (0, 1)),
    hours             REAL NOT NULL CHECK (hours >= 0),
    receivers         INTEGER NOT NULL,
    receivers_reached INTEGER NOT NULL,
    recorded_at       TEXT NOT NULL
);
CREATE TABLE delivery_rooms (
    session_id  INTEGER NOT NULL REFERENCES sky_sessions(id),
    room_code   TEXT NOT NULL REFERENCES rooms(code),
    school_code TEXT NOT NULL REFERENCES schools(code),
    role        TEXT NOT NULL CHECK (role IN ('source', 'receiver')),
    reports     INTEGER NOT NULL,     -- reports from the room's agents during the session
    PRIMARY KEY (session_id, room_code)
) WITHOUT ROWID;
CREATE INDEX delivery_rooms_school ON delivery_rooms(school_code);

-- Teachers who took part in a teacher_training session, per receiving (or host) school.
CREATE TABLE attendance (
    session_id  INTEGER NOT NULL REFERENCES sky_sessions(id),
    school_code TEXT NOT NULL REFERENCES schools(code),
    teachers    INTEGER NOT NULL CHECK (teachers >= 0),
    accounts    TEXT NOT NULL DEFAULT '',    -- the teachers' usernames, comma-separated, when given
    entered_by  INTEGER REFERENCES users(id),
    entered_at  TEXT NOT NULL,
    PRIMARY KEY (session_id, school_code)
) WITHOUT ROWID;

-- In-hub notifications; the text is made when shown, in the reader's language.
CREATE TABLE notifications (
    id         INTEGER PRIMARY KEY,
    user_id    INTEGER NOT NULL REFERENCES users(id),
    session_id INTEGER REFERENCES sky_sessions(id),
    event      TEXT NOT NULL,
    params     TEXT NOT NULL DEFAULT '{}',   -- JSON
    created_at TEXT NOT NULL,
    read_at    TEXT,
    UNIQUE (user_id, event, session_id, params)
);
CREATE INDEX notifications_user ON notifications(user_id, id);

-- Group robots (DingTalk, WeCom) as Apprise URLs: a school's, or county-wide (school_code NULL).
-- The URL holds the robot's access token: never shown whole, never logged.
CREATE TABLE notify_targets (
    id          INTEGER PRIMARY KEY,
    school_code TEXT REFERENCES schools(code),
    label       TEXT NOT NULL,
    url         TEXT NOT NULL,
    created_by  TEXT,
    created_at  TEXT NOT NULL
);

-- Every message to a robot is written here in the transaction of what caused it, then sent
-- by the notify_send job with retry and backoff: a dead robot never blocks or loses a booking.
CREATE TABLE notify_outbox (
    id              INTEGER PRIMARY KEY,
    target_id       INTEGER NOT NULL REFERENCES notify_targets(id) ON DELETE CASCADE,
    event_key       TEXT NOT NULL,            -- what it is about, so it is queued once per target
    session_id      INTEGER REFERENCES sky_sessions(id),
    event           TEXT NOT NULL,
    params          TEXT NOT NULL DEFAULT '{}',  -- JSON; the text is made when sent
    created_at      TEXT NOT NULL,
    attempts        INTEGER NOT NULL DEFAULT 0,
    next_attempt_at TEXT NOT NULL,
    sent_at         TEXT,
    gave_up_at      TEXT,
    last_error      TEXT NOT NULL DEFAULT '',
    UNIQUE (target_id, event_key)
);
CREATE INDEX notify_outbox_due ON notify_outbox(next_attempt_at) WHERE sent_at IS NULL AND gave_up_at IS NULL;

-- Counters since the database began: 'sent', 'failed' (attempts), 'gave_up'.
CREATE TABLE notify_counts (
    outcome TEXT PRIMARY KEY,
    count   INTEGER NOT NULL
);

-- How far the notify job has read the audit log (booking decisions are notified from there).
CREATE TABLE delivery_cursors (
    name    TEXT PRIMARY KEY,
    last_id INTEGER NOT NULL
);
-- Decisions taken before delivery existed were told by nobody; start after them.
INSERT INTO delivery_cursors (name, last_id) SELECT 'audit', coalesce(MAX(id), 0) FROM audit_log;

-- Readiness reads each agent's newest report, and delivery the reports during a session.
CREATE INDEX reports_agent_time ON reports(agent_id, report_at);
