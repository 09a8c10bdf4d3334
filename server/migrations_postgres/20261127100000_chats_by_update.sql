-- The cluster's sweep reads the chats changed since its last look.
CREATE INDEX chats_by_update ON chats (updated_at);
