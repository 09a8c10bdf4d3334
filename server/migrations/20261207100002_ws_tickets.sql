-- Single-use WebSocket tickets: a short-lived stand-in for a token in the
-- WebSocket's query string. Only the ticket's SHA-256 is kept; the row
-- carries the verified claims of the token the ticket was made from, so
-- the socket it opens lives by that token. Opening a socket deletes the
-- row in the same statement that reads it, which makes a ticket good once
-- on every node sharing the database. `expires_at` is Unix milliseconds.
CREATE TABLE ws_tickets (
    ticket_hash BLOB PRIMARY KEY,
    principal   BLOB NOT NULL,
    claims      TEXT NOT NULL,
    expires_at  INTEGER NOT NULL
) WITHOUT ROWID;

-- The bound on unspent tickets counts a principal's rows; the sweep drops
-- expired ones.
CREATE INDEX ws_tickets_by_principal ON ws_tickets (principal, expires_at);
CREATE INDEX ws_tickets_by_expiry ON ws_tickets (expires_at);
