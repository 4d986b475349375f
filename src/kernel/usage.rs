//! The answer to a front-end's `usage_request` (control channel): what
//! JupyterLab's resource meter (jupyter-resource-usage's "Kernel usage"
//! panel) shows, in the fields ipykernel sends (`pid`, `hostname`,
//! `kernel_cpu` in percent of one CPU, `kernel_memory` in bytes,
//! `host_cpu_percent`, `cpu_count`, `host_virtual_memory`), plus
//! `cleope_quotas`: the session's use of its memory, disk and time quotas,
//! so that a front-end can show a limit coming.
//!
//! Read from `/proc` (the files the operating-system wall leaves readable:
//! `/proc/self/stat`, `/proc/self/statm`, `/proc/stat`, `/proc/meminfo`);
//! CPU percentages are measured between two requests, as psutil does.

use crate::runtime::usage::QuotaUse;
use serde_json::{Value, json};
use std::sync::Mutex;
use std::time::Instant;

/// The CPU counters seen at the previous request.
#[derive(Debug, Default)]
pub struct UsageMeter {
    previous: Mutex<Option<CpuSample>>,
}

#[derive(Debug, Clone, Copy)]
struct CpuSample {
    at: Instant,
    /// Clock ticks this process spent (user + system).
    process_ticks: u64,
    /// Clock ticks of the whole host: (busy, total).
    host_ticks: Option<(u64, u64)>,
}

impl UsageMeter {
    /// The `usage_reply` content; `quotas` is the session's use, when it runs.
    pub fn reply(&self, quotas: Option<QuotaUse>) -> Value {
        let now = CpuSample {
            at: Instant::now(),
            process_ticks: process_cpu_ticks().unwrap_or(0),
            host_ticks: host_cpu_ticks(),
        };
        let previous = self
            .previous
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .replace(now);
        let mut reply = json!({
            "hostname": hostname(),
            "pid": std::process::id(),
            "cpu_count": std::thread::available_parallelism().map_or(1, |n| n.get()),
            "kernel_cpu": previous.map_or(0.0, |before| process_cpu_percent(&before, &now)),
            "kernel_memory": crate::sandbox::process_rss_bytes().unwrap_or(0),
        });
        if let Some(percent) = previous.and_then(|before| host_cpu_percent(&before, &now)) {
            reply["host_cpu_percent"] = json!(percent);
        }
        if let Some(memory) = host_virtual_memory() {
            reply["host_virtual_memory"] = memory;
        }
        if let Some(quotas) = quotas {
            reply["cleope_quotas"] = quotas.to_json();
        }
        reply
    }
}

/// Percent of one CPU the process used between two samples.
fn process_cpu_percent(before: &CpuSample, now: &CpuSample) -> f64 {
    let seconds = now.at.duration_since(before.at).as_secs_f64();
    if seconds <= 0.0 {
        return 0.0;
    }
    let ticks = now.process_ticks.saturating_sub(before.process_ticks) as f64;
    round1(100.0 * ticks / clock_ticks_per_second() / seconds)
}

/// Percent of the host's CPU time spent busy between two samples.
fn host_cpu_percent(before: &CpuSample, now: &CpuSample) -> Option<f64> {
    let ((busy0, total0), (busy1, total1)) = (before.host_ticks?, now.host_ticks?);
    let total = total1.checked_sub(total0).filter(|&t| t > 0)?;
    Some(round1(
        100.0 * busy1.saturating_sub(busy0) as f64 / total as f64,
    ))
}

fn round1(x: f64) -> f64 {
    (x * 10.0).round() / 10.0
}

fn clock_ticks_per_second() -> f64 {
    // SAFETY: sysconf has no preconditions.
    let ticks = unsafe { libc::sysconf(libc::_SC_CLK_TCK) };
    if ticks > 0 { ticks as f64 } else { 100.0 }
}

/// utime + stime of this process, from `/proc/self/stat`.
fn process_cpu_ticks() -> Option<u64> {
    parse_process_ticks(&std::fs::read_to_string("/proc/self/stat").ok()?)
}

/// Fields 14 and 15 (utime, stime) of a `/proc/<pid>/stat` line; the
/// command name (field 2) may hold spaces, so fields count after its `)`.
fn parse_process_ticks(stat: &str) -> Option<u64> {
    let after_name = &stat[stat.rfind(')')? + 1..];
    let mut fields = after_name.split_whitespace().skip(11);
    let utime: u64 = fields.next()?.parse().ok()?;
    let stime: u64 = fields.next()?.parse().ok()?;
    Some(utime + stime)
}

