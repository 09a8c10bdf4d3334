//! `byrd-loadgen`: measures a Byrd server the way an operator sizing a
//! deployment would.
//!
//! Four scenarios, each against a server it starts itself (the release
//! binary, as its own process, on a fresh data folder) or against one
//! already running (`--url`):
//!
//! - `throughput`: open-loop load. Guests send at a fixed total rate
//!   whatever the server does; every latency counts from the message's
//!   intended send time, so a server that falls behind shows its queueing
//!   instead of slowing the load down (no coordinated omission).
//! - `rest-sends` and `handshakes`: the same open loop for independent
//!   calls, each verifying a token: REST sends, and WebSocket connects.
//! - `idle`: memory per idle authenticated WebSocket.
//!
//! It prints numbers and asserts nothing.

mod callers;
mod handshakes;
mod idle;
mod open_loop;
mod pacer;
mod proc_stats;
mod rest;
mod rest_sends;
mod sources;
mod storm;
mod tally;
mod target;
mod throughput;
mod ws;

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

use crate::open_loop::StepArgs;
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
    /// Open-loop `POST /v1/chats/{id}/messages`: REST sends per second,
    /// each authenticated by a token the server verifies.
    ///
    /// At each rate, send `n` starts at `start + n / rate` whatever earlier
    /// sends did, from guests (and agents) taking turns, over a keep-alive
    /// pool of `--connections`; a send waits for a free connection, and
    /// the wait counts in its latency. Reports per rate the
    /// sends stored (201) within the measured window a second, latency from
    /// the scheduled start to the answer (p50, p90, p99, max), refusals by
    /// status and code, sends unfinished after the drain, and the server's
    /// CPU and memory. Compare `BYRD_JWT_ALGORITHM=eddsa` and `hs256` (passed
    /// to the started server) to see what verifying a signature costs.
    RestSends(RestSendsArgs),
    /// Open-loop authenticated WebSocket handshakes: accepted a second.
    ///
    /// At each rate, connect `n` starts at `start + n / rate`: a TCP
    /// connection (spread over loopback source addresses), the upgrade with
    /// the token in the URL (or a ticket from `POST /v1/ws/tickets` with
    /// `--ticket`), then `hello`, and the socket is closed. Reports per rate
    /// the hellos within the measured window a second, time from the
    /// scheduled start to `hello` (p50, p90, p99, max), refusals by status
    /// and code, and the server's CPU and memory.
    Handshakes(HandshakesArgs),
    /// Memory per idle authenticated guest WebSocket.
    Idle(IdleArgs),
    /// Every socket cut at once while messages flow; every client
    /// reconnects with the SDKs' backoff and resumes from its last `seq`.
    ///
    /// Reports how long until every client had resumed, message latency
    /// before the cut and until the last resume, refused reconnects, the
    /// server's CPU and peak memory meanwhile, and anything lost.
    Storm(StormArgs),
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
pub struct RestSendsArgs {
    /// Offered rates to run one after another, in sends a second.
    #[arg(long, value_delimiter = ',', default_values_t = [2000u32, 5000, 10000, 20000])]
    rates: Vec<u32>,
    #[command(flatten)]
    steps: StepArgs,
    /// Chats; each one's guest sends to it.
    #[arg(long, default_value_t = 100)]
    chats: usize,
    /// Agents that send too, agent `a` to chat `a % chats`.
    #[arg(long, default_value_t = 0)]
    agents: usize,
    /// Characters in each message body.
    #[arg(long, default_value_t = 40)]
    body_chars: usize,
    /// Keep-alive connections at most; a send waits for a free one.
    #[arg(long, default_value_t = 256, value_parser = clap::value_parser!(u16).range(1..))]
    connections: u16,
    #[command(flatten)]
    target: TargetArgs,
}

#[derive(Debug, Args)]
pub struct HandshakesArgs {
    /// Offered rates to run one after another, in handshakes a second.
    #[arg(long, value_delimiter = ',', default_values_t = [500u32, 1000, 2000, 4000])]
    rates: Vec<u32>,
    #[command(flatten)]
    steps: StepArgs,
    /// Chats; their guests' tokens take turns.
    #[arg(long, default_value_t = 100)]
    chats: usize,
    /// Agents whose tokens take turns with the guests'.
    #[arg(long, default_value_t = 0)]
    agents: usize,
    /// Upgrade with a ticket from `POST /v1/ws/tickets` (timed too) rather
    /// than the token in the URL.
    #[arg(long)]
    ticket: bool,
    /// Loopback source addresses (`127.0.0.1` up) to spread connections
    /// over, each with its own ports; used only for a server on an IPv4
    /// loopback address.
    #[arg(long, default_value_t = 16, value_parser = clap::value_parser!(u8).range(1..))]
    sources: u8,
    #[command(flatten)]
    target: TargetArgs,
}

