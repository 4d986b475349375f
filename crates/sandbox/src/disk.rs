//! The disk budget: what a workspace may hold, shared by every session on it.
//!
//! Several processes can run sessions on one workspace at once (a student's
//! notebook and their REPL, two `cleope run`s). They share one quota through
//! a ledger in the workspace's private folder, `.cleope/disk-ledger.json`,
//! which is read and changed only under an exclusive `flock` on it: two
//! processes together cannot pass the quota.
//!
//! **What counts.** A file costs its size rounded up to whole blocks, and at
//! least one block; a folder costs one block (the block is the file system's
//! allocation unit, at least 4 KiB). Files and folders together are also
//! counted against a cap on entries. So a million empty files cost what they
//! cost the file system. The workspace root, its standard folders and the
//! private folder are cleope's own and cost nothing.
//!
//! **How the ledger stays honest.**
//! * Every session start measures the tree (as cleope always did) and the
//!   ledger takes the measurement: what was added or removed outside cleope
//!   counts from then on. A write that would be refused measures again first
//!   (at most once a second), so space freed in the file browser or a
//!   terminal is seen without a restart. Between measurements, what other
//!   tools add is not seen: that is the drift, bounded by the next session
//!   start or refusal.
//! * A write in flight is a [`Hold`], recorded in the ledger under its
//!   process's token, and committed (it becomes `stored`) once the file is in
//!   place, or given back when dropped. Measuring keeps live sessions' holds,
//!   so a session starting beside a busy one does not lose the busy one's
//!   reservations.
//!
//! **Crashes.** Each session keeps a shared `flock` on
//! `.cleope/sessions/<token>` for its life; the kernel drops it when the
//! process dies, however it dies, and pid reuse cannot fool it. A session
//! start (and a refusal) finds the tokens nobody holds, forgets their holds
//! and removes their temporary files (named `.cleope-tmp-<token>-…`): a
//! process killed mid-write leaks neither quota nor files. Folders an
//! unpacking left half-made (`local_files/.unpacking-*`) carry no token;
//! they are removed by a session that starts with no other session alive.
//! Resumable downloads (`*.part`) are kept, and count.

use super::paths::{PRIVATE_FOLDER, TEMPORARY_MARK, WORKSPACE_FOLDERS};
use super::{Breach, QuotaKind, human_disk_bytes as human_bytes};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet};
use std::fs::{File, OpenOptions, TryLockError};
use std::io::{self, Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use std::sync::{Mutex, MutexGuard, OnceLock};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// The ledger, in the private folder.
const LEDGER: &str = "disk-ledger.json";
/// One lock file per live process, in the private folder.
const SESSIONS: &str = "sessions";
/// The start of the staging folders unpacking makes in `local_files/`.
const STAGING_MARK: &str = ".unpacking-";
/// A refusal measures the tree again at most this often, and no sooner
/// than ten measurements' time after the last one: a script refused in a
/// loop cannot keep the ledger locked (and other sessions waiting) for more
/// than a tenth of the time.
const REMEASURE_AFTER: Duration = Duration::from_secs(1);
/// The smallest block charged, whatever the file system says.
const MIN_BLOCK: u64 = 4096;

/// A footprint on disk: bytes (in whole blocks) and entries (files and folders).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Usage {
    pub bytes: u64,
    pub entries: u64,
}

impl Usage {
    pub const NONE: Usage = Usage {
        bytes: 0,
        entries: 0,
    };

    pub fn plus(self, other: Usage) -> Usage {
        Usage {
            bytes: self.bytes.saturating_add(other.bytes),
            entries: self.entries.saturating_add(other.entries),
        }
    }

    /// What is left of `self` once `other` is taken away (never below zero).
    pub fn minus(self, other: Usage) -> Usage {
        Usage {
            bytes: self.bytes.saturating_sub(other.bytes),
            entries: self.entries.saturating_sub(other.entries),
        }
    }

