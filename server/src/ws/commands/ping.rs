//! `ping`: answered at once with `pong` and the same nonce.

use byrd_spec::ws::{PingFrame, ServerFrame};

use crate::error::ApiError;
use crate::ws::connection::Connection;

pub(super) async fn apply(connection: &mut Connection, frame: PingFrame) -> Result<bool, ApiError> {
    Ok(connection
        .send_frame(&ServerFrame::Pong { nonce: frame.nonce })
        .await)
}
