-- Visitors: one row per person who starts chats, so that a visitor who
-- comes back (an anonymous one presenting their continuity token, or a
-- verified one on any device) has one id across their chats. `id` is the
-- `sub` of the guest tokens of every chat they start; `chats.visitor_id`
-- names it.
--
-- An anonymous visitor holds a continuity token, of which only the
-- SHA-256 is kept (`secret_hash`) with the time it lapses unless used
-- again. A verified visitor is known by the issuer that vouched for them
-- and their user id there (`issuer`, `external_id`, unique together) and
-- holds no continuity token. `attributes` is what the issuer said besides,
-- as JSON text: an array of {"name", "value"} objects.
CREATE TABLE visitors (
    id                BLOB PRIMARY KEY NOT NULL,
    secret_hash       BLOB UNIQUE,
    secret_expires_at TEXT,
    created_at        TEXT NOT NULL,
    last_seen_at      TEXT NOT NULL,
    name              TEXT,
    email             TEXT,
    issuer            TEXT,
    external_id       TEXT,
    attributes        TEXT,
    UNIQUE (issuer, external_id),
    CHECK ((issuer IS NULL) = (external_id IS NULL))
);

-- Every chat so far had a visitor of its own: each becomes a visitor row,
-- anonymous and without a continuity token, so no chat loses its visitor.
INSERT INTO visitors (id, created_at, last_seen_at, name, email)
SELECT visitor_id, min(created_at), max(updated_at), max(visitor_name), max(visitor_email)
FROM chats GROUP BY visitor_id;

-- What the widget reported at the chat start and what the server read of
-- the browser, as JSON text: an object of plain strings. NULL for chats
-- started before it was kept.
ALTER TABLE chats ADD COLUMN context TEXT;

-- A visitor's chats, newest first.
CREATE INDEX chats_by_visitor ON chats (visitor_id, id);
