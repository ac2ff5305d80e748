-- Calendar feeds (issue 11): calendar apps cannot sign in, so each feed has a secret URL.
-- A token opens exactly one feed (a teacher's own sessions, one room, or one school) and
-- is stored only as its SHA-256 hash; its owner's current access is checked on every fetch.
CREATE TABLE feed_tokens (
    id           INTEGER PRIMARY KEY,
    user_id      INTEGER NOT NULL REFERENCES users(id),
    scope        TEXT NOT NULL CHECK (scope IN ('teacher', 'room', 'school')),
    target       TEXT NOT NULL,  -- the teacher's user id, the room code or the school code
    token_hash   TEXT NOT NULL UNIQUE,
    hint         TEXT NOT NULL,  -- the token's first characters, so people can tell feeds apart
    created_at   TEXT NOT NULL,
    last_used_at TEXT,
    revoked_at   TEXT
);
CREATE INDEX feed_tokens_user ON feed_tokens(user_id);

-- Events in feeds need UIDs that stay the same for good and differ between county hubs.
INSERT INTO meta (key, value) VALUES ('hub_id', lower(hex(randomblob(8))));
