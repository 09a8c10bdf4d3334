//! `ping`: answered at once with `pong` and the same nonce.

use byrd_spec::ws::{PingFrame, ServerFrame};

use crate::ws::exit::CommandError;
use crate::ws::socket::Socket;

pub(super) async fn apply(out: &mut Socket, frame: PingFrame) -> Result<(), CommandError> {
    out.send_frame(&ServerFrame::Pong { nonce: frame.nonce })
        .await?;
    Ok(())
}
