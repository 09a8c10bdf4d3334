//! Presence: which agents are online, as this node's agent connections
//! are told.
//!
//! An agent is online while it has a connection here or on another node
//! (as the cluster last reported). Its first connection and its last one
//! are what change it; each change is announced once to every agent
//! connection here, and rings the relay so the other nodes read the
//! cluster's presence again.

use std::collections::{HashMap, HashSet};

use byrd_spec::ws::{PresenceStatus, ServerFrame};
use uuid::Uuid;

use super::fanout::{self, Outbound};
use super::{Hub, HubState};

#[derive(Debug, Default)]
pub(super) struct Presence {
    /// Open connections per agent, here.
    connections: HashMap<Uuid, usize>,
    /// Agents the cluster reports online on other nodes; empty alone.
    remote_online: HashSet<Uuid>,
    /// Agents this node's agent connections were told are online.
    announced_online: HashSet<Uuid>,
}

impl Presence {
    /// The agents online but `agent`: what a new connection of `agent`
    /// is told (its own earlier connections are no news to it).
    pub fn online_besides(&self, agent: Uuid) -> Vec<Uuid> {
        self.announced_online
            .iter()
            .copied()
            .filter(|online| *online != agent)
            .collect()
    }
}

/// Counts a connection of `agent`; true when it is its first here.
pub(super) fn agent_connected(state: &mut HubState, agent: Uuid) -> bool {
    let count = state.presence.connections.entry(agent).or_insert(0);
    *count += 1;
    let first = *count == 1;
    if first {
        update(state, agent);
    }
    first
}

/// Counts a connection of `agent` gone; true when it was its last here.
pub(super) fn agent_disconnected(state: &mut HubState, agent: Uuid) -> bool {
    let remaining = state.presence.connections.get_mut(&agent).map(|count| {
        *count -= 1;
        *count
    });
    let last = remaining == Some(0);
    if last {
        state.presence.connections.remove(&agent);
        update(state, agent);
    }
    last
}

/// Announces `agent` online or offline to this node's agents when that
/// changed.
fn update(state: &mut HubState, agent: Uuid) {
    let presence = &mut state.presence;
    let online =
        presence.connections.contains_key(&agent) || presence.remote_online.contains(&agent);
    let changed = if online {
        presence.announced_online.insert(agent)
    } else {
        presence.announced_online.remove(&agent)
    };
    if changed {
        let status = if online {
            PresenceStatus::Online
        } else {
            PresenceStatus::Offline
        };
        let frame = fanout::render(&ServerFrame::Presence {
            agent_id: agent,
            status,
        });
        fanout::to_agents(state, &Outbound::Frame(frame));
    }
}

impl Hub {
    /// Agents with a connection to this node.
    pub fn local_agents(&self) -> Vec<Uuid> {
        self.lock().presence.connections.keys().copied().collect()
    }

    /// The agents online on other nodes, as the cluster last read them;
    /// agents whose status changes are announced here.
    pub fn set_remote_online(&self, agents: HashSet<Uuid>) {
        let mut state = self.lock();
        let changed: Vec<Uuid> = state
            .presence
            .remote_online
            .symmetric_difference(&agents)
            .copied()
            .collect();
        state.presence.remote_online = agents;
        for agent in changed {
            update(&mut state, agent);
        }
    }

    pub(super) fn ring_presence(&self) {
        if let Some(relay) = self.links.relay.get() {
            relay.presence_changed();
        }
    }
}
