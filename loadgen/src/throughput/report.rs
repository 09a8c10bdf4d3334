//! The throughput scenario's output: a line per step as it ends, and a
//! closing table of every step.

use super::StepResult;
use crate::ThroughputArgs;

fn ms(us: u64) -> f64 {
    us as f64 / 1000.0
}

pub(super) fn print_step(r: &StepResult) {
    let l = &r.latency;
    println!(
        "offered {:>6}/s  sent {:>8.0}/s  acked {:>8.0}/s  delivered {:>8.0}/s  latency p50 {:.2} ms  p90 {:.2} ms  p99 {:.2} ms  p99.9 {:.2} ms  max {:.2} ms  (ack p99 {:.2} ms)  send lag p50 {:.2} ms p99 {:.2} ms  wake delay p99 {:.2} ms p99.9 {:.2} ms  unacked {}  undelivered {}  server CPU {}  RSS {}  load generator CPU {:.0}%{}",
        r.offered,
        r.sent_rate,
        r.acked_rate,
        r.delivered_rate,
        ms(l.value_at_quantile(0.5)),
        ms(l.value_at_quantile(0.9)),
        ms(l.value_at_quantile(0.99)),
        ms(l.value_at_quantile(0.999)),
        ms(l.max()),
        ms(r.ack_p99_us),
        ms(r.send_lag.value_at_quantile(0.5)),
        ms(r.send_lag.value_at_quantile(0.99)),
        ms(r.oversleep.value_at_quantile(0.99)),
        ms(r.oversleep.value_at_quantile(0.999)),
        r.unacked,
        r.undelivered,
        r.server_cpu.map_or("n/a".into(), |c| format!("{c:.0}%")),
        r.server_rss_kib
            .map_or("n/a".into(), |k| format!("{:.1} MiB", k as f64 / 1024.0)),
        r.loadgen_cpu,
        if r.errors.is_empty() {
            String::new()
        } else {
            format!("  errors {:?}", r.errors)
        }
    );
}

pub(super) fn print_table(args: &ThroughputArgs, results: &[StepResult]) {
    println!();
    println!(
        "{} chats (one guest socket each), {} agent sockets; {} s measured after {} s warm-up at each rate; latency from intended send to delivery at the agent",
        args.chats, args.agents, args.duration, args.warmup
    );
    println!(
        "| offered/s | sent/s | acked/s | delivered/s | p50 ms | p90 ms | p99 ms | p99.9 ms | max ms | unacked | server CPU | server RSS | send lag p99 ms | wake delay p99 ms |"
    );
    println!("|---|---|---|---|---|---|---|---|---|---|---|---|---|---|");
    for r in results {
        let l = &r.latency;
        println!(
            "| {} | {:.0} | {:.0} | {:.0} | {:.2} | {:.2} | {:.2} | {:.2} | {:.2} | {} | {} | {} | {:.2} | {:.2} |",
            r.offered,
            r.sent_rate,
            r.acked_rate,
            r.delivered_rate,
            ms(l.value_at_quantile(0.5)),
            ms(l.value_at_quantile(0.9)),
            ms(l.value_at_quantile(0.99)),
            ms(l.value_at_quantile(0.999)),
            ms(l.max()),
            r.unacked,
            r.server_cpu.map_or("n/a".into(), |c| format!("{c:.0}%")),
            r.server_rss_kib
                .map_or("n/a".into(), |k| format!("{:.1} MiB", k as f64 / 1024.0)),
            ms(r.send_lag.value_at_quantile(0.99)),
            ms(r.oversleep.value_at_quantile(0.99)),
        );
    }
}
