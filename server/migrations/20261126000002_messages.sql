-- Messages. `chats.last_seq` is the per-chat counter: a sender increments
-- it and inserts its message in one transaction, so the row lock orders
-- concurrent senders, seqs commit in order, and none is skipped.

ALTER TABLE chats ADD COLUMN last_seq INTEGER NOT NULL DEFAULT 0;

CREATE TABLE messages (
    id            BLOB PRIMARY KEY NOT NULL,
    chat_id       BLOB NOT NULL REFERENCES chats (id),
    seq           INTEGER NOT NULL,
    author_type   TEXT NOT NULL CHECK (author_type IN ('agent', 'guest')),
    author_id     BLOB NOT NULL,
    author_name   TEXT,
    body          TEXT NOT NULL,
    client_msg_id TEXT NOT NULL,
    created_at    TEXT NOT NULL,
    UNIQUE (chat_id, seq),
    -- Idempotency: one message per author and key within a chat.
    UNIQUE (chat_id, author_type, author_id, client_msg_id)
);

-- How far each party has read each chat.
CREATE TABLE read_markers (
    chat_id     BLOB NOT NULL REFERENCES chats (id),
    reader_type TEXT NOT NULL CHECK (reader_type IN ('agent', 'guest')),
    reader_id   BLOB NOT NULL,
    seq         INTEGER NOT NULL,
    updated_at  TEXT NOT NULL,
    PRIMARY KEY (chat_id, reader_type, reader_id)
);
