-- Why a chat was closed: 'agent' (an agent closed it) or 'idle' (nobody
-- took it and nothing was written for the idle time). Chats closed before
-- this column existed were closed by agents.
ALTER TABLE chats ADD COLUMN close_reason text CHECK (close_reason IN ('agent', 'idle'));
UPDATE chats SET close_reason = 'agent' WHERE status = 'closed';

-- The client address a chat was started from, reduced to what the bound
-- on open chats per address counts by: an IPv4 address, or the /64 prefix
-- of an IPv6 one, never the full IPv6 address. Set only while the chat is
-- not closed: a close clears it, so no address outlives the chat's need
-- for it.
ALTER TABLE chats ADD COLUMN client_key text;
CREATE INDEX chats_by_client_key ON chats (client_key) WHERE client_key IS NOT NULL;

-- The idle close looks for open chats quiet since a cutoff.
CREATE INDEX chats_open_by_update ON chats (updated_at) WHERE status = 'open';