    pub fn times(self, n: u64) -> Usage {
        Usage {
            bytes: self.bytes.saturating_mul(n),
            entries: self.entries.saturating_mul(n),
        }
    }

    pub fn is_none(self) -> bool {
        self == Usage::NONE
    }

    /// Bytes alone, no entry (e.g. more of a file already counted).
    pub fn of_bytes(bytes: u64) -> Usage {
        Usage { bytes, entries: 0 }
    }
}

/// What a measurement does with staging folders (`local_files/.unpacking-*`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Staging {
    /// Counts them: an unpacking may be going on.
    Keep,
    /// Removes them when no other process is alive and, as said here,
    /// no other session of this process uses the workspace.
    RemoveWhenAlone(bool),
}

/// The quota of a workspace: bytes, and entries (files plus folders).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DiskLimits {
    pub bytes: u64,
    pub entries: u64,
}

/// The ledger's content: what the workspace stores, and what live
/// processes hold for writes in flight.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
struct Ledger {
    stored: Usage,
    #[serde(default)]
    held: BTreeMap<String, Usage>,
    /// When the tree was last measured (milliseconds since the epoch).
    #[serde(default)]
    measured_at: u64,
    /// How long that measurement took (milliseconds).
    #[serde(default)]
    measuring_took: u64,
}

impl Ledger {
    /// True when a refusal may measure the tree again (see [`REMEASURE_AFTER`]).
    fn may_measure_again(&self) -> bool {
        let wait = (REMEASURE_AFTER.as_millis() as u64).max(10 * self.measuring_took);
        now_millis().saturating_sub(self.measured_at) >= wait
    }

    fn in_use(&self) -> Usage {
        self.held.values().fold(self.stored, |sum, &h| sum.plus(h))
    }

    fn hold(&mut self, usage: Usage) {
        let row = self.held.entry(token().to_string()).or_default();
        *row = row.plus(usage);
    }

    fn unhold(&mut self, usage: Usage) {
        if let Some(row) = self.held.get_mut(token()) {
            *row = row.minus(usage);
            if row.is_none() {
                self.held.remove(token());
            }
        }
    }
}

/// Tracks what the workspace holds against its disk quota, with every other
/// session on the same workspace (see the module's documentation).
#[derive(Debug)]
pub struct DiskBudget {
    root: PathBuf,
    limits: DiskLimits,
    block: u64,
    /// The ledger file. Each transaction takes an exclusive flock on it; the
    /// mutex keeps this process's threads in turn, since a flock is shared
    /// by everything that uses one open file.
    ledger: Mutex<File>,
    /// This session's presence: a shared flock on `.cleope/sessions/<token>`.
    presence: Option<File>,
}

impl DiskBudget {
    /// Joins the workspace's shared ledger: registers this session, clears
    /// what dead sessions left (their holds and temporary files) and
    /// measures the tree.
    pub fn open(root: &Path, limits: DiskLimits) -> io::Result<Self> {
        let private = root.join(PRIVATE_FOLDER);
        std::fs::create_dir_all(private.join(SESSIONS))?;
        let ledger = OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(private.join(LEDGER))?;
        let mut budget = Self {
            root: root.to_path_buf(),
            limits,
            block: block_size(root),
            ledger: Mutex::new(ledger),
            presence: None,
        };
        let presence = budget.with_ledger(|budget, ledger| {
            // Registered under the ledger's lock, so that no session measuring
            // meanwhile can take this one for dead and remove its lock file.
            let presence = OpenOptions::new()
                .read(true)
                .write(true)
                .create(true)
                .truncate(false)
                .open(budget.presence_path())?;
            let first_in_process = presence.try_lock().is_ok();
            presence.lock_shared()?;
            budget.recount(ledger, Staging::RemoveWhenAlone(first_in_process))?;
            Ok(presence)
        })?;
        budget.presence = Some(presence);
        Ok(budget)
    }

