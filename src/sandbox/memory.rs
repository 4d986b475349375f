//! The memory budget: native code charges it before allocating a large buffer.

use super::{Breach, QuotaKind, human_bytes};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

/// Bytes that native values (matrices, rasters, swaths, downloads) may hold.
///
/// The budget covers the whole process: the resident memory measured when the
/// session started (interpreter, libraries) is counted as already spent, so a
/// charge succeeds only if the process stays under the quota.
#[derive(Debug)]
pub struct MemoryBudget {
    limit: u64,
    baseline: u64,
    charged: AtomicU64,
    peak: AtomicU64,
}

/// A successful charge; the bytes return to the budget when it is dropped.
#[derive(Debug)]
pub struct MemoryCharge {
    budget: Arc<MemoryBudget>,
    bytes: u64,
}

impl MemoryBudget {
    /// A budget of `limit` bytes for the whole process.
    pub fn new(limit: u64) -> Arc<Self> {
        Self::with_baseline(limit, process_rss_bytes().unwrap_or(0))
    }

    /// A budget where `baseline` bytes are already spent before any charge.
    pub fn with_baseline(limit: u64, baseline: u64) -> Arc<Self> {
        Arc::new(Self {
            limit,
            baseline,
            charged: AtomicU64::new(0),
            peak: AtomicU64::new(0),
        })
    }

    /// Reserves `bytes` for `purpose` (e.g. "matrix 4000 x 4000"), or explains why not.
    pub fn charge(self: &Arc<Self>, bytes: u64, purpose: &str) -> Result<MemoryCharge, Breach> {
        let mut current = self.charged.load(Ordering::Relaxed);
        loop {
            let wanted = current.saturating_add(bytes);
            if self.baseline.saturating_add(wanted) > self.limit {
                return Err(self.refusal(bytes, purpose));
            }
            match self.charged.compare_exchange_weak(
                current,
                wanted,
                Ordering::AcqRel,
                Ordering::Relaxed,
            ) {
                Ok(_) => {
                    self.peak.fetch_max(wanted, Ordering::Relaxed);
                    return Ok(MemoryCharge {
                        budget: Arc::clone(self),
                        bytes,
                    });
                }
                Err(actual) => current = actual,
            }
        }
    }

    fn refusal(&self, bytes: u64, purpose: &str) -> Breach {
        let free = self
            .limit
            .saturating_sub(self.baseline + self.charged.load(Ordering::Relaxed));
        Breach {
            kind: QuotaKind::Memory,
            message: format!(
                "{purpose} needs {}, but only {} of the {} memory quota is free",
                human_bytes(bytes),
                human_bytes(free),
                human_bytes(self.limit)
            ),
            hint: "work on a smaller area (clip to your AOI first), use a coarser resolution, \
                   or free memory by reassigning variables you no longer need"
                .into(),
        }
    }

    /// The quota in bytes.
    pub fn limit(&self) -> u64 {
        self.limit
    }

    /// Bytes currently charged by native values.
    pub fn charged(&self) -> u64 {
        self.charged.load(Ordering::Relaxed)
    }

    /// The most bytes ever charged at once.
    pub fn peak_charged(&self) -> u64 {
        self.peak.load(Ordering::Relaxed)
    }
}

impl MemoryCharge {
    /// The number of bytes this charge holds.
    pub fn bytes(&self) -> u64 {
        self.bytes
    }
}

impl Drop for MemoryCharge {
    fn drop(&mut self) {
        self.budget.charged.fetch_sub(self.bytes, Ordering::AcqRel);
    }
}

/// The resident set size of this process, read from `/proc/self/status`.
///
/// Returns `None` where the file does not exist (non-Linux systems), in which
/// case the RSS backstop is simply not applied.
pub fn process_rss_bytes() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmRSS:"))?;
    let kib: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib * 1024)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn charges_are_released_on_drop() {
        let budget = MemoryBudget::new(u64::MAX / 2);
        let charge = budget.charge(1000, "test").unwrap();
        assert_eq!(budget.charged(), 1000);
        drop(charge);
        assert_eq!(budget.charged(), 0);
        assert_eq!(budget.peak_charged(), 1000);
    }

    #[test]
    fn a_charge_beyond_the_quota_is_refused_and_explained() {
        let budget = MemoryBudget::with_baseline(1024 * 1024 + 4096, 4096);
        let _ok = budget.charge(512 * 1024, "first").unwrap();
        let breach = budget.charge(1024 * 1024, "matrix 512 x 256").unwrap_err();
        assert_eq!(breach.kind, QuotaKind::Memory);
        assert!(
            breach.message.starts_with("matrix 512 x 256 needs 1.0 MiB"),
            "{}",
            breach.message
        );
        assert_eq!(
            budget.charged(),
            512 * 1024,
            "a refused charge holds nothing"
        );
    }

    #[test]
    fn rss_is_readable_on_linux() {
        assert!(process_rss_bytes().unwrap() > 1024 * 1024);
    }
}
