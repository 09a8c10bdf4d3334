//! The protocol as one small, target-neutral model.
//!
//! The reader (`read`) fills it from the three committed documents
//! (`openapi.json`, `ws.schema.json`, `claims.schema.json`, `client.json`); every emitter
//! (`emit::rust`, and later TypeScript) renders from it and from nothing
//! else. It names things as the documents do (wire names, schema names,
//! operation ids): turning them into a language's identifiers is the
//! emitter's job. It is serialisable so that templates can read it and a
//! snapshot test (`tests/model.rs`) shows every change to it.
//!
//! What the model knows:
//! - types: structs, closed and open enums, unions tagged by a property
//!   (`type`), and aliases, each defined once whichever documents name it;
//! - REST operations: id, method, path, parameters, body, answers, the
//!   error codes of each error status, which token kinds may call it,
//!   whether it may be retried, and how it pages;
//! - the WebSocket endpoint (path, query, token kinds) and the close-code
//!   table with the client's action for each code;
//! - the client behaviour table of `client.json` (retries, backoffs,
//!   pacing, fallback limits, how a socket is opened), read as it is
//!   written.

use serde::{Deserialize, Serialize};
use serde_json::Value;

/// Everything an emitter needs.
#[derive(Debug, Clone, Serialize)]
pub struct Model {
    /// `info.version` of `openapi.json`, the `protocol_version` of `hello`.
    pub protocol_version: String,
    /// Every named type, sorted by name.
    pub types: Vec<TypeDef>,
    /// Every REST operation, in the order of `openapi.json`.
    pub operations: Vec<Operation>,
    /// `GET /v1/ws`, which REST emitters skip (`x-byrd-websocket`).
    pub websocket: WebSocketEndpoint,
    /// `CloseCode` of `ws.schema.json`, in its order.
    pub close_codes: Vec<CloseCode>,
    /// `client.json`: retries, backoffs, pacing, fallback limits.
    pub client: ClientBehaviour,
}

/// A named type.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TypeDef {
    /// The schema's name (component, `$defs` key or union branch title).
    pub name: String,
    pub doc: Option<String>,
    /// The document that defines it (`ws.schema.json`, ...).
    pub document: String,
    #[serde(flatten)]
    pub shape: Shape,
}

/// What a named type is.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Shape {
    /// An object with known properties, in the document's order.
    Struct {
        fields: Vec<Field>,
        /// `additionalProperties: false`: unknown properties are an error.
        closed: bool,
        /// Set when the struct is a variant of a tagged union: the union
        /// writes and reads the tag, so the struct has no field for it.
        variant_of: Option<String>,
    },
    /// A string with a fixed set of values.
    Enum {
        values: Vec<EnumValue>,
        /// `x-byrd-open`: the protocol may add values within its version;
        /// decoders keep an unknown value instead of failing.
        open: bool,
    },
    /// An object whose `tag` property says which variant it is.
    Union {
        /// The discriminating property, `type` throughout Byrd.
        tag: String,
        variants: Vec<Variant>,
        /// `x-byrd-open`: decoders keep an unknown variant (tag and raw
        /// value) instead of failing.
        open: bool,
    },
    /// Another name for a type.
    Alias { target: TypeRef },
}

/// A property of a struct.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Field {
    /// The name on the wire.
    pub name: String,
    pub doc: Option<String>,
    #[serde(rename = "type")]
    pub ty: TypeRef,
    /// Listed in `required`: always present on the wire (maybe `null`).
    pub required: bool,
    /// `null` is a valid value.
    pub nullable: bool,
    /// The schema's `default`, for a property that may be absent.
    pub default: Option<Value>,
}

/// One value of an enum.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct EnumValue {
    /// The string on the wire.
    pub value: String,
    pub doc: Option<String>,
    /// `x-byrd-http-status`: the HTTP status a REST error with this code
    /// carries (error codes only).
    pub http_status: Option<u16>,
}

/// One variant of a tagged union.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Variant {
    /// The tag's value on the wire (`hello`, `agent`, ...).
    pub tag_value: String,
    /// The struct holding the variant's other properties.
    pub type_name: String,
}

/// A use of a type, in a field, a parameter or a body.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum TypeRef {
    String,
    /// A string in `uuid` format.
    Uuid,
    /// A string in `date-time` format (RFC 3339).
    DateTime,
    Boolean,
    Integer {
        format: IntegerFormat,
    },
    Array {
        items: Box<TypeRef>,
    },
    /// A named type of the model.
    Named {
        name: String,
    },
}

