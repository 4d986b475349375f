//! Memory accounting: a counting allocator that knows, at the cost of one
//! atomic add per allocation, how many bytes the process's Rust heap holds;
//! the rest of the process (code, libraries such as GDAL, thread stacks,
//! memory C libraries allocate, memory freed but kept by `malloc`), measured
//! from the resident set now and then; and the memory budget that code
//! charges before allocating in proportion to its input.
//!
//! A quota is a promise about the process's resident memory, so the budget
//! counts both parts. It can only refuse *before* an allocation: an
//! allocator that refuses aborts the process (Rust's infallible
//! allocations), so the allocator only counts.

use super::{Breach, QuotaKind, human_bytes};
use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};

static HEAP_BYTES: AtomicUsize = AtomicUsize::new(0);

/// What the process holds besides the Rust heap, at the last measurement.
static OTHER_BYTES: AtomicU64 = AtomicU64::new(0);

/// Bytes approved by charges so far (a running total): the guard tells
/// growth that was asked for from growth that was not (see `runtime::guard`).
static APPROVED_BYTES: AtomicU64 = AtomicU64::new(0);

/// Charges at least this large measure the process first (a few
/// microseconds), so that the budget sees memory libraries took since the
/// last measurement; smaller ones trust the last measurement.
const MEASURE_FROM: u64 = 1 << 20;

/// The bytes glibc's `malloc` takes for a request of `size` bytes: an
/// 8-byte header, rounded up to 16 bytes, at least 32. Counting this rather
/// than the request makes many small values (a script array of one-letter
/// strings) count what they really cost.
pub const fn allocation_bytes(size: usize) -> usize {
    footprint(size, 8)
}

const fn footprint(size: usize, align: usize) -> usize {
    let chunk = (size + 8 + 15) & !15;
    let chunk = if chunk < 32 { 32 } else { chunk };
    if align > 16 { chunk + align } else { chunk }
}

/// The system allocator, counting live bytes. The crate installs it as the
/// global allocator, so [`heap_bytes`] follows everything Rust allocates:
/// script values, native buffers, parsed files.
pub struct CountingAllocator;

// SAFETY: every method forwards to `System` unchanged and only adds
// bookkeeping on the sizes the caller passes.
unsafe impl GlobalAlloc for CountingAllocator {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let pointer = unsafe { System.alloc(layout) };
        if !pointer.is_null() {
            HEAP_BYTES.fetch_add(footprint(layout.size(), layout.align()), Ordering::Relaxed);
        }
        pointer
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        let pointer = unsafe { System.alloc_zeroed(layout) };
        if !pointer.is_null() {
            HEAP_BYTES.fetch_add(footprint(layout.size(), layout.align()), Ordering::Relaxed);
        }
        pointer
    }

    unsafe fn dealloc(&self, pointer: *mut u8, layout: Layout) {
        unsafe { System.dealloc(pointer, layout) };
        HEAP_BYTES.fetch_sub(footprint(layout.size(), layout.align()), Ordering::Relaxed);
    }

    unsafe fn realloc(&self, pointer: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        let moved = unsafe { System.realloc(pointer, layout, new_size) };
        if !moved.is_null() {
            let old = footprint(layout.size(), layout.align());
            let new = footprint(new_size, layout.align());
            if new >= old {
                HEAP_BYTES.fetch_add(new - old, Ordering::Relaxed);
            } else {
                HEAP_BYTES.fetch_sub(old - new, Ordering::Relaxed);
            }
        }
        moved
    }
}

/// Bytes the Rust heap of the whole process holds (as `malloc` counts them).
pub fn heap_bytes() -> u64 {
    HEAP_BYTES.load(Ordering::Relaxed) as u64
}

/// Bytes the process holds: the Rust heap now, plus the rest as last
/// measured by [`measure_process`]. Two atomic loads: cheap enough for every
/// script operation.
pub fn process_bytes() -> u64 {
    heap_bytes() + OTHER_BYTES.load(Ordering::Relaxed)
}

