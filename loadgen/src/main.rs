//! `byrd-loadgen`: measures a Byrd server the way an operator sizing a
//! deployment would.
//!
//! Two scenarios, each against a server it starts itself (the release
//! binary, as its own process, on a fresh data folder) or against one
//! already running (`--url`):
//!
//! - `throughput`: open-loop load. Guests send at a fixed total rate
//!   whatever the server does; every latency counts from the message's
//!   intended send time, so a server that falls behind shows its queueing
//!   instead of slowing the load down (no coordinated omission).
//! - `idle`: memory per idle authenticated WebSocket.
//!
//! It prints numbers and asserts nothing.

mod idle;
mod pacer;
mod proc_stats;
mod rest;
mod tally;
mod target;
mod throughput;
mod ws;

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

use crate::target::{Target, TargetArgs};

#[derive(Debug, Parser)]
#[command(
    name = "byrd-loadgen",
    version,
    about = "Load generator for Byrd servers"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Open-loop message load: guests send, subscribed agents receive.
    Throughput(ThroughputArgs),
    /// Memory per idle authenticated guest WebSocket.
    Idle(IdleArgs),
}

#[derive(Debug, Args)]
pub struct ThroughputArgs {
    /// Offered rates to run one after another, in messages a second over
    /// all guests.
    #[arg(long, value_delimiter = ',', default_values_t = [1000u32, 5000, 10000])]
    rates: Vec<u32>,
    /// Seconds measured at each rate.
    #[arg(long, default_value_t = 10)]
    duration: u64,
    /// Seconds of load before measuring starts, at each rate.
    #[arg(long, default_value_t = 2)]
    warmup: u64,
    /// Seconds to wait after the last send for late deliveries.
    #[arg(long, default_value_t = 10)]
    drain: u64,
    /// Chats, each with one guest socket that sends.
    #[arg(long, default_value_t = 100)]
    chats: usize,
    /// Agent sockets; each subscribes to an equal share of the chats.
    #[arg(long, default_value_t = 10)]
    agents: usize,
    /// Characters in each message body.
    #[arg(long, default_value_t = 40)]
    body_chars: usize,
    #[command(flatten)]
    target: TargetArgs,
}

#[derive(Debug, Args)]
pub struct IdleArgs {
    /// Idle sockets to open.
    #[arg(long, default_value_t = 10_000)]
    sockets: usize,
    #[command(flatten)]
    target: TargetArgs,
}

/// Where `cargo build --release` puts the server, from the workspace root.
pub fn default_server_binary() -> PathBuf {
    PathBuf::from("target/release/byrd")
}

#[tokio::main]
async fn main() -> std::process::ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Throughput(args) => match Target::open(&args.target).await {
            Ok(target) => throughput::run(&target, &args).await,
            Err(error) => Err(error),
        },
        Command::Idle(args) => match Target::open(&args.target).await {
            Ok(target) => idle::run(&target, &args).await,
            Err(error) => Err(error),
        },
    };
    match result {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("byrd-loadgen: {error:#}");
            std::process::ExitCode::FAILURE
        }
    }
}
