-- The keyring: every key Byrd signs its tokens with, shared by every node.
-- The public part is a JWK (JSON text); the private part is sealed under
-- the keyring key (AES-256-GCM, base64url), so the database alone signs
-- nothing. The entry of a shared HS256 secret, kept while tokens it signed
-- may still be alive, has neither. Rows are never deleted: a retired key
-- stays listed and its kid is never reused. Writers lock the table, so two
-- nodes starting on an empty keyring make one first key, not two.
CREATE TABLE signing_keys (
    kid            text PRIMARY KEY,
    alg            text NOT NULL CHECK (alg IN ('EdDSA', 'ES256', 'HS256')),
    public_jwk     text,
    sealed_private text,
    created_at     timestamptz NOT NULL,
    activates_at   timestamptz NOT NULL,
    verify_until   timestamptz,
    retired_at     timestamptz
);
