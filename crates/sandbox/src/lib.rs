//! Resource accounting and path confinement shared by every layer.
//!
//! The Rhai engine cannot see native memory, disk writes or time spent inside
//! host functions, so the sandbox keeps its own books: the runtime sets the
//! limits, native code charges them before it acts, and a breach comes back as
//! a [`Breach`] that the API layer turns into a catchable script error.

mod cancel;
mod disk;
pub mod files;
pub mod grants;
mod memory;
mod names;
mod paths;
pub mod process;
pub mod wall;

pub use cancel::{Cancel, LONGEST_WAIT, Stop, script_wait, time_breach};
pub use disk::{DiskBudget, DiskLimits, Hold, Usage, temporary_prefix};
pub use memory::{
    CountingAllocator, MemoryBudget, MemoryCharge, allocation_bytes, approved_bytes, heap_bytes,
    measure_process, process_bytes, process_rss_bytes, reclaim_and_measure,
};
pub use names::{UnsafeName, safe_component, safe_relative_path};
pub use paths::{Access, PRIVATE_FOLDER, PathError, WORKSPACE_FOLDERS, Workspace};

use std::fmt;

/// Every program built on the sandbox counts its heap, so the memory quota
/// can be checked between any two script operations (see `memory.rs`).
#[global_allocator]
static ALLOCATOR: CountingAllocator = CountingAllocator;

/// The quotas a session enforces, named as a learner sees them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum QuotaKind {
    Memory,
    Disk,
    Time,
    Operations,
}

impl QuotaKind {
    /// The error name scripts see in `e.kind` (stable: scripts may test it).
    pub fn error_name(self) -> &'static str {
        match self {
            QuotaKind::Memory => "MemoryQuotaExceeded",
            QuotaKind::Disk => "DiskQuotaExceeded",
            QuotaKind::Time => "TimeQuotaExceeded",
            QuotaKind::Operations => "OperationQuotaExceeded",
        }
    }

    /// Looks a quota up by its error name.
    pub fn from_error_name(name: &str) -> Option<Self> {
        [Self::Memory, Self::Disk, Self::Time, Self::Operations]
            .into_iter()
            .find(|kind| kind.error_name() == name)
    }
}

/// A quota would be (or has been) exceeded: what happened and how to fit.
#[derive(Debug, Clone, PartialEq)]
pub struct Breach {
    pub kind: QuotaKind,
    pub message: String,
    pub hint: String,
}

impl fmt::Display for Breach {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.kind.error_name(), self.message)
    }
}

impl std::error::Error for Breach {}

/// Formats a memory size in binary units (MiB, GiB), as memory is sold.
pub fn human_bytes(bytes: u64) -> String {
    bytesize::ByteSize::b(bytes).display().iec().to_string()
}

/// Formats a disk size in decimal units (MB, GB), as disks are sold.
pub fn human_disk_bytes(bytes: u64) -> String {
    bytesize::ByteSize::b(bytes).display().si().to_string()
}