/// Measures the resident set and returns [`process_bytes`] brought up to
/// date. Where the resident set cannot be read, the last measurement stays.
///
/// The resident set can be smaller than the heap (memory allocated but not
/// yet written is not resident); then only the heap counts.
pub fn measure_process() -> u64 {
    if let Some(rss) = process_rss_bytes() {
        OTHER_BYTES.store(rss.saturating_sub(heap_bytes()), Ordering::Relaxed);
    }
    process_bytes()
}

/// The running total of bytes charges approved (see [`MemoryBudget::check`]).
pub fn approved_bytes() -> u64 {
    APPROVED_BYTES.load(Ordering::Relaxed)
}

/// Gives memory that was freed but that `malloc` still keeps back to the
/// system, then measures the process. Slow (it walks the allocator's free
/// lists): for when a charge would otherwise be refused.
pub fn reclaim_and_measure() -> u64 {
    // SAFETY: malloc_trim only releases free memory; it has no preconditions.
    unsafe { libc::malloc_trim(0) };
    measure_process()
}

/// The memory quota as code sees it: before allocating in proportion to its
/// input, charge the size; the charge is refused when the process would
/// pass the quota.
#[derive(Debug)]
pub struct MemoryBudget {
    limit: u64,
    usage: Usage,
    charged: AtomicU64,
    peak: AtomicU64,
}

/// Where a budget reads the memory in use.
#[derive(Debug)]
enum Usage {
    /// The process, measured (sessions).
    Process,
    /// A fixed reading (tests of code that charges).
    Given(fn() -> u64),
}

impl Usage {
    /// The current reading, without measuring.
    fn now(&self) -> u64 {
        match self {
            Usage::Process => process_bytes(),
            Usage::Given(in_use) => in_use(),
        }
    }

    fn measured(&self) -> u64 {
        match self {
            Usage::Process => measure_process(),
            Usage::Given(in_use) => in_use(),
        }
    }

    fn reclaimed(&self) -> u64 {
        match self {
            Usage::Process => reclaim_and_measure(),
            Usage::Given(in_use) => in_use(),
        }
    }
}

/// A successful charge; the bytes return to the budget when it is dropped.
#[derive(Debug)]
pub struct MemoryCharge {
    budget: Arc<MemoryBudget>,
    bytes: u64,
}

impl MemoryBudget {
    /// A budget of `limit` bytes for the whole process (see [`process_bytes`]).
    pub fn new(limit: u64) -> Arc<Self> {
        Self::build(limit, Usage::Process)
    }

    /// A budget whose current use is read from `in_use` (tests pass a fixed one).
    pub fn with_usage(limit: u64, in_use: fn() -> u64) -> Arc<Self> {
        Self::build(limit, Usage::Given(in_use))
    }

    fn build(limit: u64, usage: Usage) -> Arc<Self> {
        Arc::new(Self {
            limit,
            usage,
            charged: AtomicU64::new(0),
            peak: AtomicU64::new(0),
        })
    }

    /// Reserves `bytes` for `purpose` (e.g. "a 4000 x 4000 matrix"), or explains why not.
    ///
    /// Buffers already charged and allocated are part of the process's use,
    /// so the test is simply: does the process stay under the quota?
    pub fn charge(self: &Arc<Self>, bytes: u64, purpose: &str) -> Result<MemoryCharge, Breach> {
        self.check(bytes, purpose)?;
        let charged = self.charged.fetch_add(bytes, Ordering::AcqRel) + bytes;
        self.peak.fetch_max(charged, Ordering::Relaxed);
        Ok(MemoryCharge {
            budget: Arc::clone(self),
            bytes,
        })
    }

