//! `client.json` into [`Model::client`](crate::model::Model::client), and
//! each replayable operation's window into its [`Operation`].

use std::path::Path;

use anyhow::{Context, bail};
use serde_json::Value;

use crate::model::{ClientBehaviour, Failure, Operation};

/// The file of the table, beside the other documents.
pub const FILE: &str = "client.json";

/// Reads the table, checking every name it gives: an operation id of
/// `openapi.json`, an error code of the spec, a frame of the client.
pub fn read_client(dir: &Path, operations: &mut [Operation]) -> anyhow::Result<ClientBehaviour> {
    let path = dir.join(FILE);
    let text = std::fs::read_to_string(&path)
        .with_context(|| format!("cannot read {}", path.display()))?;
    let mut document: Value =
        serde_json::from_str(&text).with_context(|| format!("{} is not JSON", path.display()))?;
    // The header is for people; the table is the rest.
    if let Some(object) = document.as_object_mut() {
        for key in ["$comment", "title", "description", "protocol_version"] {
            object.remove(key);
        }
    }
    let table: ClientBehaviour = serde_json::from_value(document).with_context(|| {
        format!(
            "{} does not hold the client behaviour table",
            path.display()
        )
    })?;
    for replayable in &table.rest.replayable {
        let Some(operation) = operations
            .iter_mut()
            .find(|op| op.id == replayable.operation)
        else {
            bail!(
                "{FILE} names operation `{}`, which openapi.json lacks",
                replayable.operation
            );
        };
        operation.replay_window_ms = Some(replayable.within_ms);
    }
    let failures = table.rest.rules.iter().map(|rule| &rule.on).chain(
        table
            .socket_auth
            .ticket_failures
            .iter()
            .map(|rule| &rule.on),
    );
    for on in failures {
        if let Failure::Status(status) = on
            && !(400..=599).contains(status)
        {
            bail!("{FILE} has a rule for status {status}, which is no error");
        }
    }
    if table.socket_auth.fetch != "before_every_connect" {
        bail!(
            "{FILE}: socket_auth.fetch {:?} is not a behaviour the SDKs know",
            table.socket_auth.fetch
        );
    }
    if table.subscribe_again != "keep_position" {
        bail!(
            "{FILE}: subscribe_again {:?} is not a behaviour the SDKs know",
            table.subscribe_again
        );
    }
    Ok(table)
}