/// The range of an integer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum IntegerFormat {
    /// `format: int32`.
    Int32,
    /// `format: int64`, or no format and no lower bound.
    Int64,
    /// No format and `minimum: 0`: a count or a duration.
    Unsigned,
}

/// A REST operation.
#[derive(Debug, Clone, Serialize)]
pub struct Operation {
    /// `operationId`, stable within the protocol version.
    pub id: String,
    /// Upper case: `GET`, `POST`, ...
    pub method: String,
    /// The path template, `{name}` for each path parameter.
    pub path: String,
    pub summary: Option<String>,
    pub description: Option<String>,
    pub path_params: Vec<Param>,
    pub query_params: Vec<Param>,
    pub body: Option<Body>,
    /// Every documented answer, `default` last.
    pub responses: Vec<Response>,
    /// Which token kinds may call it; empty when it needs no token.
    pub tokens: Vec<TokenKind>,
    /// The method is idempotent (RFC 9110, section 9.2.2), or the body
    /// carries an idempotency key (`x-byrd-idempotency-key`), so a failed
    /// attempt may be repeated without doing the work twice.
    pub idempotent: bool,
    /// How the answer pages, when it does.
    pub pagination: Option<Pagination>,
    /// Safe to repeat for this long after the first attempt although not
    /// idempotent (`rest.replayable` of `client.json`).
    pub replay_window_ms: Option<u64>,
}

/// A path or query parameter.
#[derive(Debug, Clone, Serialize)]
pub struct Param {
    pub name: String,
    pub doc: Option<String>,
    #[serde(rename = "type")]
    pub ty: TypeRef,
    pub required: bool,
}

/// A JSON request body.
#[derive(Debug, Clone, Serialize)]
pub struct Body {
    #[serde(rename = "type")]
    pub ty: TypeRef,
    /// When false the body may be left out altogether.
    pub required: bool,
}

/// One documented answer of an operation.
#[derive(Debug, Clone, Serialize)]
pub struct Response {
    /// The HTTP status, or `None` for `default` (any other status).
    pub status: Option<u16>,
    pub description: String,
    /// The JSON body, when there is one.
    pub body: Option<TypeRef>,
    /// `x-byrd-error-codes`: the error codes this answer may carry.
    pub error_codes: Vec<String>,
}

impl Response {
    /// A 2xx answer.
    pub fn is_success(&self) -> bool {
        matches!(self.status, Some(200..=299))
    }
}

/// Which kind of token a security scheme carries (`x-byrd-token-type`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum TokenKind {
    Agent,
    Guest,
}

/// How an operation's answers page.
#[derive(Debug, Clone, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Pagination {
    /// Repeat the request with query parameter `param` set to the answer's
    /// `next_field` until that is `null`; each answer's `items_field`
    /// array holds the items.
    Cursor {
        param: String,
        next_field: String,
        items_field: String,
        item: TypeRef,
    },
}

/// The WebSocket endpoint.
#[derive(Debug, Clone, Serialize)]
pub struct WebSocketEndpoint {
    pub path: String,
    /// Query parameters besides the token's.
    pub query_params: Vec<Param>,
    /// The query parameter that may carry the token.
    pub token_param: String,
    pub tokens: Vec<TokenKind>,
}

/// One row of the close-code table.
#[derive(Debug, Clone, Serialize)]
pub struct CloseCode {
    pub code: u16,
    /// The branch's title, which is also the close frame's reason text.
    pub name: String,
    pub doc: Option<String>,
    /// `x-byrd-client-action`.
    pub action: CloseAction,
}

/// What a client does after a close (`x-byrd-client-action`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum CloseAction {
    Reconnect,
    RefreshTokenThenReconnect,
    Stop,
}

impl Model {
    /// The named type `name`.
    pub fn type_def(&self, name: &str) -> Option<&TypeDef> {
        self.types.iter().find(|t| t.name == name)
    }
}

/// `client.json`: what every SDK does when a call fails or a connection
/// drops. Read as it is written; durations in milliseconds.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ClientBehaviour {
    pub reconnect: Reconnect,
    pub rest: RestRetries,
    /// Refused frames the client sends again, or reconnects for.
    pub frames: Vec<FrameRetry>,
    pub frame_backoff: Backoff,
    pub pacing: Pacing,
    pub sessions: Sessions,
    /// `keep_position`: subscribing again to a followed chat changes nothing.
    pub subscribe_again: String,
    pub send_queue: u32,
    pub gap_page: u32,
    pub socket_auth: SocketAuth,
}