    /// `Ok` when `bytes` more fit in the quota now; for an allocation made
    /// at once (the allocator counts it from then on), where a
    /// [`MemoryCharge`] held until the buffer exists is not needed.
    pub fn check(&self, bytes: u64, purpose: &str) -> Result<(), Breach> {
        let fits = |in_use: u64| in_use.saturating_add(bytes) <= self.limit;
        let mut in_use = if bytes < MEASURE_FROM {
            self.usage.now()
        } else {
            self.usage.measured()
        };
        if !fits(in_use) {
            // Memory freed since (a dropped value) may still be held by malloc.
            in_use = self.usage.reclaimed();
        }
        if fits(in_use) {
            if matches!(self.usage, Usage::Process) {
                APPROVED_BYTES.fetch_add(bytes, Ordering::Relaxed);
            }
            Ok(())
        } else {
            Err(self.refusal(bytes, in_use, purpose))
        }
    }

    /// For work that allocates as it goes (a parse): `Err` once the process
    /// holds more than the quota; `what` names what was being made.
    pub fn check_holding(&self, what: &str) -> Result<(), Breach> {
        let mut in_use = self.usage.now();
        if in_use > self.limit {
            in_use = self.usage.reclaimed();
        }
        if in_use <= self.limit {
            return Ok(());
        }
        Err(Breach {
            kind: QuotaKind::Memory,
            message: format!(
                "{what} took more memory than was free: the session holds {} of its {} memory quota",
                human_bytes(in_use),
                human_bytes(self.limit)
            ),
            hint: "read a smaller file (or fewer rows), or free memory by reassigning \
                   variables you no longer need"
                .into(),
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

    /// Bytes the process holds now (as last measured, for its non-heap part).
    pub fn in_use(&self) -> u64 {
        self.usage.now()
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

/// The resident set size of this process, read from `/proc/self/statm`.
///
/// Returns `None` where the file cannot be read (non-Linux systems), in
/// which case the RSS backstop is simply not applied.
pub fn process_rss_bytes() -> Option<u64> {
    let statm = std::fs::read_to_string("/proc/self/statm").ok()?;
    let pages: u64 = statm.split_whitespace().nth(1)?.parse().ok()?;
    // SAFETY: sysconf has no preconditions.
    let page_size = unsafe { libc::sysconf(libc::_SC_PAGESIZE) };
    Some(pages * u64::try_from(page_size).ok()?)
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
    fn small_values_count_what_malloc_takes_for_them() {
        assert_eq!(footprint(1, 1), 32, "the smallest chunk");
        assert_eq!(footprint(24, 8), 32);
        assert_eq!(footprint(25, 8), 48, "header and rounding to 16");
        assert_eq!(footprint(1 << 20, 8), (1 << 20) + 16);
    }

    #[test]
    fn the_process_counts_more_than_its_heap() {
        let measured = measure_process();
        assert!(measured >= heap_bytes(), "the heap is part of the process");
        let rss = process_rss_bytes().unwrap();
        assert!(rss > 1024 * 1024);
        assert!(measured + (16 << 20) >= rss, "{measured} vs RSS {rss}");
    }

    #[test]
    fn memory_a_c_library_holds_counts_once_measured() {
        // Wide margins: other tests allocate and free in this process too.
        let before = measure_process();
        let budget = MemoryBudget::new(before + (192 << 20));
        let size = 512 << 20;
        // SAFETY: a plain C allocation, written whole, freed below.
        let block = unsafe { libc::malloc(size) }.cast::<u8>();
        assert!(!block.is_null());
        unsafe { std::ptr::write_bytes(block, 1, size) };
        // The writes must happen (the compiler may drop stores to memory freed unread).
        std::hint::black_box(block);
        let refused = budget.check(MEASURE_FROM, "a MiB more");
        // SAFETY: freeing the block allocated above, once.
        unsafe { libc::free(block.cast()) };
        assert!(refused.is_err(), "the 512 MiB malloc'd outside Rust count");
        let after = budget.check(MEASURE_FROM, "a MiB more");
        assert!(
            after.is_ok(),
            "and stop counting once freed: {after:?}, before {before}, heap {}, rss {:?}",
            heap_bytes(),
            process_rss_bytes()
        );
    }
}
