-- Single-use WebSocket tickets; see the SQLite migration of the same name.
-- `expires_at` is Unix milliseconds, as there.
CREATE TABLE ws_tickets (
    ticket_hash bytea PRIMARY KEY,
    principal   uuid NOT NULL,
    claims      text NOT NULL,
    expires_at  bigint NOT NULL
);

CREATE INDEX ws_tickets_by_principal ON ws_tickets (principal, expires_at);
CREATE INDEX ws_tickets_by_expiry ON ws_tickets (expires_at);
