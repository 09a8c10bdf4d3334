-- The keyring: every key Byrd signs its tokens with, shared by every node.
-- The public part is a JWK (JSON text); the private part is sealed under
-- the keyring key (AES-256-GCM, base64url), so the database alone signs
-- nothing. The entry of a shared HS256 secret, kept while tokens it signed
-- may still be alive, has neither. Rows are never deleted: a retired key
-- stays listed and its kid is never reused. Times are RFC 3339 text.
CREATE TABLE signing_keys (
    kid            TEXT PRIMARY KEY,
    alg            TEXT NOT NULL CHECK (alg IN ('EdDSA', 'ES256', 'HS256')),
    public_jwk     TEXT,
    sealed_private TEXT,
    created_at     TEXT NOT NULL,
    activates_at   TEXT NOT NULL,
    verify_until   TEXT,
    retired_at     TEXT
);
