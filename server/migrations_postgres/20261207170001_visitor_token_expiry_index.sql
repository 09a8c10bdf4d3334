-- Housekeeping forgets lapsed visitor tokens (`WHERE secret_expires_at <
-- now`) on every run; without an index that reads every visitor ever
-- seen. Only rows still holding a token are indexed.
CREATE INDEX visitors_by_token_expiry ON visitors (secret_expires_at)
    WHERE secret_expires_at IS NOT NULL;