    /// A budget of `limit` bytes and no cap on entries for the tree under
    /// `root`, measured now (for tests and tools).
    ///
    /// # Panics
    /// When the ledger cannot be made in `root`.
    pub fn measure(root: &Path, limit: u64) -> Self {
        let limits = DiskLimits {
            bytes: limit,
            entries: u64::MAX,
        };
        Self::open(root, limits)
            .unwrap_or_else(|e| panic!("cannot keep a disk ledger in {}: {e}", root.display()))
    }

    /// Holds `usage` for a write about to be made; refused (nothing is held)
    /// when it would pass the quota. Commit the hold once the write is in
    /// place; dropped, it is given back.
    pub fn hold(&self, usage: Usage, purpose: &str) -> Result<Hold<'_>, Breach> {
        self.hold_replacing(Usage::NONE, usage, purpose)
    }

    /// Holds the growth from `old` to `new` (a file replacing another); on
    /// commit, what `new` no longer uses of `old` is given back.
    pub fn hold_replacing(
        &self,
        old: Usage,
        new: Usage,
        purpose: &str,
    ) -> Result<Hold<'_>, Breach> {
        let growth = new.minus(old);
        if !growth.is_none() {
            self.admit(growth, purpose, |ledger| ledger.hold(growth))?;
        }
        Ok(Hold {
            budget: self,
            held: growth,
            freed: old.minus(new),
        })
    }

    /// Accounts at once for bytes that grew by `growth` (negative when they
    /// shrink), without entries: for callers that count raw bytes (downloads).
    /// A growth that would pass the quota is refused before anything is written.
    pub fn reserve(&self, growth: i64, purpose: &str) -> Result<(), Breach> {
        let bytes = Usage::of_bytes(growth.unsigned_abs());
        if growth <= 0 {
            self.release(bytes);
            return Ok(());
        }
        self.admit(bytes, purpose, |ledger| {
            ledger.stored = ledger.stored.plus(bytes)
        })
    }

    /// Gives back what deleted files and folders used.
    pub fn release(&self, usage: Usage) {
        if !usage.is_none() {
            self.update(|ledger| ledger.stored = ledger.stored.minus(usage));
        }
    }

    /// What a file of `len` bytes costs.
    pub fn file_footprint(&self, len: u64) -> Usage {
        Usage {
            bytes: len.div_ceil(self.block).max(1) * self.block,
            entries: 1,
        }
    }

    /// What a folder costs (its own entry; its content counts apart).
    pub fn folder_footprint(&self) -> Usage {
        Usage {
            bytes: self.block,
            entries: 1,
        }
    }

    /// What an existing file, or a folder and all it holds, costs
    /// (nothing when `path` does not exist).
    pub fn footprint_of(&self, path: &Path) -> Usage {
        walkdir::WalkDir::new(path)
            .into_iter()
            .filter_map(Result::ok)
            .filter_map(|entry| entry.metadata().ok())
            .map(|meta| self.entry_footprint(&meta))
            .fold(Usage::NONE, Usage::plus)
    }

    /// The quota in bytes.
    pub fn limit(&self) -> u64 {
        self.limits.bytes
    }

    /// The cap on files and folders.
    pub fn entry_limit(&self) -> u64 {
        self.limits.entries
    }

    /// Bytes the workspace holds, with writes in flight, as accounted.
    pub fn used(&self) -> u64 {
        self.in_use().bytes
    }

    /// Files and folders the workspace holds, with writes in flight.
    pub fn entries_used(&self) -> u64 {
        self.in_use().entries
    }

    fn in_use(&self) -> Usage {
        self.with_ledger(|_, ledger| Ok(ledger.in_use()))
            .unwrap_or(Usage::NONE)
    }

    /// Applies `record` when `usage` fits beside what every session uses;
    /// before refusing, forgets dead sessions and measures the tree again
    /// (files may have been deleted outside cleope).
    fn admit(
        &self,
        usage: Usage,
        purpose: &str,
        record: impl FnOnce(&mut Ledger),
    ) -> Result<(), Breach> {
        self.with_ledger(|budget, ledger| {
            if !budget.fits(ledger, usage) && ledger.may_measure_again() {
                budget.recount(ledger, Staging::Keep)?;
            }
            if !budget.fits(ledger, usage) {
                return Ok(Err(budget.breach(ledger.in_use(), usage, purpose)));
            }
            record(ledger);
            Ok(Ok(()))
        })
        .unwrap_or_else(|error| Err(self.ledger_breach(&error, purpose)))
    }

    /// Changes the ledger where nothing can be refused (giving back).
    /// A failure is left for the next measurement to mend.
    fn update(&self, change: impl FnOnce(&mut Ledger)) {
        let _ = self.with_ledger(|_, ledger| {
            change(ledger);
            Ok(())
        });
    }

    fn fits(&self, ledger: &Ledger, usage: Usage) -> bool {
        let after = ledger.in_use().plus(usage);
        (usage.bytes == 0 || after.bytes <= self.limits.bytes)
            && (usage.entries == 0 || after.entries <= self.limits.entries)
    }

    fn breach(&self, in_use: Usage, wanted: Usage, purpose: &str) -> Breach {
        let shared =
            "the quota is shared by every session (notebook, REPL, script) on this workspace";
        if wanted.entries > 0 && in_use.entries + wanted.entries > self.limits.entries {
            return Breach {
                kind: QuotaKind::Disk,
                message: format!(
                    "{purpose} needs {} more file(s) or folder(s), but the workspace already \
                     holds {} of the {} it may hold",
                    wanted.entries, in_use.entries, self.limits.entries
                ),
                hint: format!(
                    "gather many small results into one file (one CSV rather than a file per \
                     row) and delete files you no longer need; {shared}"
                ),
            };
        }
        Breach {
            kind: QuotaKind::Disk,
            message: format!(
                "{purpose} needs {}, but the workspace already holds {} of its {} disk quota \
                 (every file and folder takes at least one {} block)",
                human_bytes(wanted.bytes),
                human_bytes(in_use.bytes),
                human_bytes(self.limits.bytes),
                human_bytes(self.block)
            ),
            hint: format!(
                "delete downloads or outputs you no longer need from the workspace \
                 (local_files/, output/), or save a clipped, smaller result; {shared}"
            ),
        }
    }

    /// A ledger that cannot be read or written (e.g. the disk is full)
    /// refuses the write: what cannot be counted is not allowed.
    fn ledger_breach(&self, error: &io::Error, purpose: &str) -> Breach {
        Breach {
            kind: QuotaKind::Disk,
            message: format!(
                "{purpose} cannot be counted against the disk quota: the workspace's ledger \
                 ({}) cannot be updated: {error}",
                self.private().join(LEDGER).display()
            ),
            hint: "check that the workspace's disk is not full and that its .cleope/ folder \
                   is writable"
                .into(),
        }
    }

    /// Runs `change` on the ledger under its lock, and saves the ledger
    /// when it changed. An unreadable ledger is rebuilt by measuring.
    fn with_ledger<T>(
        &self,
        change: impl FnOnce(&Self, &mut Ledger) -> io::Result<T>,
    ) -> io::Result<T> {
        let mut file = self.lock_ledger();
        file.lock()?;
        let result = (|| {
            let read = read_ledger(&mut file)?;
            let mut ledger = read.clone().unwrap_or_default();
            if read.is_none() {
                self.recount(&mut ledger, Staging::Keep)?;
            }
            let value = change(self, &mut ledger)?;
            if read.as_ref() != Some(&ledger) {
                write_ledger(&mut file, &ledger)?;
            }
            Ok(value)
        })();
        let _ = file.unlock();
        result
    }

    fn lock_ledger(&self) -> MutexGuard<'_, File> {
        self.ledger.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Measures the tree into `ledger.stored`: forgets the holds of dead
    /// processes, removes their temporary files, and skips live ones'
    /// (their holds count them).
    fn recount(&self, ledger: &mut Ledger, staging: Staging) -> io::Result<()> {
        let started = now_millis();
        let live = self.live_tokens()?;
        ledger.held.retain(|owner, _| live.contains(owner));
        if staging == Staging::RemoveWhenAlone(true) && live.len() == 1 {
            self.remove_abandoned_staging();
        }
        let mut stored = Usage::NONE;
        let walk = walkdir::WalkDir::new(&self.root)
            .min_depth(1)
            .into_iter()
            .filter_entry(|entry| !(entry.depth() == 1 && entry.file_name() == PRIVATE_FOLDER));
        for entry in walk.filter_map(Result::ok) {
            let name = entry.file_name().to_string_lossy();
            if let Some(owner) = temporary_owner(&name)
                && !entry.file_type().is_dir()
            {
                if !live.contains(owner) {
                    let _ = std::fs::remove_file(entry.path());
                }
                continue;
            }
            if entry.depth() == 1
                && entry.file_type().is_dir()
                && WORKSPACE_FOLDERS.iter().any(|(folder, _)| name == *folder)
            {
                continue;
            }
            if let Ok(meta) = entry.metadata() {
                stored = stored.plus(self.entry_footprint(&meta));
            }
        }
        ledger.stored = stored;
        ledger.measured_at = now_millis();
        ledger.measuring_took = ledger.measured_at.saturating_sub(started);
        Ok(())
    }

    /// The tokens of live processes on this workspace (this one included);
    /// the lock files of dead ones are removed on the way.
    fn live_tokens(&self) -> io::Result<BTreeSet<String>> {
        let mut live = BTreeSet::from([token().to_string()]);
        for entry in std::fs::read_dir(self.private().join(SESSIONS))? {
            let entry = entry?;
            let name = entry.file_name().to_string_lossy().into_owned();
            if name == token() {
                continue;
            }
            let Ok(file) = File::open(entry.path()) else {
                continue;
            };
            match file.try_lock() {
                // Nobody holds it: its process is gone.
                Ok(()) => {
                    let _ = std::fs::remove_file(entry.path());
                }
                Err(TryLockError::WouldBlock) => {
                    live.insert(name);
                }
                Err(TryLockError::Error(error)) => return Err(error),
            }
        }
        Ok(live)
    }

    /// Removes the staging folders of unpackings that never finished.
    /// Only safe when no other session could be unpacking.
    fn remove_abandoned_staging(&self) {
        let Ok(entries) = std::fs::read_dir(self.root.join("local_files")) else {
            return;
        };
        for entry in entries.filter_map(Result::ok) {
            if entry
                .file_name()
                .to_string_lossy()
                .starts_with(STAGING_MARK)
            {
                let _ = std::fs::remove_dir_all(entry.path());
            }
        }
    }

    fn entry_footprint(&self, meta: &std::fs::Metadata) -> Usage {
        if meta.is_dir() {
            self.folder_footprint()
        } else {
            self.file_footprint(meta.len())
        }
    }

    fn private(&self) -> PathBuf {
        self.root.join(PRIVATE_FOLDER)
    }

    fn presence_path(&self) -> PathBuf {
        self.private().join(SESSIONS).join(token())
    }
}

