//! Resident memory and CPU time of a process, read from /proc.

use std::time::Duration;

/// One reading of a process.
#[derive(Debug, Clone, Copy, Default)]
pub struct ProcSample {
    /// Resident memory, KiB (`VmRSS`).
    pub rss_kib: u64,
    /// User plus system CPU time.
    pub cpu: Duration,
}

/// Reads `pid` (`None` for this process); `None` when it is gone or /proc
/// is not there.
pub fn sample(pid: Option<u32>) -> Option<ProcSample> {
    let dir = match pid {
        Some(pid) => format!("/proc/{pid}"),
        None => "/proc/self".to_owned(),
    };
    let status = std::fs::read_to_string(format!("{dir}/status")).ok()?;
    let field = |name: &str| {
        status
            .lines()
            .find_map(|line| line.strip_prefix(name))
            .and_then(|rest| rest.trim().trim_end_matches("kB").trim().parse().ok())
            .unwrap_or(0)
    };
    let stat = std::fs::read_to_string(format!("{dir}/stat")).ok()?;
    // The command name may hold spaces; the fields after it may not.
    let after_name = &stat[stat.rfind(')')? + 1..];
    let fields: Vec<&str> = after_name.split_whitespace().collect();
    // utime and stime are fields 14 and 15 of stat(5); the first field
    // after the name is field 3.
    let ticks: u64 = fields.get(11)?.parse::<u64>().ok()? + fields.get(12)?.parse::<u64>().ok()?;
    Some(ProcSample {
        rss_kib: field("VmRSS:"),
        cpu: Duration::from_secs_f64(ticks as f64 / clock_ticks_per_second()),
    })
}

/// `sysconf(_SC_CLK_TCK)`, asked of `getconf` once; 100 on Linux in practice.
fn clock_ticks_per_second() -> f64 {
    static TICKS: std::sync::OnceLock<f64> = std::sync::OnceLock::new();
    *TICKS.get_or_init(|| {
        std::process::Command::new("getconf")
            .arg("CLK_TCK")
            .output()
            .ok()
            .and_then(|out| String::from_utf8(out.stdout).ok())
            .and_then(|text| text.trim().parse().ok())
            .unwrap_or(100.0)
    })
}

/// CPU used between two readings, as a percentage of one core.
pub fn cpu_percent(before: &ProcSample, after: &ProcSample, wall: Duration) -> f64 {
    let used = after.cpu.saturating_sub(before.cpu);
    100.0 * used.as_secs_f64() / wall.as_secs_f64().max(f64::EPSILON)
}
