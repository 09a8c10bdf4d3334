-- Byrd schema, first version. Ids are UUIDs stored as 16-byte blobs;
-- UUIDv7 ids sort by creation time, which the chat list relies on.

CREATE TABLE agents (
    id               BLOB PRIMARY KEY NOT NULL,
    email            TEXT NOT NULL,
    email_normalized TEXT NOT NULL UNIQUE,
    name             TEXT NOT NULL,
    role             TEXT NOT NULL CHECK (role IN ('admin', 'agent')),
    password_hash    TEXT NOT NULL,
    created_at       TEXT NOT NULL
);

CREATE TABLE chats (
    id                BLOB PRIMARY KEY NOT NULL,
    status            TEXT NOT NULL CHECK (status IN ('open', 'assigned', 'closed')),
    visitor_id        BLOB NOT NULL,
    visitor_name      TEXT,
    visitor_email     TEXT,
    subject           TEXT,
    assigned_agent_id BLOB REFERENCES agents (id),
    created_at        TEXT NOT NULL,
    updated_at        TEXT NOT NULL,
    closed_at         TEXT
);

CREATE INDEX chats_by_status ON chats (status, id);

-- One row per login; every refresh token of that login belongs to it, so
-- reuse of any one of them can revoke all of them.
CREATE TABLE sessions (
    id         BLOB PRIMARY KEY NOT NULL,
    agent_id   BLOB NOT NULL REFERENCES agents (id),
    created_at TEXT NOT NULL,
    revoked_at TEXT
);

-- Refresh tokens are stored as SHA-256 hashes, never in the clear.
CREATE TABLE refresh_tokens (
    token_hash BLOB PRIMARY KEY NOT NULL,
    session_id BLOB NOT NULL REFERENCES sessions (id),
    created_at TEXT NOT NULL,
    expires_at TEXT NOT NULL,
    used_at    TEXT
);

CREATE INDEX refresh_tokens_by_session ON refresh_tokens (session_id);

-- Access tokens revoked before they expire; rows past `expires_at` are purged.
CREATE TABLE revoked_tokens (
    jti        TEXT PRIMARY KEY NOT NULL,
    expires_at INTEGER NOT NULL
);
