-- An agent who leaves is deactivated rather than deleted: their messages
-- keep their author, and an admin may reactivate them. NULL while active.
ALTER TABLE agents ADD COLUMN deactivated_at TEXT;