#[derive(Debug, Args)]
pub struct IdleArgs {
    /// Idle sockets to open.
    #[arg(long, default_value_t = 10_000)]
    sockets: usize,
    /// Loopback source addresses (`127.0.0.1` up) to spread the sockets
    /// over: one address has about 28,000 ports. Used only for a server
    /// on an IPv4 loopback address.
    #[arg(long, default_value_t = 16, value_parser = clap::value_parser!(u8).range(1..))]
    sources: u8,
    #[command(flatten)]
    target: TargetArgs,
}

#[derive(Debug, Args)]
pub struct StormArgs {
    /// Guests, each in a chat of its own with one socket.
    #[arg(long, default_value_t = 10_000)]
    guests: usize,
    /// Agents, each following an equal share of the chats (at most the
    /// server's `--ws-max-subscriptions` each).
    #[arg(long, default_value_t = 20)]
    agents: usize,
    /// Messages a second sent over REST to the chats in turn, from the
    /// first subscription to the end.
    #[arg(long, default_value_t = 500)]
    rate: u32,
    /// Seconds of messages before the cut.
    #[arg(long, default_value_t = 5)]
    before: u64,
    /// Seconds to wait for every client to resume.
    #[arg(long, default_value_t = 60)]
    within: u64,
    /// Seconds of messages after every client is back.
    #[arg(long, default_value_t = 5)]
    after: u64,
    /// Loopback source addresses to spread the sockets over.
    #[arg(long, default_value_t = 16, value_parser = clap::value_parser!(u8).range(1..))]
    sources: u8,
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
    // Every socket is a descriptor, here and in the server started below,
    // which inherits the limit.
    match rlimit::increase_nofile_limit(u64::MAX) {
        Ok(limit) => eprintln!("open-file limit {limit}"),
        Err(error) => eprintln!("byrd-loadgen: cannot raise the open-file limit: {error}"),
    }
    let result = match cli.command {
        Command::Throughput(args) => match Target::open(&args.target).await {
            Ok(target) => throughput::run(&target, &args).await,
            Err(error) => Err(error),
        },
        Command::RestSends(args) => match Target::open(&args.target).await {
            Ok(target) => rest_sends::run(&target, &args).await,
            Err(error) => Err(error),
        },
        Command::Handshakes(args) => match Target::open(&args.target).await {
            Ok(target) => handshakes::run(&target, &args).await,
            Err(error) => Err(error),
        },
        Command::Idle(args) => match Target::open(&args.target).await {
            Ok(target) => idle::run(&target, &args).await,
            Err(error) => Err(error),
        },
        Command::Storm(args) => match Target::open(&args.target).await {
            Ok(target) => storm::run(&target, &args).await,
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

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(args: &[&str]) -> Result<Command, clap::Error> {
        Cli::try_parse_from(std::iter::once("byrd-loadgen").chain(args.iter().copied()))
            .map(|cli| cli.command)
    }

    #[test]
    fn rest_sends_takes_rates_window_and_callers() {
        let Ok(Command::RestSends(args)) = parse(&[
            "rest-sends",
            "--rates",
            "2000,5000",
            "--duration",
            "5",
            "--agents",
            "4",
        ]) else {
            panic!("rest-sends parses");
        };
        assert_eq!(args.rates, [2000, 5000]);
        assert_eq!((args.steps.duration, args.steps.warmup), (5, 2));
        assert_eq!((args.chats, args.agents), (100, 4));
        assert_eq!(args.connections, 256);
    }

    #[test]
    fn handshakes_default_to_tokens_over_sixteen_sources() {
        let Ok(Command::Handshakes(args)) = parse(&["handshakes"]) else {
            panic!("handshakes parses");
        };
        assert_eq!(args.rates, [500, 1000, 2000, 4000]);
        assert!(!args.ticket);
        assert_eq!(args.sources, 16);

        let Ok(Command::Handshakes(args)) = parse(&["handshakes", "--ticket", "--sources", "64"])
        else {
            panic!("handshakes --ticket parses");
        };
        assert!(args.ticket);
        assert_eq!(args.sources, 64);
    }

    #[test]
    fn counts_out_of_range_are_refused() {
        assert!(parse(&["handshakes", "--sources", "0"]).is_err());
        assert!(parse(&["handshakes", "--sources", "300"]).is_err());
        assert!(parse(&["rest-sends", "--rates", "fast"]).is_err());
        assert!(parse(&["rest-sends", "--connections", "0"]).is_err());
    }

    #[test]
    fn a_storm_defaults_to_ten_thousand_guests_and_twenty_agents() {
        let Ok(Command::Storm(args)) = parse(&["storm"]) else {
            panic!("storm parses");
        };
        assert_eq!((args.guests, args.agents, args.rate), (10_000, 20, 500));
        let Ok(Command::Storm(args)) = parse(&["storm", "--guests", "18000", "--rate", "1000"])
        else {
            panic!("storm parses");
        };
        assert_eq!((args.guests, args.rate), (18_000, 1000));
        assert!(parse(&["storm", "--sources", "0"]).is_err());
    }
}
