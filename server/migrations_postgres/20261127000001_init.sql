-- Byrd schema for PostgreSQL: the tables of the SQLite schema
-- (server/migrations/) in PostgreSQL's own types. UUIDv7 ids sort by
-- creation time, which the chat list relies on; `uuid` compares bytewise,
-- as SQLite's blobs do.

CREATE TABLE agents (
    id               uuid PRIMARY KEY,
    email            text NOT NULL,
    email_normalized text NOT NULL UNIQUE,
    name             text NOT NULL,
    role             text NOT NULL CHECK (role IN ('admin', 'agent')),
    password_hash    text NOT NULL,
    created_at       timestamptz NOT NULL
);

-- `last_seq` is the per-chat counter: a batch of messages locks the chat's
-- row, moves the counter and inserts its messages in one transaction, so
-- the row lock orders writers on every node, seqs commit in order, and
-- none is skipped.
CREATE TABLE chats (
    id                uuid PRIMARY KEY,
    status            text NOT NULL CHECK (status IN ('open', 'assigned', 'closed')),
    visitor_id        uuid NOT NULL,
    visitor_name      text,
    visitor_email     text,
    subject           text,
    assigned_agent_id uuid REFERENCES agents (id),
    created_at        timestamptz NOT NULL,
    updated_at        timestamptz NOT NULL,
    closed_at         timestamptz,
    last_seq          bigint NOT NULL DEFAULT 0
);

CREATE INDEX chats_by_status ON chats (status, id);

-- One row per login; every refresh token of that login belongs to it, so
-- reuse of any one of them can revoke all of them.
CREATE TABLE sessions (
    id         uuid PRIMARY KEY,
    agent_id   uuid NOT NULL REFERENCES agents (id),
    created_at timestamptz NOT NULL,
    revoked_at timestamptz
);

-- Nodes look for recent revocations to close sockets that a lost
-- broadcast left open.
CREATE INDEX sessions_by_revocation ON sessions (revoked_at) WHERE revoked_at IS NOT NULL;

-- Refresh tokens are stored as SHA-256 hashes, never in the clear. A
-- token traded in remembers its successor for a short grace window (its
-- hash, and sealed with a key only the spent token yields).
CREATE TABLE refresh_tokens (
    token_hash       bytea PRIMARY KEY,
    session_id       uuid NOT NULL REFERENCES sessions (id),
    created_at       timestamptz NOT NULL,
    expires_at       timestamptz NOT NULL,
    used_at          timestamptz,
    successor_hash   bytea,
    successor_sealed bytea
);

CREATE INDEX refresh_tokens_by_session ON refresh_tokens (session_id);

-- Access tokens revoked before they expire; rows past `expires_at` are purged.
CREATE TABLE revoked_tokens (
    jti        text PRIMARY KEY,
    expires_at bigint NOT NULL,
    revoked_at timestamptz NOT NULL
);

CREATE INDEX revoked_tokens_by_revocation ON revoked_tokens (revoked_at);

CREATE TABLE messages (
    id            uuid PRIMARY KEY,
    chat_id       uuid NOT NULL REFERENCES chats (id),
    seq           bigint NOT NULL,
    author_type   text NOT NULL CHECK (author_type IN ('agent', 'guest')),
    author_id     uuid NOT NULL,
    author_name   text,
    body          text NOT NULL,
    client_msg_id text NOT NULL,
    created_at    timestamptz NOT NULL,
    UNIQUE (chat_id, seq),
    -- Idempotency: one message per author and key within a chat.
    UNIQUE (chat_id, author_type, author_id, client_msg_id)
);

-- How far each party has read each chat.
CREATE TABLE read_markers (
    chat_id     uuid NOT NULL REFERENCES chats (id),
    reader_type text NOT NULL CHECK (reader_type IN ('agent', 'guest')),
    reader_id   uuid NOT NULL,
    seq         bigint NOT NULL,
    updated_at  timestamptz NOT NULL,
    PRIMARY KEY (chat_id, reader_type, reader_id)
);