impl Drop for DiskBudget {
    /// Leaves the ledger: the lock file goes once no other session of this
    /// process uses the workspace.
    fn drop(&mut self) {
        let Some(presence) = self.presence.take() else {
            return;
        };
        let _ = self.with_ledger(|budget, ledger| {
            drop(presence);
            let path = budget.presence_path();
            if let Ok(file) = File::open(&path)
                && file.try_lock().is_ok()
            {
                let _ = std::fs::remove_file(&path);
                ledger.held.remove(token());
            }
            Ok(())
        });
    }
}

/// Quota held for a write in flight. [`Hold::commit`] once the write is in
/// place; dropped before that, the quota is given back.
#[must_use = "a hold is given back when dropped: commit it once the write is in place"]
#[derive(Debug)]
pub struct Hold<'a> {
    budget: &'a DiskBudget,
    held: Usage,
    /// What the write replaces and no longer uses, given back on commit.
    freed: Usage,
}

impl Hold<'_> {
    /// Holds `more` for the same write (a download whose size shows as it
    /// arrives); refused, the hold stays as it was.
    pub fn grow(&mut self, more: Usage, purpose: &str) -> Result<(), Breach> {
        self.budget
            .admit(more, purpose, |ledger| ledger.hold(more))?;
        self.held = self.held.plus(more);
        Ok(())
    }

    /// Part of the write is in place (e.g. one of the folders it needed).
    pub fn settle(&mut self, part: Usage) {
        let part = Usage {
            bytes: part.bytes.min(self.held.bytes),
            entries: part.entries.min(self.held.entries),
        };
        if part.is_none() {
            return;
        }
        self.held = self.held.minus(part);
        self.budget.update(|ledger| {
            ledger.unhold(part);
            ledger.stored = ledger.stored.plus(part);
        });
    }

    /// The write is in place: what was held is stored, and what it replaced
    /// is given back.
    pub fn commit(mut self) {
        let (held, freed) = (self.held, self.freed);
        self.held = Usage::NONE;
        if held.is_none() && freed.is_none() {
            return;
        }
        self.budget.update(|ledger| {
            ledger.unhold(held);
            ledger.stored = ledger.stored.plus(held).minus(freed);
        });
    }
}

