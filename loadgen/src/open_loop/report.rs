//! An open-loop run's output: a line per step as it ends, and a closing
//! table of every step.

use super::{Run, StepResult};

fn ms(us: u64) -> f64 {
    us as f64 / 1000.0
}

fn cpu(r: &StepResult) -> String {
    r.server_cpu.map_or("n/a".into(), |c| format!("{c:.0}%"))
}

fn rss(r: &StepResult) -> String {
    r.server_rss_kib
        .map_or("n/a".into(), |k| format!("{:.1} MiB", k as f64 / 1024.0))
}

fn failures(r: &StepResult) -> String {
    if r.failures.is_empty() {
        return "none".into();
    }
    r.failures
        .iter()
        .map(|(kind, n)| format!("{n} {kind}"))
        .collect::<Vec<_>>()
        .join(", ")
}

pub(super) fn print_step(calls: &str, r: &StepResult) {
    let l = &r.latency;
    println!(
        "offered {:>6}/s  started {:>8.0}/s  done {:>8.0}/s  latency p50 {:.2} ms  p90 {:.2} ms  p99 {:.2} ms  max {:.2} ms  unfinished {}  most in flight {}  failed: {}  server CPU {}  RSS {}  load generator CPU {:.0}%  wake delay p99 {:.2} ms  ({calls})",
        r.offered,
        r.started_rate,
        r.done_rate,
        ms(l.value_at_quantile(0.5)),
        ms(l.value_at_quantile(0.9)),
        ms(l.value_at_quantile(0.99)),
        ms(l.max()),
        r.unfinished,
        r.most_in_flight,
        failures(r),
        cpu(r),
        rss(r),
        r.loadgen_cpu,
        ms(r.wake_delay.value_at_quantile(0.99)),
    );
}

pub(super) fn print_table(run: &Run<'_>, results: &[StepResult]) {
    println!();
    println!(
        "{}; {} s measured after {} s warm-up at each rate; latency from the scheduled start to success",
        run.setting, run.steps.duration, run.steps.warmup
    );
    println!(
        "| offered/s | {calls} done/s | p50 ms | p90 ms | p99 ms | max ms | failed | unfinished | most in flight | server CPU | server RSS | load generator CPU |",
        calls = run.calls
    );
    println!("|---|---|---|---|---|---|---|---|---|---|---|---|");
    for r in results {
        let l = &r.latency;
        println!(
            "| {} | {:.0} | {:.2} | {:.2} | {:.2} | {:.2} | {} | {} | {} | {} | {} | {:.0}% |",
            r.offered,
            r.done_rate,
            ms(l.value_at_quantile(0.5)),
            ms(l.value_at_quantile(0.9)),
            ms(l.value_at_quantile(0.99)),
            ms(l.max()),
            failures(r),
            r.unfinished,
            r.most_in_flight,
            cpu(r),
            rss(r),
            r.loadgen_cpu,
        );
    }
}