/// (busy, total) clock ticks of all CPUs, from the `cpu` line of `/proc/stat`.
fn host_cpu_ticks() -> Option<(u64, u64)> {
    parse_host_ticks(&std::fs::read_to_string("/proc/stat").ok()?)
}

fn parse_host_ticks(stat: &str) -> Option<(u64, u64)> {
    let line = stat.lines().find(|l| l.starts_with("cpu "))?;
    let ticks: Vec<u64> = line
        .split_whitespace()
        .skip(1)
        .filter_map(|t| t.parse().ok())
        .collect();
    // user nice system idle iowait irq softirq steal (guest is inside user).
    let total: u64 = ticks.iter().take(8).sum();
    let idle = ticks.get(3)? + ticks.get(4).unwrap_or(&0);
    Some((total - idle, total))
}

/// The host's memory in psutil's `virtual_memory()` fields (bytes).
fn host_virtual_memory() -> Option<Value> {
    parse_meminfo(&std::fs::read_to_string("/proc/meminfo").ok()?)
}

fn parse_meminfo(meminfo: &str) -> Option<Value> {
    let kib = |key: &str| -> Option<u64> {
        meminfo
            .lines()
            .find_map(|l| l.strip_prefix(key)?.strip_prefix(':'))?
            .split_whitespace()
            .next()?
            .parse::<u64>()
            .ok()
            .map(|k| k * 1024)
    };
    let total = kib("MemTotal")?;
    let available = kib("MemAvailable")?;
    let free = kib("MemFree")?;
    let used = total.saturating_sub(available);
    Some(json!({
        "total": total,
        "available": available,
        "percent": round1(100.0 * used as f64 / total.max(1) as f64),
        "used": used,
        "free": free,
    }))
}

fn hostname() -> String {
    let mut name = [0u8; 256];
    // SAFETY: the buffer is writable for its whole length, which is passed.
    let status = unsafe { libc::gethostname(name.as_mut_ptr().cast(), name.len()) };
    if status != 0 {
        return String::new();
    }
    let end = name.iter().position(|&b| b == 0).unwrap_or(name.len());
    String::from_utf8_lossy(&name[..end]).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn process_ticks_are_counted_after_a_command_name_with_spaces() {
        let stat = "4242 (cleope kernel) S 1 2 3 4 5 6 7 8 9 10 250 50 0 0 20 0 1 0";
        assert_eq!(parse_process_ticks(stat), Some(300));
    }

    #[test]
    fn host_ticks_leave_out_idle_and_iowait() {
        let stat = "cpu  100 0 50 800 50 0 0 0 0 0\ncpu0 50 0 25 400 25 0 0 0 0 0\n";
        assert_eq!(parse_host_ticks(stat), Some((150, 1000)));
    }

    #[test]
    fn meminfo_gives_psutil_fields_in_bytes() {
        let meminfo = "MemTotal:  1000 kB\nMemFree:  200 kB\nMemAvailable:  400 kB\n";
        let memory = parse_meminfo(meminfo).unwrap();
        assert_eq!(memory["total"], 1_024_000);
        assert_eq!(memory["used"], 614_400);
        assert_eq!(memory["percent"], 60.0);
    }

    #[test]
    fn a_busy_process_shows_its_cpu_share_on_the_second_request() {
        let meter = UsageMeter::default();
        let first = meter.reply(None);
        assert_eq!(first["kernel_cpu"], 0.0, "no earlier sample yet");
        assert!(first["kernel_memory"].as_u64().unwrap() > 1 << 20);
        assert_eq!(first["pid"], std::process::id());
        // Spin until the process has spent 200 ms of CPU, however loaded
        // the machine is.
        let spent_until = process_cpu_ticks().unwrap() + 20;
        let mut x = 0u64;
        while process_cpu_ticks().unwrap() < spent_until {
            x = std::hint::black_box(x.wrapping_add(1));
        }
        let second = meter.reply(None);
        let cpu = second["kernel_cpu"].as_f64().unwrap();
        assert!(cpu > 0.0, "a spinning thread used {cpu} % of a CPU");
        assert!(second.get("cleope_quotas").is_none());
    }
}