/// Full-jitter backoff: before retry `n`, a random wait in
/// `[0, min(cap, base × factor^(n-1))]`, at least `floor`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Backoff {
    pub base_ms: u64,
    pub factor: u32,
    pub floor_ms: u64,
    pub cap_ms: u64,
}

/// Reconnecting the WebSocket.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Reconnect {
    pub backoff: Backoff,
    /// Up this long after `hello`: the retry count starts over.
    pub reset_after_connected_ms: u64,
    /// No `hello` this long after an attempt started: it is lost.
    pub connect_timeout_ms: u64,
}

/// REST retries.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RestRetries {
    pub max_retries: u32,
    pub backoff: Backoff,
    pub max_retry_after_ms: u64,
    /// The first matching rule decides.
    pub rules: Vec<RestRule>,
    pub replayable: Vec<Replayable>,
}

/// One REST retry rule.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RestRule {
    pub on: Failure,
    /// `every` or `safe`.
    pub operations: RuleOperations,
    pub wait: RuleWait,
    pub why: String,
}

/// A failed attempt a rule matches.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Failure {
    Code(String),
    Status(u16),
    Transport,
}

/// Which operations a rule retries.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RuleOperations {
    Every,
    Safe,
}

/// What a retry waits for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RuleWait {
    TokenRefresh,
    RetryAfter,
    Backoff,
}

/// An operation safe to repeat within a window.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Replayable {
    pub operation: String,
    pub within_ms: u64,
    pub why: String,
}

/// A refused frame the client does not pass on.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FrameRetry {
    /// The frame's `type`, or `None` for a refusal without `ref`.
    pub frame: Option<String>,
    pub code: String,
    /// `send_again` or `resend_unanswered`.
    pub action: FrameAction,
    pub why: String,
}

/// What the client does about a refused frame.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FrameAction {
    SendAgain,
    ResendUnanswered,
}

/// Pacing and the limits assumed before `hello`.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Pacing {
    pub margin: f64,
    pub fallback_frames_per_second: u32,
    pub fallback_frame_burst: u32,
    pub fallback_max_frame_bytes: u32,
    /// Frames that may wait for the pace; past them `queue_full`.
    pub paced_frames: u32,
    pub hello_bounds: HelloBounds,
}

/// The range each `hello` value is held to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HelloBounds {
    pub heartbeat_interval_ms: Bound,
    pub frames_per_second: Bound,
    pub frame_burst: Bound,
    pub max_frame_bytes: Bound,
}

/// An inclusive range.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Bound {
    pub min: u64,
    pub max: u64,
}

/// Keeping tokens fresh.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Sessions {
    pub refresh_margin_ms: u64,
    pub send_refreshed_token_on_socket: bool,
}

/// How a client opens its WebSocket, and what a failed ticket does.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SocketAuth {
    /// What opens a socket unless the application chooses the other.
    pub default: SocketCredential,
    /// `before_every_connect`: a ticket is never kept for a later connect.
    pub fetch: String,
    pub why: String,
    /// A failed ticket request: the first matching rule decides.
    pub ticket_failures: Vec<TicketRule>,
    /// Any other failed ticket request.
    pub otherwise: TicketOtherwise,
    /// A handshake refused with `ticket_invalid`.
    pub ticket_invalid: TicketInvalid,
}

/// What a handshake presents.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SocketCredential {
    Ticket,
    Token,
}

/// A failed ticket request a rule matches, and what it does.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TicketRule {
    pub on: Failure,
    pub action: TicketAction,
    pub why: String,
}

/// What any other failed ticket request does.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TicketOtherwise {
    pub action: TicketAction,
    pub why: String,
}

/// What a client does when it could not get a ticket.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TicketAction {
    /// The server has no tickets: the token from now on.
    UseToken,
    /// As a handshake refusing the token: refresh an expired one, else end.
    TokenRefused,
    /// The attempt fails; the next waits the reconnect backoff.
    FailAttempt,
}

/// A handshake refused with `ticket_invalid`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TicketInvalid {
    /// Fresh tickets fetched and tried at once, in a row, before the
    /// attempt fails.
    pub fresh_tickets_at_once: u32,
    pub why: String,
}