impl Drop for Hold<'_> {
    fn drop(&mut self) {
        let held = self.held;
        if !held.is_none() {
            self.budget.update(|ledger| ledger.unhold(held));
        }
    }
}

/// This process's name in ledgers and in its temporary files' names.
fn token() -> &'static str {
    static TOKEN: OnceLock<String> = OnceLock::new();
    TOKEN.get_or_init(|| uuid::Uuid::new_v4().simple().to_string())
}

/// The name every temporary file this process makes in a workspace starts
/// with: a session finding it after this process died removes it.
pub fn temporary_prefix() -> String {
    format!("{TEMPORARY_MARK}{}-", token())
}

/// The token of the process that made a temporary file called `name`.
fn temporary_owner(name: &str) -> Option<&str> {
    let rest = name.strip_prefix(TEMPORARY_MARK)?;
    let (owner, _) = rest.split_once('-')?;
    Some(owner)
}

/// The file system's allocation unit under `root`, at least [`MIN_BLOCK`].
fn block_size(root: &Path) -> u64 {
    use std::os::unix::ffi::OsStrExt;
    let Ok(path) = std::ffi::CString::new(root.as_os_str().as_bytes()) else {
        return MIN_BLOCK;
    };
    // SAFETY: statvfs fills the zeroed struct from a valid, NUL-terminated path.
    let mut stats: libc::statvfs = unsafe { std::mem::zeroed() };
    if unsafe { libc::statvfs(path.as_ptr(), &mut stats) } != 0 {
        return MIN_BLOCK;
    }
    (stats.f_frsize as u64).clamp(MIN_BLOCK, 1 << 20)
}

