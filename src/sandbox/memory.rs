//! Memory accounting: a counting allocator that knows, at the cost of one
//! atomic add per allocation, how many bytes the process holds; and the
//! memory budget that native code charges before allocating a large buffer.

use super::{Breach, QuotaKind, human_bytes};
use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};

static HEAP_BYTES: AtomicUsize = AtomicUsize::new(0);

/// The system allocator, counting live bytes. The crate installs it as the
/// global allocator, so [`heap_bytes`] is exact for everything Rust
/// allocates: script values, native buffers, parsed files.
pub struct CountingAllocator;

// SAFETY: every method forwards to `System` unchanged and only adds
// bookkeeping on the sizes the caller passes.
unsafe impl GlobalAlloc for CountingAllocator {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let pointer = unsafe { System.alloc(layout) };
        if !pointer.is_null() {
            HEAP_BYTES.fetch_add(layout.size(), Ordering::Relaxed);
        }
        pointer
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        let pointer = unsafe { System.alloc_zeroed(layout) };
        if !pointer.is_null() {
            HEAP_BYTES.fetch_add(layout.size(), Ordering::Relaxed);
        }
        pointer
    }

    unsafe fn dealloc(&self, pointer: *mut u8, layout: Layout) {
        unsafe { System.dealloc(pointer, layout) };
        HEAP_BYTES.fetch_sub(layout.size(), Ordering::Relaxed);
    }

    unsafe fn realloc(&self, pointer: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        let moved = unsafe { System.realloc(pointer, layout, new_size) };
        if !moved.is_null() {
            if new_size >= layout.size() {
                HEAP_BYTES.fetch_add(new_size - layout.size(), Ordering::Relaxed);
            } else {
                HEAP_BYTES.fetch_sub(layout.size() - new_size, Ordering::Relaxed);
            }
        }
        moved
    }
}

/// Bytes currently allocated through Rust's allocator by the whole process.
pub fn heap_bytes() -> u64 {
    HEAP_BYTES.load(Ordering::Relaxed) as u64
}

/// The memory quota as native code sees it: before allocating a large
/// buffer, charge its size; the charge is refused when the process would
/// pass the quota.
#[derive(Debug)]
pub struct MemoryBudget {
    limit: u64,
    in_use: fn() -> u64,
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
    /// A budget of `limit` bytes for the whole process (as counted by the allocator).
    pub fn new(limit: u64) -> Arc<Self> {
        Self::with_usage(limit, heap_bytes)
    }

    /// A budget whose current use is read from `in_use` (tests pass a fixed one).
    pub fn with_usage(limit: u64, in_use: fn() -> u64) -> Arc<Self> {
        Arc::new(Self {
            limit,
            in_use,
            charged: AtomicU64::new(0),
            peak: AtomicU64::new(0),
        })
    }

    /// Reserves `bytes` for `purpose` (e.g. "a 4000 x 4000 matrix"), or explains why not.
    ///
    /// Buffers already charged and allocated are part of the process's use,
    /// so the test is simply: does the process stay under the quota?
    pub fn charge(self: &Arc<Self>, bytes: u64, purpose: &str) -> Result<MemoryCharge, Breach> {
        let in_use = (self.in_use)();
        if in_use.saturating_add(bytes) > self.limit {
            return Err(self.refusal(bytes, in_use, purpose));
        }
        let charged = self.charged.fetch_add(bytes, Ordering::AcqRel) + bytes;
        self.peak.fetch_max(charged, Ordering::Relaxed);
        Ok(MemoryCharge {
            budget: Arc::clone(self),
            bytes,
        })
    }

    fn refusal(&self, bytes: u64, in_use: u64, purpose: &str) -> Breach {
        Breach {
            kind: QuotaKind::Memory,
            message: format!(
                "{purpose} needs {}, but only {} of the {} memory quota is free",
                human_bytes(bytes),
                human_bytes(self.limit.saturating_sub(in_use)),
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

    /// Bytes the process holds now.
    pub fn in_use(&self) -> u64 {
        (self.in_use)()
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

    fn four_kib() -> u64 {
        4096
    }

    #[test]
    fn charges_are_released_on_drop() {
        let budget = MemoryBudget::with_usage(1 << 20, four_kib);
        let charge = budget.charge(1000, "test").unwrap();
        assert_eq!(budget.charged(), 1000);
        drop(charge);
        assert_eq!(budget.charged(), 0);
        assert_eq!(budget.peak_charged(), 1000);
    }

    #[test]
    fn a_charge_beyond_the_quota_is_refused_and_explained() {
        let budget = MemoryBudget::with_usage(1024 * 1024 + 4096, four_kib);
        let breach = budget
            .charge(2 * 1024 * 1024, "matrix 512 x 512")
            .unwrap_err();
        assert_eq!(breach.kind, QuotaKind::Memory);
        assert!(
            breach
                .message
                .starts_with("matrix 512 x 512 needs 2.0 MiB, but only 1.0 MiB"),
            "{}",
            breach.message
        );
        assert_eq!(budget.charged(), 0, "a refused charge holds nothing");
    }

    #[test]
    fn the_allocator_counts_live_bytes() {
        let before = heap_bytes();
        let buffer = vec![0u8; 64 << 20];
        assert!(heap_bytes() >= before + (60 << 20), "allocation counted");
        drop(buffer);
        assert!(heap_bytes() < before + (60 << 20), "release counted");
    }

    #[test]
    fn rss_is_readable_on_linux() {
        assert!(process_rss_bytes().unwrap() > 1024 * 1024);
    }
}
