-- A refresh token, once traded in, remembers its successor for a short
-- grace window, so that a client whose refresh answer was lost can present
-- it again and get the same successor instead of a revoked session. The
-- successor is kept as its hash and sealed with a key derived from the
-- spent token, which the database never holds: a copy of the database
-- alone reveals no usable token.
ALTER TABLE refresh_tokens ADD COLUMN successor_hash BLOB;
ALTER TABLE refresh_tokens ADD COLUMN successor_sealed BLOB;
