//! Closing chats nobody took: every node sweeps, now and then, the open
//! chats quiet for the idle time (`--chat-idle-close-secs`) and closes
//! them through the store, which announces each as `chat_updated` like an
//! agent's close, with `close_reason: idle`.
//!
//! Nodes need not agree on who sweeps: the store's conditional update
//! closes a chat only while it is still open and still quiet, so two nodes
//! sweeping at once close each chat once, and a chat an agent took or a
//! visitor wrote in meanwhile stays open.

use std::time::Duration;

use crate::state::AppState;
use crate::store::IdleClose;

/// How often a node sweeps: a quarter of the idle time, so a chat closes
/// at most a quarter late, within a floor that keeps short test settings
/// from spinning and a ceiling for long ones.
fn sweep_interval(idle: Duration) -> Duration {
    (idle / 4).clamp(Duration::from_millis(200), Duration::from_secs(60))
}

/// Sweeps until the task is aborted; returns at once when idle chats are
/// never closed.
pub async fn run(state: AppState) {
    let Some(idle) = state.settings.limits.chat_idle_close else {
        return;
    };
    let mut tick = tokio::time::interval(sweep_interval(idle));
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tick.tick().await;
        match state.store.close_idle_chats(IdleClose { idle }).await {
            Ok(closed) if !closed.is_empty() => {
                metrics::counter!("byrd_chats_idle_closed_total").increment(closed.len() as u64);
                tracing::info!(closed = closed.len(), "idle chats closed");
                // A full batch means more are waiting: sweep again at once.
                if closed.len() >= IdleClose::BATCH as usize {
                    tick.reset_immediately();
                }
            }
            Ok(_) => {}
            Err(error) => tracing::warn!(error = format!("{error:#}"), "idle sweep failed"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_sweep_comes_a_quarter_of_the_idle_time_apart_within_bounds() {
        assert_eq!(
            sweep_interval(Duration::from_secs(3600)),
            Duration::from_secs(60)
        );
        assert_eq!(
            sweep_interval(Duration::from_secs(120)),
            Duration::from_secs(30)
        );
        assert_eq!(
            sweep_interval(Duration::from_secs(1)),
            Duration::from_millis(250)
        );
        assert_eq!(
            sweep_interval(Duration::from_millis(100)),
            Duration::from_millis(200)
        );
    }
}
