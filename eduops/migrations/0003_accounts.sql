-- Accounts and access: who may sign in, with which role, for which schools.
-- Session ids and API tokens are random secrets stored only as SHA-256 hashes;
-- passwords as argon2id hashes. Times are UTC ISO-8601 text.

CREATE TABLE users (
    id                  INTEGER PRIMARY KEY,
    username            TEXT NOT NULL UNIQUE COLLATE NOCASE,
    role                TEXT NOT NULL CHECK (role IN ('admin', 'it_staff', 'teacher', 'viewer')),
    password_hash       TEXT NOT NULL,
    created_at          TEXT NOT NULL,
    password_changed_at TEXT NOT NULL,
    last_login_at       TEXT,
    disabled_at         TEXT
);

-- The schools an IT staff member or teacher works for; none for admin and viewer.
CREATE TABLE user_schools (
    user_id     INTEGER NOT NULL REFERENCES users(id),
    school_code TEXT NOT NULL REFERENCES schools(code),
    PRIMARY KEY (user_id, school_code)
);
CREATE INDEX user_schools_school ON user_schools(school_code);

CREATE TABLE sessions (
    id_hash      TEXT PRIMARY KEY,
    user_id      INTEGER NOT NULL REFERENCES users(id),
    created_at   TEXT NOT NULL,
    last_seen_at TEXT NOT NULL,
    address      TEXT NOT NULL
);
CREATE INDEX sessions_user ON sessions(user_id);

-- Tokens act as their user: the user's current role and schools, nothing more.
CREATE TABLE api_tokens (
    id           INTEGER PRIMARY KEY,
    user_id      INTEGER NOT NULL REFERENCES users(id),
    name         TEXT NOT NULL,
    token_hash   TEXT NOT NULL UNIQUE,
    hint         TEXT NOT NULL,  -- the token's first characters, so people can tell tokens apart
    created_at   TEXT NOT NULL,
    last_used_at TEXT,
    revoked_at   TEXT
);
CREATE INDEX api_tokens_user ON api_tokens(user_id);

-- Failed sign-ins within the rate-limit window (older rows are pruned); the
-- username is the one typed, so unknown names are limited like real ones.
CREATE TABLE login_failures (
    at       TEXT NOT NULL,
    username TEXT NOT NULL COLLATE NOCASE,
    address  TEXT NOT NULL
);
CREATE INDEX login_failures_username ON login_failures(username, at);
CREATE INDEX login_failures_address ON login_failures(address, at);
CREATE INDEX login_failures_at ON login_failures(at);

-- Security events, kept for good. actor did it (NULL on the command line), to subject.
CREATE TABLE audit_log (
    id      INTEGER PRIMARY KEY,
    at      TEXT NOT NULL,
    event   TEXT NOT NULL,
    actor   TEXT,
    subject TEXT,
    address TEXT NOT NULL,
    detail  TEXT NOT NULL DEFAULT ''
);
CREATE INDEX audit_log_at ON audit_log(at);
CREATE INDEX audit_log_event ON audit_log(event, at);
CREATE INDEX audit_log_actor ON audit_log(actor COLLATE NOCASE, at);
CREATE INDEX audit_log_subject ON audit_log(subject COLLATE NOCASE, at);
