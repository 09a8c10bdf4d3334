//! What a REST operation's `#[utoipa::path]` annotation cannot say, declared
//! as typed data beside its handler (an `OPERATION` in each file of
//! `routes`, and in `ws::handshake`): the error codes it may answer and the
//! behaviour generators read from `x-byrd-` extensions.
//!
//! `spec_docs::openapi` turns each into `openapi.json`: the codes become
//! each error response's `x-byrd-error-codes` (a misspelt code does not
//! compile), grouped by the status each code is sent with, and an error
//! status the annotation documents without a code here, or a code whose
//! status the annotation does not document, fails the build of the document.

use byrd_spec::error::ErrorCode;
use serde_json::{Value, json};

/// One REST operation's metadata.
#[derive(Debug)]
pub struct Operation {
    /// The `operationId`; the annotation takes it from here.
    pub id: &'static str,
    /// Every error code the operation may answer, in the order its responses
    /// list them. `internal_error`, and `payload_too_large` for operations
    /// with a body, are left out: any operation may answer them, and the
    /// `default` response says so.
    pub errors: &'static [ErrorCode],
    /// What generators cannot read from the operation's shape.
    pub behaviour: Option<Behaviour>,
}

/// How a client may use an operation beyond calling it once.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Behaviour {
    /// A POST that is safe to retry: a repeat with the same value of this
    /// body field stores nothing new (`x-byrd-idempotency-key`).
    IdempotencyKey { body_field: &'static str },
    /// A list paged by an opaque cursor (`x-byrd-pagination`, style `cursor`).
    CursorPages {
        /// The query parameter that takes the cursor.
        parameter: &'static str,
        /// The answer's field holding the next cursor, absent on the last page.
        next: &'static str,
        /// The answer's field holding the page's items.
        items: &'static str,
    },
    /// A list paged by the position of its last item (`x-byrd-pagination`,
    /// style `seq`).
    SeqPages {
        /// The query parameter that takes the position.
        parameter: &'static str,
        /// The items' field holding their position.
        key: &'static str,
        /// The answer's field saying whether more items follow.
        has_more: &'static str,
        /// The answer's field holding the page's items.
        items: &'static str,
    },
}

impl Behaviour {
    /// The `openapi.json` extension (name and value) saying what generators
    /// cannot read from an operation's
    /// shape: which body field makes a POST safe to retry, and how a list
    /// operation pages.
    pub fn extension(self) -> (&'static str, Value) {
        match self {
            Behaviour::IdempotencyKey { body_field } => (
                "x-byrd-idempotency-key",
                json!({"in": "body", "name": body_field}),
            ),
            Behaviour::CursorPages {
                parameter,
                next,
                items,
            } => (
                "x-byrd-pagination",
                json!({"style": "cursor", "parameter": parameter, "next": next, "items": items}),
            ),
            Behaviour::SeqPages {
                parameter,
                key,
                has_more,
                items,
            } => (
                "x-byrd-pagination",
                json!({"style": "seq", "parameter": parameter, "key": key, "has_more": has_more, "items": items}),
            ),
        }
    }
}
