//! The view of the client behaviour table that every language renders:
//! one shape, so the Rust and TypeScript tables cannot disagree on what
//! they carry. Each language says only how a value is written
//! ([`Syntax`]); its template lays the constants out.

use serde::Serialize;

use crate::model::{
    Backoff, ClientBehaviour, Failure, FrameAction, HelloBounds, RuleOperations, RuleWait,
    SocketCredential, TicketAction,
};

/// How one language writes the table's values.
pub trait Syntax {
    /// A backoff literal.
    fn backoff(b: &Backoff) -> String;
    /// The condition a REST rule matches on.
    fn failure(on: &Failure) -> String;
    fn operations(operations: RuleOperations) -> &'static str;
    fn wait(wait: RuleWait) -> &'static str;
    /// The frame a frame rule is about, or "any frame".
    fn frame(tag: Option<&str>) -> String;
    /// An error code.
    fn code(wire: &str) -> String;
    fn action(action: FrameAction) -> &'static str;
    /// What opens a socket.
    fn socket_credential(credential: SocketCredential) -> &'static str;
    /// What a failed ticket request does.
    fn ticket_action(action: TicketAction) -> &'static str;
}

#[derive(Serialize)]
pub struct ClientView {
    reconnect_backoff: String,
    reset_after_ms: u64,
    connect_timeout_ms: u64,
    rest_max_retries: u32,
    rest_backoff: String,
    rest_max_retry_after_ms: u64,
    frame_backoff: String,
    margin: String,
    fallback_frames_per_second: u32,
    fallback_frame_burst: u32,
    fallback_max_frame_bytes: u32,
    paced_frames: u32,
    hello_bounds: HelloBounds,
    refresh_margin_ms: u64,
    /// `true` or `false`, as both languages write it.
    send_refreshed_token: String,
    keep_position: String,
    send_queue: u32,
    gap_page: u32,
    rest_rules: Vec<RuleView>,
    frames: Vec<FrameView>,
    socket_auth: SocketAuthView,
}

#[derive(Serialize)]
struct SocketAuthView {
    default: &'static str,
    why: String,
    /// The rules, then the `otherwise` action with no condition.
    ticket_failures: Vec<TicketRuleView>,
    otherwise: TicketRuleView,
    fresh_tickets_at_once: u32,
    ticket_invalid_why: String,
}

#[derive(Serialize)]
struct TicketRuleView {
    why: String,
    /// The condition on the failure; empty for `otherwise`.
    on: String,
    action: &'static str,
}

#[derive(Serialize)]
struct RuleView {
    why: String,
    /// The condition on the failure.
    on: String,
    operations: &'static str,
    wait: &'static str,
}

#[derive(Serialize)]
struct FrameView {
    why: String,
    frame: String,
    code: String,
    action: &'static str,
}

impl ClientView {
    pub fn new<S: Syntax>(table: &ClientBehaviour) -> ClientView {
        let rest_rules = table
            .rest
            .rules
            .iter()
            .map(|rule| RuleView {
                why: rule.why.clone(),
                on: S::failure(&rule.on),
                operations: S::operations(rule.operations),
                wait: S::wait(rule.wait),
            })
            .collect();
        let frames = table
            .frames
            .iter()
            .map(|f| FrameView {
                why: f.why.clone(),
                frame: S::frame(f.frame.as_deref()),
                code: S::code(&f.code),
                action: S::action(f.action),
            })
            .collect();
        ClientView {
            reconnect_backoff: S::backoff(&table.reconnect.backoff),
            reset_after_ms: table.reconnect.reset_after_connected_ms,
            connect_timeout_ms: table.reconnect.connect_timeout_ms,
            rest_max_retries: table.rest.max_retries,
            rest_backoff: S::backoff(&table.rest.backoff),
            rest_max_retry_after_ms: table.rest.max_retry_after_ms,
            frame_backoff: S::backoff(&table.frame_backoff),
            margin: format!("{:?}", table.pacing.margin),
            fallback_frames_per_second: table.pacing.fallback_frames_per_second,
            fallback_frame_burst: table.pacing.fallback_frame_burst,
            fallback_max_frame_bytes: table.pacing.fallback_max_frame_bytes,
            paced_frames: table.pacing.paced_frames,
            hello_bounds: table.pacing.hello_bounds,
            refresh_margin_ms: table.sessions.refresh_margin_ms,
            send_refreshed_token: table.sessions.send_refreshed_token_on_socket.to_string(),
            keep_position: (table.subscribe_again == "keep_position").to_string(),
            send_queue: table.send_queue,
            gap_page: table.gap_page,
            rest_rules,
            frames,
            socket_auth: socket_auth_view::<S>(table),
        }
    }
}

fn socket_auth_view<S: Syntax>(table: &ClientBehaviour) -> SocketAuthView {
    let auth = &table.socket_auth;
    SocketAuthView {
        default: S::socket_credential(auth.default),
        why: auth.why.clone(),
        ticket_failures: auth
            .ticket_failures
            .iter()
            .map(|rule| TicketRuleView {
                why: rule.why.clone(),
                on: S::failure(&rule.on),
                action: S::ticket_action(rule.action),
            })
            .collect(),
        otherwise: TicketRuleView {
            why: auth.otherwise.why.clone(),
            on: String::new(),
            action: S::ticket_action(auth.otherwise.action),
        },
        fresh_tickets_at_once: auth.ticket_invalid.fresh_tickets_at_once,
        ticket_invalid_why: auth.ticket_invalid.why.clone(),
    }
}
