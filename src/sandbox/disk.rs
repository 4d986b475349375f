//! The disk budget: bytes the workspace may hold.

use super::{Breach, QuotaKind, human_disk_bytes as human_bytes};
use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};

/// Tracks the bytes stored under the workspace against the disk quota.
///
/// The workspace is measured once when the session opens; from then on every
/// host function that writes reserves the growth of the file it writes, so no
/// write needs to walk the tree again.
#[derive(Debug)]
pub struct DiskBudget {
    limit: u64,
    used: AtomicU64,
}

impl DiskBudget {
    /// A budget of `limit` bytes for the tree under `root`, measured now.
    pub fn measure(root: &Path, limit: u64) -> Self {
        Self {
            limit,
            used: AtomicU64::new(tree_size(root)),
        }
    }

    /// Accounts for a file growing by `growth` bytes (negative when it shrinks).
    ///
    /// A growth that would pass the quota is refused before anything is written.
    pub fn reserve(&self, growth: i64, purpose: &str) -> Result<(), Breach> {
        if growth <= 0 {
            self.used
                .fetch_update(Ordering::AcqRel, Ordering::Relaxed, |used| {
                    Some(used.saturating_sub(growth.unsigned_abs()))
                })
                .ok();
            return Ok(());
        }
        let growth = growth as u64;
        self.used
            .fetch_update(Ordering::AcqRel, Ordering::Relaxed, |used| {
                let wanted = used.saturating_add(growth);
                (wanted <= self.limit).then_some(wanted)
            })
            .map(|_| ())
            .map_err(|used| Breach {
                kind: QuotaKind::Disk,
                message: format!(
                    "{purpose} needs {}, but the workspace already holds {} of its {} disk quota",
                    human_bytes(growth),
                    human_bytes(used),
                    human_bytes(self.limit)
                ),
                hint: "delete downloads or outputs you no longer need from the workspace \
                       (local_files/, output/), or save a clipped, smaller result"
                    .into(),
            })
    }

    /// The quota in bytes.
    pub fn limit(&self) -> u64 {
        self.limit
    }

    /// Bytes currently stored under the workspace (as accounted).
    pub fn used(&self) -> u64 {
        self.used.load(Ordering::Relaxed)
    }
}

/// The apparent size of every regular file under `root` (symlinks are not followed).
fn tree_size(root: &Path) -> u64 {
    walkdir::WalkDir::new(root)
        .into_iter()
        .filter_map(Result::ok)
        .filter(|entry| entry.file_type().is_file())
        .filter_map(|entry| entry.metadata().ok())
        .map(|meta| meta.len())
        .sum()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn measures_existing_files_and_refuses_growth_past_the_quota() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("a.txt"), vec![b'x'; 600]).unwrap();
        let budget = DiskBudget::measure(dir.path(), 1000);
        assert_eq!(budget.used(), 600);
        budget.reserve(300, "write_text").unwrap();
        let breach = budget.reserve(200, "write_text(\"b.txt\")").unwrap_err();
        assert_eq!(breach.kind, QuotaKind::Disk);
        assert_eq!(budget.used(), 900, "a refused reservation changes nothing");
        budget.reserve(-500, "shrink").unwrap();
        assert_eq!(budget.used(), 400);
    }
}