/// The ledger in `file`, or None when it is empty or unreadable. Only the
/// first JSON value counts: a shorter ledger written over a longer one may
/// leave bytes after it if the process died between writing and truncating.
fn read_ledger(file: &mut File) -> io::Result<Option<Ledger>> {
    let mut text = Vec::new();
    file.seek(SeekFrom::Start(0))?;
    file.read_to_end(&mut text)?;
    let mut values = serde_json::Deserializer::from_slice(&text).into_iter::<Ledger>();
    Ok(values.next().and_then(Result::ok))
}

fn write_ledger(file: &mut File, ledger: &Ledger) -> io::Result<()> {
    let text = serde_json::to_vec(ledger).map_err(io::Error::other)?;
    file.seek(SeekFrom::Start(0))?;
    file.write_all(&text)?;
    file.set_len(text.len() as u64)
}

fn now_millis() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as u64)
}

#[cfg(test)]
mod tests {
    use super::*;

    const KIB: u64 = 1024;

    fn limits(bytes: u64, entries: u64) -> DiskLimits {
        DiskLimits { bytes, entries }
    }

    #[test]
    fn measures_existing_files_in_blocks_and_refuses_growth_past_the_quota() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("a.txt"), vec![b'x'; 600]).unwrap();
        std::fs::create_dir(dir.path().join("folder")).unwrap();
        let budget = DiskBudget::open(dir.path(), limits(40 * KIB, 10)).unwrap();
        assert_eq!(
            budget.used(),
            8 * KIB,
            "a small file and a folder: a block each"
        );
        assert_eq!(budget.entries_used(), 2);
        let hold = budget
            .hold(Usage::of_bytes(24 * KIB), "write_text")
            .unwrap();
        let breach = budget
            .hold(Usage::of_bytes(9 * KIB), "writing \"b.txt\"")
            .unwrap_err();
        assert_eq!(breach.kind, QuotaKind::Disk);
        assert!(
            breach.message.starts_with(
                "writing \"b.txt\" needs 9.2 kB, but the workspace already holds 32.8 kB"
            ),
            "{breach}"
        );
        assert_eq!(budget.used(), 32 * KIB, "a refused hold changes nothing");
        drop(hold);
        budget.reserve(-(4 * KIB as i64), "shrink").unwrap();
        assert_eq!(budget.used(), 4 * KIB);
    }

    #[test]
    fn the_standard_folders_and_the_private_folder_are_free() {
        let dir = tempfile::tempdir().unwrap();
        for (folder, _) in WORKSPACE_FOLDERS {
            std::fs::create_dir(dir.path().join(folder)).unwrap();
        }
        std::fs::write(dir.path().join("output/x"), "").unwrap();
        let budget = DiskBudget::open(dir.path(), limits(1 << 30, 10)).unwrap();
        assert_eq!((budget.used(), budget.entries_used()), (4 * KIB, 1));
    }

    #[test]
    fn holds_count_until_given_back_and_commits_replace_what_they_overwrite() {
        let dir = tempfile::tempdir().unwrap();
        let budget = DiskBudget::open(dir.path(), limits(100 * KIB, 3)).unwrap();
        let small = budget.file_footprint(1);
        assert_eq!(
            small,
            Usage {
                bytes: 4 * KIB,
                entries: 1
            }
        );
        assert_eq!(budget.file_footprint(0), small, "empty files take a block");
        let hold = budget.hold(small.times(3), "three files").unwrap();
        let breach = budget.hold(small, "a fourth").unwrap_err();
        assert!(breach.message.contains("of the 3 it may hold"), "{breach}");
        drop(hold);
        assert_eq!(budget.entries_used(), 0, "a dropped hold is given back");

        budget.hold(small, "a file").unwrap().commit();
        let bigger = budget.file_footprint(9000);
        budget
            .hold_replacing(small, bigger, "growing it")
            .unwrap()
            .commit();
        assert_eq!((budget.used(), budget.entries_used()), (12 * KIB, 1));
        budget
            .hold_replacing(bigger, small, "shrinking it")
            .unwrap()
            .commit();
        assert_eq!((budget.used(), budget.entries_used()), (4 * KIB, 1));
    }

    #[test]
    fn two_budgets_on_one_workspace_share_the_quota() {
        let dir = tempfile::tempdir().unwrap();
        let first = DiskBudget::open(dir.path(), limits(40 * KIB, 100)).unwrap();
        let second = DiskBudget::open(dir.path(), limits(40 * KIB, 100)).unwrap();
        let hold = first.hold(first.file_footprint(30 * KIB), "first").unwrap();
        assert!(
            second
                .hold(second.file_footprint(30 * KIB), "second")
                .is_err()
        );
        hold.commit();
        assert_eq!(second.used(), 32 * KIB);
    }

    #[test]
    fn a_refusal_measures_again_and_sees_files_deleted_outside() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("big"), vec![0u8; 36 * KIB as usize]).unwrap();
        let budget = DiskBudget::open(dir.path(), limits(40 * KIB, 100)).unwrap();
        std::fs::remove_file(dir.path().join("big")).unwrap();
        // Measured just now: the refusal trusts the ledger.
        assert!(budget.hold(budget.file_footprint(8 * KIB), "x").is_err());
        std::thread::sleep(REMEASURE_AFTER);
        budget
            .hold(budget.file_footprint(8 * KIB), "x")
            .expect("measured again")
            .commit();
        assert_eq!(budget.used(), 8 * KIB);
    }

    #[test]
    fn temporaries_of_dead_processes_go_and_live_ones_stay() {
        let dir = tempfile::tempdir().unwrap();
        let budget = DiskBudget::open(dir.path(), limits(1 << 30, 100)).unwrap();
        let dead = "0123456789abcdef0123456789abcdef";
        let dead_temporary = dir.path().join(format!("{TEMPORARY_MARK}{dead}-x.tif"));
        std::fs::write(&dead_temporary, vec![0u8; 10_000]).unwrap();
        std::fs::write(budget.private().join(SESSIONS).join(dead), "").unwrap();
        let own_temporary = dir.path().join(format!("{}y", temporary_prefix()));
        std::fs::write(&own_temporary, "in flight").unwrap();
        let mut ledger = Ledger::default();
        ledger.held.insert(
            dead.into(),
            Usage {
                bytes: 1 << 20,
                entries: 5,
            },
        );
        write_ledger(&mut budget.lock_ledger(), &ledger).unwrap();

        let other = DiskBudget::open(dir.path(), limits(1 << 30, 100)).unwrap();
        assert!(!dead_temporary.exists());
        assert!(own_temporary.exists(), "a live process's temporary stays");
        assert!(!budget.private().join(SESSIONS).join(dead).exists());
        assert_eq!(
            other.used(),
            0,
            "the dead hold is forgotten; temporaries are not stored"
        );
    }

    #[test]
    fn a_torn_ledger_is_measured_again() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("a"), "x").unwrap();
        let budget = DiskBudget::open(dir.path(), limits(1 << 30, 100)).unwrap();
        std::fs::write(
            dir.path().join(PRIVATE_FOLDER).join(LEDGER),
            "{\"stored\": {\"by",
        )
        .unwrap();
        assert_eq!(budget.used(), 4 * KIB);
        let mut file = budget.lock_ledger();
        let mut ledger = read_ledger(&mut file).unwrap().unwrap();
        ledger.stored.bytes = 8 * KIB;
        write_ledger(&mut file, &ledger).unwrap();
        file.write_all(b"} trailing bytes of a longer ledger")
            .unwrap();
        drop(file);
        assert_eq!(budget.used(), 8 * KIB, "bytes after the ledger are ignored");
    }

    #[test]
    fn the_last_session_of_a_process_removes_its_lock_file() {
        let dir = tempfile::tempdir().unwrap();
        let first = DiskBudget::open(dir.path(), limits(1 << 30, 100)).unwrap();
        let second = DiskBudget::open(dir.path(), limits(1 << 30, 100)).unwrap();
        let presence = first.presence_path();
        drop(first);
        assert!(presence.exists(), "still used by the second session");
        drop(second);
        assert!(!presence.exists());
    }
}
