//! Downloads into the workspace: bytes into `<name>.part`, resumed with a
//! range request after a cut, checked against the catalogue's checksums,
//! renamed into place, then unpacked into `local_files/`.
//!
//! Every byte is charged to the disk quota before it is written: the whole
//! download when its size is known (so a product too big is refused before
//! the first byte), otherwise chunk by chunk; an archive's expanded size is
//! checked before it is unpacked. Zip and tar.gz archives whose entries would
//! land outside `local_files/` (`../`, absolute paths, links) are refused.
//! A failure leaves no partial product: a `.part` file stays only to be
//! resumed, an unpacking that fails is removed.
//!
//! Sessions on one workspace (two processes, a notebook and a REPL) download
//! a product one at a time: [`ProductLock`] is an advisory lock (`flock`)
//! on a file under the workspace's `.cleope/locks/`, which scripts cannot
//! reach, so a second download of the same product waits, then finds it
//! complete.

use std::fs::{File, OpenOptions};
use std::io::{Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use std::time::Duration;

/// The check of a path inside a product (a zip member, a node path), for
/// the catalogue too, which may name no crate below `eo`.
pub use cleope_sandbox::safe_relative_path;
use cleope_sandbox::{
    Breach, Cancel, DiskBudget, Hold, Stop, UnsafeName, Usage, Workspace, human_disk_bytes,
};

/// The file where downloads are recorded, one workspace path per line
/// (CLEOPE's `list_local.txt`).
pub const LIST_LOCAL: &str = "local_files/list_local.txt";

/// What the catalogue says the download should be.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Expected {
    /// Bytes, when known.
    pub size: Option<u64>,
    /// MD5, lowercase hex.
    pub md5: Option<String>,
    /// BLAKE3, lowercase hex.
    pub blake3: Option<String>,
}

/// The product's bytes from some offset on, as a server sent them. The
/// reader may borrow from its source (the interrupt it watches, the
/// runtime it reads on).
pub struct Body<'a> {
    /// The stream.
    pub reader: Box<dyn Read + Send + 'a>,
    /// Where the stream starts: the offset asked for, or 0 when the server
    /// ignored the range and sends everything.
    pub offset: u64,
    /// Bytes the stream will hold (Content-Length), when known.
    pub length: Option<u64>,
}

/// Where the bytes come from (the catalogue client, or a test).
pub trait Source {
    /// Opens the bytes from `offset` on (a range request when above 0).
    fn open(&mut self, offset: u64) -> Result<Body<'_>, DownloadError>;
}

/// What a progress counts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Unit {
    /// Bytes transferred.
    Bytes,
    /// Seconds waited (an order being restored).
    Seconds,
}

/// Shows how a transfer or a wait goes: a terminal bar, a notebook
/// display, or nothing.
pub trait Progress: Send + Sync {
    /// Work of `total` units (when known) begins.
    fn start(&self, label: &str, total: Option<u64>, unit: Unit);
    /// `done` units are done so far.
    fn advance(&self, done: u64);
    /// The transfer ended with `message`.
    fn finish(&self, message: &str);
}

/// Shows nothing.
#[derive(Debug, Default)]
pub struct NoProgress;

impl Progress for NoProgress {
    fn start(&self, _label: &str, _total: Option<u64>, _unit: Unit) {}
    fn advance(&self, _done: u64) {}
    fn finish(&self, _message: &str) {}
}

/// A progress bar on the terminal's stderr (indicatif); it draws nothing
/// when stderr is not a terminal (pipes, CI, tests).
#[derive(Debug, Default)]
pub struct TerminalProgress {
    bar: std::sync::Mutex<Option<indicatif::ProgressBar>>,
}

impl Progress for TerminalProgress {
    fn start(&self, label: &str, total: Option<u64>, unit: Unit) {
        let target = indicatif::ProgressDrawTarget::stderr();
        let bar = indicatif::ProgressBar::with_draw_target(total, target);
        let template = match unit {
            Unit::Bytes => "{msg} [{bar:30}] {bytes}/{total_bytes} {bytes_per_sec} {eta}",
            Unit::Seconds => "{msg} [{bar:30}] {pos}/{len} s",
        };
        let style = indicatif::ProgressStyle::with_template(template)
            .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar())
            .progress_chars("=> ");
        bar.set_style(style);
        bar.set_message(label.to_string());
        *self.bar.lock().unwrap_or_else(|e| e.into_inner()) = Some(bar);
    }

    fn advance(&self, done: u64) {
        if let Some(bar) = self.bar.lock().unwrap_or_else(|e| e.into_inner()).as_ref() {
            bar.set_position(done);
        }
    }

    fn finish(&self, message: &str) {
        if let Some(bar) = self.bar.lock().unwrap_or_else(|e| e.into_inner()).take() {
            bar.finish_with_message(message.to_string());
        }
    }
}

/// How often, and how patiently, a failed transfer is tried again.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RetryPolicy {
    /// Tries in all (the first included).
    pub attempts: u32,
    /// The wait before the second try; it doubles after each failure.
    pub first_delay: Duration,
    /// The longest wait between two tries.
    pub max_delay: Duration,
}

impl Default for RetryPolicy {
    /// Four tries, waiting 0.5 s, 1 s, then 2 s: enough for a busy server,
    /// short enough that a learner is not left waiting on a dead one.
    fn default() -> Self {
        RetryPolicy {
            attempts: 4,
            first_delay: Duration::from_millis(500),
            max_delay: Duration::from_secs(4),
        }
    }
}

impl RetryPolicy {
    /// The wait after failed try number `failed` (1 for the first).
    pub fn delay(&self, failed: u32) -> Duration {
        let factor = 1u32 << failed.saturating_sub(1).min(16);
        self.first_delay.saturating_mul(factor).min(self.max_delay)
    }

    /// Waits before the next try, giving up early on an interrupt or a time-out.
    pub fn wait(&self, failed: u32, cancel: &Cancel) -> Result<(), DownloadError> {
        pause(self.delay(failed), cancel).map_err(DownloadError::Stopped)
    }
}

/// Sleeps in short steps so an interrupt or the run's time limit ends the wait.
pub fn pause(duration: Duration, cancel: &Cancel) -> Result<(), Stop> {
    let until = std::time::Instant::now() + duration;
    loop {
        cancel.check()?;
        let left = until.saturating_duration_since(std::time::Instant::now());
        if left.is_zero() {
            return Ok(());
        }
        std::thread::sleep(left.min(Duration::from_millis(50)));
    }
}

/// The session's cap on transfers at once (CDSE allows an account four
/// connections, shared by all its sessions): a counting semaphore whose
/// waits end at the interrupt or the run's deadline.
#[derive(Debug)]
pub struct TransferSlots {
    cap: usize,
    busy: std::sync::Mutex<usize>,
    freed: std::sync::Condvar,
}

/// One transfer's place under the cap, given back when dropped.
#[derive(Debug)]
pub struct TransferSlot<'a>(&'a TransferSlots);

impl TransferSlots {
    /// At most `cap` transfers at once (at least one).
    pub fn new(cap: usize) -> TransferSlots {
        TransferSlots {
            cap: cap.max(1),
            busy: std::sync::Mutex::new(0),
            freed: std::sync::Condvar::new(),
        }
    }

    /// The cap.
    pub fn cap(&self) -> usize {
        self.cap
    }

    /// Waits for a free place (checking the interrupt and the deadline).
    pub fn acquire(&self, cancel: &Cancel) -> Result<TransferSlot<'_>, Stop> {
        let mut busy = self.busy.lock().unwrap_or_else(|e| e.into_inner());
        while *busy >= self.cap {
            cancel.check()?;
            busy = self
                .freed
                .wait_timeout(busy, Duration::from_millis(50))
                .unwrap_or_else(|e| e.into_inner())
                .0;
        }
        *busy += 1;
        Ok(TransferSlot(self))
    }
}

impl Drop for TransferSlot<'_> {
    fn drop(&mut self) {
        let mut busy = self.0.busy.lock().unwrap_or_else(|e| e.into_inner());
        *busy -= 1;
        self.0.freed.notify_one();
    }
}

/// Why a download or an unpacking failed.
#[derive(Debug, thiserror::Error)]
pub enum DownloadError {
    /// The disk quota would be exceeded.
    #[error("{0}")]
    Quota(Breach),
    /// The run was interrupted or ran out of time.
    #[error("the download was stopped")]
    Stopped(Stop),
    /// The bytes are not what the catalogue announced.
    #[error(
        "{name} is damaged: its {algorithm} checksum is {actual}, the catalogue says {expected}; the file was removed"
    )]
    Checksum {
        /// The product file name.
        name: String,
        /// MD5 or BLAKE3.
        algorithm: &'static str,
        /// What the catalogue says.
        expected: String,
        /// What arrived.
        actual: String,
    },
    /// The server sent more or fewer bytes than announced.
    #[error("{name} arrived with {actual} bytes, the catalogue says {expected}")]
    Size {
        /// The product file name.
        name: String,
        /// Announced.
        expected: u64,
        /// Received.
        actual: u64,
    },
    /// The transfer failed (connection, HTTP status), after retries when it could be retried.
    #[error("{message}")]
    Remote {
        /// What kind of failure.
        cause: Cause,
        /// What happened.
        message: String,
        /// How to fix it.
        hint: String,
        /// True for failures worth another try (a cut connection, 429, 5xx).
        retryable: bool,
    },
    /// A name from the catalogue or from an archive entry cannot become a
    /// file name (it would land outside its folder, or is not one name).
    #[error("{0}")]
    UnsafeName(UnsafeName),
    /// An archive entry is a link or a special file.
    #[error("refusing to unpack {archive}: {why}")]
    UnsafeArchive {
        /// The archive's file name.
        archive: String,
        /// Which entry, and why.
        why: String,
    },
    /// The archive could not be read.
    #[error("cannot unpack {archive}: {message}")]
    BadArchive {
        /// The archive's file name.
        archive: String,
        /// Why.
        message: String,
    },
    /// The file system refused.
    #[error("cannot write {path}: {error}")]
    Io {
        /// The file.
        path: String,
        /// Why.
        error: std::io::Error,
    },
}

impl DownloadError {
    /// How to fix it, in a learner's words.
    pub fn hint(&self) -> String {
        match self {
            DownloadError::Quota(breach) => breach.hint.clone(),
            DownloadError::Stopped(_) => {
                "run the download again: it resumes from where it stopped".into()
            }
            DownloadError::Checksum { .. } | DownloadError::Size { .. } => {
                "download it again; if it fails again, the catalogue's copy may be damaged".into()
            }
            DownloadError::Remote { hint, .. } => hint.clone(),
            DownloadError::UnsafeName(name) => name.hint(),
            DownloadError::UnsafeArchive { .. } => {
                "the archive was removed; products from the catalogue never hold such entries, \
                 so report the product to the catalogue's operators"
                    .into()
            }
            DownloadError::BadArchive { .. } => {
                "the archive was removed; download the product again".into()
            }
            DownloadError::Io { .. } => {
                "check that the workspace's local_files/ folder can be written".into()
            }
        }
    }

    fn io(path: &Path) -> impl FnOnce(std::io::Error) -> DownloadError + '_ {
        move |error| DownloadError::Io {
            path: path.display().to_string(),
            error,
        }
    }
}

/// What made a transfer fail.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Cause {
    /// The connection broke or was cut.
    Transfer,
    /// The catalogue refused the account.
    Login,
    /// The product is archived.
    Offline,
    /// The catalogue failed or answered something unusable.
    Catalogue,
    /// The catalogue sent it to a host outside the session's network grant.
    NotGranted,
    /// A file pattern matched none of the product's files.
    NoSuchFile,
    /// The server sent an error message where the data should be.
    ErrorPage,
    /// The account's downloads at once are used up at the server.
    AccountQuota,
    /// The account cannot log in with a password alone (two-factor).
    TwoFactor,
}

/// What the download needs of the session.
pub struct Limits<'a> {
    /// The workspace's disk quota.
    pub disk: &'a DiskBudget,
    /// The interrupt and the run's clock.
    pub cancel: &'a Cancel,
}

/// Bytes read and written per step; the interrupt is checked between steps.
const CHUNK: usize = 64 * 1024;

/// Downloads `source` into the file `target` through `<target>.part`:
/// resumes a `.part` left by an earlier try (sentinelsat's rule: larger
/// than announced → start again; as large → check it; smaller → resume),
/// retries a cut or failed transfer with a range request, verifies size
/// and checksums, and renames the file into place. Gives the file's size.
pub fn fetch(
    source: &mut dyn Source,
    target: &Path,
    expected: &Expected,
    limits: &Limits,
    progress: &dyn Progress,
    retry: &RetryPolicy,
) -> Result<u64, DownloadError> {
    let name = file_name(target);
    let part = part_path(target);
    let mut transfer = Transfer::resume(&part, expected, limits)?;
    let result = if transfer.complete(expected) {
        Ok(())
    } else {
        transfer.run(source, expected, limits, progress, retry)
    };
    // Quota reserved for bytes that never came is given back; the bytes
    // of a `.part` kept for resuming stay charged (they are on disk).
    let written = transfer.close(limits);
    if let Err(error) = result {
        // A `.part` is kept only when it holds something to resume from.
        if written == 0 {
            let _ = std::fs::remove_file(&part);
        }
        return Err(error);
    }
    finish(&part, target, &name, expected, limits, written)
}

fn is_retryable(error: &DownloadError) -> bool {
    matches!(
        error,
        DownloadError::Remote {
            retryable: true,
            ..
        }
    )
}

fn cut_error(name: &str, written: u64, size: Option<u64>) -> DownloadError {
    let of = size.map_or(String::new(), |s| format!(" of {}", human_disk_bytes(s)));
    DownloadError::Remote {
        cause: Cause::Transfer,
        message: format!(
            "the download of {name} kept being cut off ({} received{of})",
            human_disk_bytes(written)
        ),
        hint: "run it again later: it resumes from the bytes already received".into(),
        retryable: true,
    }
}

/// The `.part` file beside a download's target.
pub fn part_path(target: &Path) -> PathBuf {
    let mut name = target.file_name().unwrap_or_default().to_os_string();
    name.push(".part");
    target.with_file_name(name)
}

fn file_name(path: &Path) -> String {
    path.file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default()
}

/// A `.part` file being filled, and the disk space reserved for it.
struct Transfer<'a> {
    part: PathBuf,
    file: File,
    /// Bytes in the file.
    written: u64,
    /// Bytes the file held when this transfer began (already counted).
    began: u64,
    /// Bytes of quota reserved beyond `written` (released if unused).
    reserved_ahead: u64,
    /// The quota held for the bytes written and reserved ahead: a hold,
    /// not a charge, so that a session measuring the workspace meanwhile
    /// keeps it, and a killed process's hold is forgotten.
    hold: Hold<'a>,
}

impl<'a> Transfer<'a> {
    /// Opens the `.part` file, keeping what an earlier try left when it can
    /// be the start of the product, and reserves the rest of the download.
    fn resume(
        part: &Path,
        expected: &Expected,
        limits: &Limits<'a>,
    ) -> Result<Transfer<'a>, DownloadError> {
        if let Some(parent) = part.parent() {
            std::fs::create_dir_all(parent).map_err(DownloadError::io(parent))?;
        }
        let mut left = std::fs::metadata(part).map(|m| m.len()).unwrap_or(0);
        if expected.size.is_some_and(|size| left > size) {
            std::fs::remove_file(part).map_err(DownloadError::io(part))?;
            let _ = limits
                .disk
                .reserve(-(left as i64), "removing a stale .part");
            left = 0;
        }
        // The rest of a download of known size is reserved before the
        // first byte is written: a product too big is refused up front.
        let ahead = expected.size.map_or(0, |size| size - left);
        let name = file_name(part);
        let hold = limits
            .disk
            .hold(
                Usage::of_bytes(ahead),
                &format!("downloading {}", name.trim_end_matches(".part")),
            )
            .map_err(DownloadError::Quota)?;
        let file = OpenOptions::new()
            .create(true)
            .append(true)
            .open(part)
            .map_err(DownloadError::io(part))?;
        Ok(Transfer {
            part: part.to_path_buf(),
            file,
            written: left,
            began: left,
            reserved_ahead: ahead,
            hold,
        })
    }

    /// Transfers until the file is complete, resuming after cuts and
    /// retrying transient failures as `retry` allows.
    fn run(
        &mut self,
        source: &mut dyn Source,
        expected: &Expected,
        limits: &Limits,
        progress: &dyn Progress,
        retry: &RetryPolicy,
    ) -> Result<(), DownloadError> {
        let name = file_name(&self.part).trim_end_matches(".part").to_string();
        progress.start(&name, expected.size, Unit::Bytes);
        let mut failed = 0;
        loop {
            match self.continue_from(source, expected, limits, progress) {
                Ok(()) if expected.size.is_none() || self.complete(expected) => break,
                // The stream ended early: a cut connection, to be resumed.
                Ok(()) => {
                    failed += 1;
                    if failed >= retry.attempts {
                        progress.finish("cut off");
                        return Err(cut_error(&name, self.written, expected.size));
                    }
                }
                Err(error) if is_retryable(&error) && failed + 1 < retry.attempts => failed += 1,
                Err(error) => {
                    progress.finish("failed");
                    return Err(error);
                }
            }
            retry.wait(failed, limits.cancel)?;
        }
        progress.finish("done");
        Ok(())
    }

    /// Closes the file: the bytes it gained are stored, the quota held for
    /// bytes that never came is given back (with the hold). Tells how many
    /// bytes the file holds.
    fn close(mut self, limits: &Limits) -> u64 {
        self.hold
            .settle(Usage::of_bytes(self.written.saturating_sub(self.began)));
        limits
            .disk
            .release(Usage::of_bytes(self.began.saturating_sub(self.written)));
        self.written
    }

    fn complete(&self, expected: &Expected) -> bool {
        expected.size.is_some_and(|size| self.written == size)
    }

    /// Reserves `bytes` more of the quota for what is still to come.
    fn reserve_ahead(&mut self, bytes: u64) -> Result<(), DownloadError> {
        let name = file_name(&self.part);
        let name = name.trim_end_matches(".part");
        self.hold
            .grow(Usage::of_bytes(bytes), &format!("downloading {name}"))
            .map_err(DownloadError::Quota)?;
        self.reserved_ahead += bytes;
        Ok(())
    }

    /// Reads the rest of the product from `source`, appending to the file.
    fn continue_from(
        &mut self,
        source: &mut dyn Source,
        expected: &Expected,
        limits: &Limits,
        progress: &dyn Progress,
    ) -> Result<(), DownloadError> {
        let body = source.open(self.written)?;
        if body.offset != self.written {
            // The server ignored the range: start the file again.
            self.restart(body.offset)?;
        }
        if expected.size.is_none()
            && let Some(length) = body.length
        {
            let ahead = self.reserved_ahead;
            self.reserve_ahead(length.saturating_sub(ahead))?;
        }
        self.copy(body.reader, expected, limits, progress)
    }

    fn restart(&mut self, offset: u64) -> Result<(), DownloadError> {
        self.file
            .set_len(offset)
            .and_then(|_| self.file.seek(SeekFrom::End(0)).map(|_| ()))
            .map_err(DownloadError::io(&self.part))?;
        // The bytes dropped are needed again: their quota stays reserved, ahead.
        self.reserved_ahead += self.written - offset;
        self.written = offset;
        Ok(())
    }

    fn copy(
        &mut self,
        mut reader: Box<dyn Read + Send + '_>,
        expected: &Expected,
        limits: &Limits,
        progress: &dyn Progress,
    ) -> Result<(), DownloadError> {
        let mut buffer = vec![0u8; CHUNK];
        loop {
            limits.cancel.check().map_err(DownloadError::Stopped)?;
            let read = match reader.read(&mut buffer) {
                Ok(0) => return Ok(()),
                Ok(read) => read,
                // A read cut short by the interrupt or the deadline: the
                // check at the top of the loop says which.
                Err(error) if error.kind() == std::io::ErrorKind::Interrupted => continue,
                Err(error) => {
                    limits.cancel.check().map_err(DownloadError::Stopped)?;
                    return Err(DownloadError::Remote {
                        cause: Cause::Transfer,
                        message: format!("the connection broke: {error}"),
                        hint: "run it again: it resumes from the bytes already received".into(),
                        retryable: true,
                    });
                }
            };
            if let Some(size) = expected.size
                && self.written + read as u64 > size
            {
                return Err(DownloadError::Size {
                    name: file_name(&self.part).trim_end_matches(".part").to_string(),
                    expected: size,
                    actual: self.written + read as u64,
                });
            }
            if self.reserved_ahead < read as u64 {
                let more = read as u64 - self.reserved_ahead;
                self.reserve_ahead(more)?;
            }
            self.file
                .write_all(&buffer[..read])
                .map_err(DownloadError::io(&self.part))?;
            self.reserved_ahead -= read as u64;
            self.written += read as u64;
            progress.advance(self.written);
        }
    }
}

/// Verifies the complete `.part` and renames it to `target`.
fn finish(
    part: &Path,
    target: &Path,
    name: &str,
    expected: &Expected,
    limits: &Limits,
    written: u64,
) -> Result<u64, DownloadError> {
    if let Err(error) = verify(part, name, expected, written) {
        let _ = std::fs::remove_file(part);
        let _ = limits
            .disk
            .reserve(-(written as i64), "removing a damaged download");
        return Err(error);
    }
    std::fs::rename(part, target).map_err(DownloadError::io(target))?;
    Ok(written)
}

/// Checks a finished download against the announced size and checksums.
pub fn verify(
    path: &Path,
    name: &str,
    expected: &Expected,
    size: u64,
) -> Result<(), DownloadError> {
    if let Some(want) = expected.size
        && want != size
    {
        return Err(DownloadError::Size {
            name: name.to_string(),
            expected: want,
            actual: size,
        });
    }
    if expected.md5.is_none() && expected.blake3.is_none() {
        return Ok(());
    }
    let (_, md5, blake3) = crate::archive::checksums(path).map_err(|e| DownloadError::Io {
        path: path.display().to_string(),
        error: std::io::Error::other(e.to_string()),
    })?;
    let checks = [
        ("MD5", &expected.md5, md5),
        ("BLAKE3", &expected.blake3, blake3),
    ];
    for (algorithm, want, actual) in checks {
        if let Some(want) = want
            && !want.eq_ignore_ascii_case(&actual)
        {
            return Err(DownloadError::Checksum {
                name: name.to_string(),
                algorithm,
                expected: want.to_ascii_lowercase(),
                actual,
            });
        }
    }
    Ok(())
}

/// How a product is packed: how an archive stores it, how its download
/// comes, and so how a downloaded file is unpacked. In an archive record
/// it is `"zip"`, `"tar.gz"` or `"file"`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum Packing {
    /// A zip archive (SAFE, SEN3 and S5P products from ONDA); in an
    /// archive, a folder named like the zip, downloaded as a zip of it.
    #[serde(rename = "zip")]
    Zip,
    /// A gzip-compressed tar archive (Landsat).
    #[serde(rename = "tar.gz")]
    TarGz,
    /// A single file kept as it is (netCDF), in the archive and as the download.
    #[serde(rename = "file")]
    File,
}

impl Packing {
    /// The packing a file name says.
    pub fn of(name: &str) -> Packing {
        let lower = name.to_ascii_lowercase();
        if lower.ends_with(".zip") {
            Packing::Zip
        } else if lower.ends_with(".tar.gz") || lower.ends_with(".tgz") {
            Packing::TarGz
        } else {
            Packing::File
        }
    }
}

/// One entry of an archive, checked.
struct Entry {
    /// Path inside the archive, `/`-separated, safe.
    path: String,
    is_dir: bool,
    size: u64,
}

/// Unpacks a downloaded archive into `folder` (local_files/) and removes
/// it; a plain file stays as it is. Gives the product's path: the archive's
/// single top-level entry (e.g. `X.SAFE`), or `<folder>/<stem>` when it
/// holds several. The expanded size is charged to the disk quota before
/// anything is written; unsafe entries are refused before anything is written.
pub fn unpack(archive: &Path, folder: &Path, limits: &Limits) -> Result<PathBuf, DownloadError> {
    let name = file_name(archive);
    let packing = Packing::of(&name);
    if packing == Packing::File {
        return Ok(archive.to_path_buf());
    }
    let archive_size = std::fs::metadata(archive)
        .map_err(DownloadError::io(archive))?
        .len();
    let entries = match list_entries(archive, packing, &name) {
        Ok(entries) => entries,
        Err(error) => {
            discard(archive, archive_size, limits);
            return Err(error);
        }
    };
    let expanded: u64 = entries.iter().map(|e| e.size).sum();
    // Every file and folder it makes is charged, so an archive of a
    // million empty entries is refused like one of a million bytes.
    let hold = limits
        .disk
        .hold(
            unpacked_footprint(&entries, limits.disk),
            &format!(
                "unpacking {name} (it expands to {} in {} entries; the download itself is kept in local_files/)",
                human_disk_bytes(expanded),
                entries.len()
            ),
        )
        .map_err(DownloadError::Quota)?;
    let staging = folder.join(format!(".unpacking-{name}"));
    let result = extract(archive, packing, &name, &entries, &staging, limits)
        .and_then(|_| place(&staging, folder, &name, limits));
    match result {
        Ok(path) => {
            hold.commit();
            discard(archive, archive_size, limits);
            Ok(path)
        }
        Err(error) => {
            let _ = std::fs::remove_dir_all(&staging);
            Err(error)
        }
    }
}

/// What unpacking `entries` costs: each file and folder, the folders their
/// paths imply included, and the product folder when there are several
/// top-level entries.
fn unpacked_footprint(entries: &[Entry], disk: &DiskBudget) -> Usage {
    let mut folders = std::collections::BTreeSet::new();
    let mut tops = std::collections::BTreeSet::new();
    let mut files = Usage::NONE;
    for entry in entries.iter().filter(|e| !e.path.is_empty()) {
        if entry.is_dir {
            folders.insert(entry.path.as_str());
        } else {
            files = files.plus(disk.file_footprint(entry.size));
        }
        let mut path = entry.path.as_str();
        while let Some((parent, _)) = path.rsplit_once('/') {
            folders.insert(parent);
            path = parent;
        }
        tops.insert(path);
    }
    let product_folder = u64::from(tops.len() > 1);
    files.plus(
        disk.folder_footprint()
            .times(folders.len() as u64 + product_folder),
    )
}

/// Removes a file and gives its size back to the quota.
fn discard(path: &Path, size: u64, limits: &Limits) {
    if std::fs::remove_file(path).is_ok() {
        let _ = limits.disk.reserve(-(size as i64), "removed");
    }
}

/// Lists and checks every entry: relative paths without `..`, regular
/// files and folders only.
fn list_entries(archive: &Path, packing: Packing, name: &str) -> Result<Vec<Entry>, DownloadError> {
    let bad = |message: String| DownloadError::BadArchive {
        archive: name.to_string(),
        message,
    };
    let file = File::open(archive).map_err(DownloadError::io(archive))?;
    let mut entries = Vec::new();
    match packing {
        Packing::Zip => {
            let mut zip = zip::ZipArchive::new(std::io::BufReader::new(file))
                .map_err(|e| bad(format!("not a zip archive ({e})")))?;
            for index in 0..zip.len() {
                let entry = zip.by_index_raw(index).map_err(|e| bad(e.to_string()))?;
                let raw = entry.name().map_err(|e| bad(e.to_string()))?.into_owned();
                if entry.is_symlink() {
                    return Err(unsafe_entry(name, &raw, "is a symbolic link"));
                }
                entries.push(Entry {
                    path: checked_path(name, &raw)?,
                    is_dir: entry.is_dir(),
                    size: entry.size(),
                });
            }
        }
        Packing::TarGz => {
            let mut tar = tar::Archive::new(flate2::read::GzDecoder::new(file));
            for entry in tar.entries().map_err(|e| bad(e.to_string()))? {
                let entry = entry.map_err(|e| bad(e.to_string()))?;
                let raw = String::from_utf8_lossy(&entry.path_bytes()).into_owned();
                let kind = entry.header().entry_type();
                if !(kind.is_file() || kind.is_dir()) {
                    return Err(unsafe_entry(name, &raw, "is a link or a special file"));
                }
                entries.push(Entry {
                    path: checked_path(name, &raw)?,
                    is_dir: kind.is_dir(),
                    size: entry.header().size().map_err(|e| bad(e.to_string()))?,
                });
            }
        }
        Packing::File => {}
    }
    if entries.iter().all(|e| e.path.is_empty()) {
        return Err(bad("it is empty".into()));
    }
    Ok(entries)
}

fn unsafe_entry(archive: &str, entry: &str, why: &str) -> DownloadError {
    DownloadError::UnsafeArchive {
        archive: archive.to_string(),
        why: format!("the entry \"{entry}\" {why}"),
    }
}

/// An entry's path, normalised, refused when it is absolute, climbs out
/// with `..` or holds a name that cannot be a file name.
fn checked_path(archive: &str, raw: &str) -> Result<String, DownloadError> {
    safe_relative_path(raw, &format!("entry of the archive {archive}"))
        .map_err(DownloadError::UnsafeName)
}

/// Writes the checked entries under `staging`; gives the bytes written.
/// A member longer than its header said is cut off and refused.
fn extract(
    archive: &Path,
    packing: Packing,
    name: &str,
    entries: &[Entry],
    staging: &Path,
    limits: &Limits,
) -> Result<u64, DownloadError> {
    if staging.exists() {
        std::fs::remove_dir_all(staging).map_err(DownloadError::io(staging))?;
    }
    std::fs::create_dir_all(staging).map_err(DownloadError::io(staging))?;
    let bad = |message: String| DownloadError::BadArchive {
        archive: name.to_string(),
        message,
    };
    let file = File::open(archive).map_err(DownloadError::io(archive))?;
    let mut written = 0;
    match packing {
        Packing::Zip => {
            let mut zip = zip::ZipArchive::new(std::io::BufReader::new(file))
                .map_err(|e| bad(e.to_string()))?;
            for (index, entry) in entries.iter().enumerate() {
                let member = zip.by_index(index).map_err(|e| bad(e.to_string()))?;
                written += write_entry(member, entry, staging, name, limits)?;
            }
        }
        Packing::TarGz => {
            let mut tar = tar::Archive::new(flate2::read::GzDecoder::new(file));
            let members = tar.entries().map_err(|e| bad(e.to_string()))?;
            for (member, entry) in members.zip(entries) {
                let member = member.map_err(|e| bad(e.to_string()))?;
                written += write_entry(member, entry, staging, name, limits)?;
            }
        }
        Packing::File => {}
    }
    Ok(written)
}

fn write_entry(
    member: impl Read,
    entry: &Entry,
    staging: &Path,
    archive: &str,
    limits: &Limits,
) -> Result<u64, DownloadError> {
    limits.cancel.check().map_err(DownloadError::Stopped)?;
    if entry.path.is_empty() {
        return Ok(0);
    }
    let target = staging.join(&entry.path);
    if entry.is_dir {
        std::fs::create_dir_all(&target).map_err(DownloadError::io(&target))?;
        return Ok(0);
    }
    if let Some(parent) = target.parent() {
        std::fs::create_dir_all(parent).map_err(DownloadError::io(parent))?;
    }
    let mut out = File::create(&target).map_err(DownloadError::io(&target))?;
    // One byte more than announced is enough to know the header lied.
    let mut limited = member.take(entry.size + 1);
    let copied = std::io::copy(&mut limited, &mut out).map_err(|e| DownloadError::BadArchive {
        archive: archive.to_string(),
        message: format!("{}: {e}", entry.path),
    })?;
    if copied > entry.size {
        return Err(DownloadError::BadArchive {
            archive: archive.to_string(),
            message: format!(
                "{} holds more than the {} bytes its header announces",
                entry.path, entry.size
            ),
        });
    }
    cleope_sandbox::files::make_readable(&out).map_err(DownloadError::io(&target))?;
    Ok(copied)
}

/// Moves the unpacked content into `folder`: the single top-level entry
/// as it is, or the whole staging folder under the archive's stem.
fn place(
    staging: &Path,
    folder: &Path,
    name: &str,
    limits: &Limits,
) -> Result<PathBuf, DownloadError> {
    let top: Vec<PathBuf> = std::fs::read_dir(staging)
        .map_err(DownloadError::io(staging))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .collect();
    let (from, to) = match top.as_slice() {
        [single] => {
            let entry = single.file_name().unwrap_or_default().to_string_lossy();
            let entry = local_name(&entry, &format!("top folder of the archive {name}"))
                .map_err(DownloadError::UnsafeName)?;
            (single.clone(), folder.join(entry))
        }
        _ => {
            let stem = local_name(archive_stem(name), &format!("name of the archive {name}"))
                .map_err(DownloadError::UnsafeName)?;
            (staging.to_path_buf(), folder.join(stem))
        }
    };
    if to.exists() {
        // An older copy of the same product is replaced, as CLEOPE did.
        let old = limits.disk.footprint_of(&to);
        remove_any(&to).map_err(DownloadError::io(&to))?;
        limits.disk.release(old);
    }
    std::fs::rename(&from, &to).map_err(DownloadError::io(&to))?;
    if from != staging {
        let _ = std::fs::remove_dir_all(staging);
    }
    Ok(to)
}

/// A file name without its archive extension.
pub fn archive_stem(name: &str) -> &str {
    let lower = name.to_ascii_lowercase();
    for ext in [".tar.gz", ".tgz", ".zip"] {
        if lower.ends_with(ext) {
            return &name[..name.len() - ext.len()];
        }
    }
    name
}

fn remove_any(path: &Path) -> std::io::Result<()> {
    if path.is_dir() {
        std::fs::remove_dir_all(path)
    } else {
        std::fs::remove_file(path)
    }
}

/// The name a product (or an archive's top-level entry) takes in
/// `local_files/`: one safe file name ([`cleope_sandbox::safe_component`]),
/// and not the name of cleope's own list of downloads.
pub fn local_name<'a>(name: &'a str, origin: &str) -> Result<&'a str, UnsafeName> {
    let name = cleope_sandbox::safe_component(name, origin)?;
    let list = Path::new(LIST_LOCAL).file_name().unwrap_or_default();
    if list.eq_ignore_ascii_case(name) {
        return Err(UnsafeName {
            name: name.to_string(),
            origin: origin.to_string(),
            why: "is the name of cleope's own list of downloads",
        });
    }
    Ok(name)
}

/// The lock file of a product's download: `<workspace>/.cleope/locks/<stem>.lock`
/// (the stem, so `X.zip` and `X.SAFE` share it). `name` must be a checked
/// [`local_name`].
pub fn product_lock_path(workspace_root: &Path, name: &str) -> PathBuf {
    workspace_root
        .join(cleope_sandbox::PRIVATE_FOLDER)
        .join("locks")
        .join(format!("{}.lock", crate::ens::name_stem(name)))
}

/// A product's download lock (an advisory `flock` on its lock file), held
/// until dropped; the kernel lets it go if the process dies.
pub struct ProductLock {
    _file: File,
}

impl ProductLock {
    /// Takes the lock of `name` in the workspace at `workspace_root`,
    /// waiting while another session (another process, or another run)
    /// holds it. The wait goes in short steps, so the interrupt or the
    /// run's time limit ends it.
    pub fn acquire(
        workspace_root: &Path,
        name: &str,
        cancel: &Cancel,
    ) -> Result<ProductLock, DownloadError> {
        let path = product_lock_path(workspace_root, name);
        if let Some(folder) = path.parent() {
            std::fs::create_dir_all(folder).map_err(DownloadError::io(folder))?;
        }
        let file = OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&path)
            .map_err(DownloadError::io(&path))?;
        loop {
            match file.try_lock() {
                Ok(()) => return Ok(ProductLock { _file: file }),
                Err(std::fs::TryLockError::WouldBlock) => {
                    pause(Duration::from_millis(50), cancel).map_err(DownloadError::Stopped)?;
                }
                Err(std::fs::TryLockError::Error(error)) => {
                    return Err(DownloadError::io(&path)(error));
                }
            }
        }
    }
}

/// Adds a workspace path to `local_files/list_local.txt` (once).
pub fn record_local(ws: &Workspace, disk: &DiskBudget, entry: &str) -> Result<(), DownloadError> {
    let file_error = |e: cleope_sandbox::files::FileError| match e {
        cleope_sandbox::files::FileError::Quota(breach) => DownloadError::Quota(breach),
        other => DownloadError::Io {
            path: LIST_LOCAL.into(),
            error: std::io::Error::other(other.to_string()),
        },
    };
    let real = ws
        .resolve(LIST_LOCAL, cleope_sandbox::Access::Write)
        .map_err(|e| DownloadError::Io {
            path: LIST_LOCAL.into(),
            error: std::io::Error::other(e.to_string()),
        })?;
    let mut text = std::fs::read_to_string(&real).unwrap_or_default();
    if text.lines().any(|line| line.trim() == entry) {
        return Ok(());
    }
    if !text.is_empty() && !text.ends_with('\n') {
        text.push('\n');
    }
    text.push_str(entry);
    text.push('\n');
    cleope_sandbox::files::write_bytes(ws, disk, LIST_LOCAL, text.as_bytes())
        .map(|_| ())
        .map_err(file_error)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Cursor;

    /// A product served from memory: honours ranges (unless told not to),
    /// and cuts the stream after `cut_after` bytes on the first opens.
    struct Served {
        bytes: Vec<u8>,
        cuts: Vec<u64>,
        ignores_ranges: bool,
        opened_at: Vec<u64>,
    }

    impl Served {
        fn new(bytes: Vec<u8>) -> Served {
            Served {
                bytes,
                cuts: Vec::new(),
                ignores_ranges: false,
                opened_at: Vec::new(),
            }
        }
    }

    impl Source for Served {
        fn open(&mut self, offset: u64) -> Result<Body<'_>, DownloadError> {
            self.opened_at.push(offset);
            let start = if self.ignores_ranges { 0 } else { offset };
            let mut end = self.bytes.len() as u64;
            if !self.cuts.is_empty() {
                end = self.cuts.remove(0);
            }
            let slice = self.bytes[start as usize..end as usize].to_vec();
            Ok(Body {
                reader: Box::new(Cursor::new(slice)),
                offset: start,
                length: Some(self.bytes.len() as u64 - start),
            })
        }
    }

    struct Setup {
        dir: tempfile::TempDir,
        disk: DiskBudget,
        cancel: Cancel,
    }

    impl Setup {
        fn new(quota: u64) -> Setup {
            let dir = tempfile::tempdir().unwrap();
            std::fs::create_dir_all(dir.path().join("local_files")).unwrap();
            let disk = DiskBudget::measure(dir.path(), quota);
            Setup {
                dir,
                disk,
                cancel: Cancel::default(),
            }
        }

        fn limits(&self) -> Limits<'_> {
            Limits {
                disk: &self.disk,
                cancel: &self.cancel,
            }
        }

        fn local(&self) -> PathBuf {
            self.dir.path().join("local_files")
        }
    }

    fn quick() -> RetryPolicy {
        RetryPolicy {
            attempts: 3,
            first_delay: Duration::from_millis(1),
            max_delay: Duration::from_millis(5),
        }
    }

    fn expected_of(bytes: &[u8]) -> Expected {
        use md5::Digest;
        Expected {
            size: Some(bytes.len() as u64),
            md5: Some(data_encoding::HEXLOWER.encode(&md5::Md5::digest(bytes))),
            blake3: Some(blake3::hash(bytes).to_hex().to_string()),
        }
    }

    fn payload(len: usize) -> Vec<u8> {
        (0..len).map(|i| (i * 7 % 251) as u8).collect()
    }

    #[test]
    fn a_download_lands_whole_and_verified_with_no_part_left() {
        let setup = Setup::new(1 << 30);
        let bytes = payload(300_000);
        let target = setup.local().join("P.zip");
        let mut source = Served::new(bytes.clone());
        let size = fetch(
            &mut source,
            &target,
            &expected_of(&bytes),
            &setup.limits(),
            &NoProgress,
            &quick(),
        )
        .unwrap();
        assert_eq!(size, 300_000);
        assert_eq!(std::fs::read(&target).unwrap(), bytes);
        assert!(!part_path(&target).exists());
        assert_eq!(setup.disk.used(), 300_000);
    }

    #[test]
    fn a_cut_download_resumes_with_a_range_from_where_it_stopped() {
        let setup = Setup::new(1 << 30);
        let bytes = payload(300_000);
        let target = setup.local().join("P.zip");
        let mut source = Served::new(bytes.clone());
        source.cuts = vec![100_000, 200_000];
        fetch(
            &mut source,
            &target,
            &expected_of(&bytes),
            &setup.limits(),
            &NoProgress,
            &quick(),
        )
        .unwrap();
        assert_eq!(source.opened_at, [0, 100_000, 200_000]);
        assert_eq!(std::fs::read(&target).unwrap(), bytes);
        assert_eq!(setup.disk.used(), 300_000);
    }

    #[test]
    fn a_part_left_by_an_earlier_session_is_resumed_and_a_longer_one_restarted() {
        let setup = Setup::new(1 << 30);
        let bytes = payload(50_000);
        let target = setup.local().join("P.zip");
        std::fs::write(part_path(&target), &bytes[..20_000]).unwrap();
        let mut source = Served::new(bytes.clone());
        fetch(
            &mut source,
            &target,
            &expected_of(&bytes),
            &setup.limits(),
            &NoProgress,
            &quick(),
        )
        .unwrap();
        assert_eq!(source.opened_at, [20_000]);
        assert_eq!(std::fs::read(&target).unwrap(), bytes);

        let other = setup.local().join("Q.zip");
        std::fs::write(part_path(&other), payload(60_000)).unwrap();
        let mut source = Served::new(bytes.clone());
        fetch(
            &mut source,
            &other,
            &expected_of(&bytes),
            &setup.limits(),
            &NoProgress,
            &quick(),
        )
        .unwrap();
        assert_eq!(
            source.opened_at,
            [0],
            "a .part longer than the product starts again"
        );
    }

    #[test]
    fn a_server_that_ignores_ranges_makes_the_file_start_again() {
        let setup = Setup::new(1 << 30);
        let bytes = payload(90_000);
        let target = setup.local().join("P.zip");
        let mut source = Served::new(bytes.clone());
        source.cuts = vec![30_000, 90_000];
        source.ignores_ranges = true;
        fetch(
            &mut source,
            &target,
            &expected_of(&bytes),
            &setup.limits(),
            &NoProgress,
            &quick(),
        )
        .unwrap();
        assert_eq!(std::fs::read(&target).unwrap(), bytes);
        assert_eq!(setup.disk.used(), 90_000);
    }

    #[test]
    fn a_checksum_mismatch_removes_the_file_and_says_which_checksum() {
        let setup = Setup::new(1 << 30);
        let bytes = payload(10_000);
        let target = setup.local().join("P.zip");
        let mut expected = expected_of(&bytes);
        expected.md5 = Some("00000000000000000000000000000000".into());
        let error = fetch(
            &mut Served::new(bytes),
            &target,
            &expected,
            &setup.limits(),
            &NoProgress,
            &quick(),
        )
        .unwrap_err();
        let message = error.to_string();
        assert!(
            message.starts_with("P.zip is damaged: its MD5 checksum is "),
            "{message}"
        );
        assert!(message.ends_with("the file was removed"), "{message}");
        assert!(!target.exists() && !part_path(&target).exists());
        assert_eq!(setup.disk.used(), 0);
    }

    #[test]
    fn a_download_larger_than_the_quota_is_refused_before_writing() {
        let setup = Setup::new(5_000);
        let bytes = payload(10_000);
        let target = setup.local().join("P.zip");
        let error = fetch(
            &mut Served::new(bytes.clone()),
            &target,
            &expected_of(&bytes),
            &setup.limits(),
            &NoProgress,
            &quick(),
        )
        .unwrap_err();
        assert!(matches!(error, DownloadError::Quota(_)), "{error}");
        assert!(
            error
                .to_string()
                .contains("downloading P.zip needs 10.0 kB"),
            "{error}"
        );
        assert!(!part_path(&target).exists(), "nothing written");
        assert_eq!(setup.disk.used(), 0);
    }

    #[test]
    fn an_unknown_size_is_charged_as_it_arrives() {
        let setup = Setup::new(5_000);
        let target = setup.local().join("P.nc");
        struct Unsized(Vec<u8>);
        impl Source for Unsized {
            fn open(&mut self, _offset: u64) -> Result<Body<'_>, DownloadError> {
                Ok(Body {
                    reader: Box::new(Cursor::new(self.0.clone())),
                    offset: 0,
                    length: None,
                })
            }
        }
        let error = fetch(
            &mut Unsized(payload(200_000)),
            &target,
            &Expected::default(),
            &setup.limits(),
            &NoProgress,
            &quick(),
        )
        .unwrap_err();
        assert!(matches!(error, DownloadError::Quota(_)), "{error}");
        let written = std::fs::metadata(part_path(&target))
            .map(|m| m.len())
            .unwrap_or(0);
        assert!(written <= 5_000, "stopped at the quota: {written}");
    }

    fn zip_of(path: &Path, members: &[(&str, &[u8])]) {
        let file = File::create(path).unwrap();
        let mut zip = zip::ZipWriter::new(file);
        let options = zip::write::SimpleFileOptions::default();
        for (name, bytes) in members {
            zip.start_file(*name, options).unwrap();
            zip.write_all(bytes).unwrap();
        }
        zip.finish().unwrap();
    }

    #[test]
    fn a_zip_unpacks_its_single_folder_into_local_files_and_is_removed() {
        let setup = Setup::new(1 << 30);
        let archive = setup.local().join("S2A_X.zip");
        zip_of(
            &archive,
            &[
                ("S2A_X.SAFE/MTD.xml", b"<x/>"),
                ("S2A_X.SAFE/GRANULE/B04.jp2", &[7u8; 1000]),
            ],
        );
        let size = std::fs::metadata(&archive).unwrap().len();
        setup.disk.reserve(size as i64, "test").unwrap();
        let product = unpack(&archive, &setup.local(), &setup.limits()).unwrap();
        assert_eq!(product, setup.local().join("S2A_X.SAFE"));
        assert_eq!(
            std::fs::read(product.join("GRANULE/B04.jp2"))
                .unwrap()
                .len(),
            1000
        );
        assert!(!archive.exists());
        // Two files and the two folders their paths imply: a block each.
        assert_eq!(setup.disk.used(), 4 * 4096);
        assert_eq!(setup.disk.entries_used(), 4);
        assert_eq!(
            std::fs::read_dir(setup.local()).unwrap().count(),
            1,
            "no staging folder left"
        );
    }

    #[test]
    fn entries_climbing_out_or_absolute_are_refused_and_nothing_is_written() {
        let setup = Setup::new(1 << 30);
        for evil in [
            "../escape.txt",
            "X.SAFE/../../escape.txt",
            "/tmp/escape.txt",
        ] {
            let archive = setup.local().join("EVIL.zip");
            zip_of(&archive, &[("X.SAFE/a.txt", b"a"), (evil, b"pwned")]);
            let error = unpack(&archive, &setup.local(), &setup.limits()).unwrap_err();
            assert!(matches!(error, DownloadError::UnsafeName(_)), "{error}");
            assert!(error.to_string().contains(evil), "{error}");
            assert!(!archive.exists(), "the unsafe archive is removed");
            assert_eq!(
                std::fs::read_dir(setup.local()).unwrap().count(),
                0,
                "{evil}"
            );
        }
        assert!(!setup.dir.path().join("escape.txt").exists());
    }

    #[test]
    fn an_archive_of_many_empty_entries_is_refused_at_the_entry_cap() {
        let mut setup = Setup::new(1 << 30);
        let limits = cleope_sandbox::DiskLimits {
            bytes: 1 << 30,
            entries: 100,
        };
        setup.disk = DiskBudget::open(setup.dir.path(), limits).unwrap();
        let archive = setup.local().join("MANY.zip");
        let names: Vec<String> = (0..500).map(|i| format!("MANY.SAFE/e{i}")).collect();
        let members: Vec<(&str, &[u8])> = names.iter().map(|n| (n.as_str(), &b""[..])).collect();
        zip_of(&archive, &members);
        let error = unpack(&archive, &setup.local(), &setup.limits()).unwrap_err();
        assert!(matches!(error, DownloadError::Quota(_)), "{error}");
        assert!(
            error
                .to_string()
                .contains("needs 501 more file(s) or folder(s)"),
            "500 files and their folder: {error}"
        );
        assert!(
            !setup.local().join("MANY.SAFE").exists(),
            "nothing unpacked"
        );
        assert!(archive.exists(), "kept, to unpack once there is room");
        assert_eq!(
            setup.disk.entries_used(),
            0,
            "a refused unpacking charges nothing"
        );
    }

    #[test]
    fn an_archive_expanding_past_the_quota_is_refused_and_kept() {
        let setup = Setup::new(20_000);
        let archive = setup.local().join("BIG.zip");
        // Deflate squeezes 50 kB of zeros into a few hundred bytes.
        let file = File::create(&archive).unwrap();
        let mut zip = zip::ZipWriter::new(file);
        let options = zip::write::SimpleFileOptions::default()
            .compression_method(zip::CompressionMethod::Deflated);
        zip.start_file("BIG.SAFE/zeros.bin", options).unwrap();
        zip.write_all(&[0u8; 50_000]).unwrap();
        zip.finish().unwrap();
        let error = unpack(&archive, &setup.local(), &setup.limits()).unwrap_err();
        assert!(matches!(error, DownloadError::Quota(_)), "{error}");
        assert!(error.to_string().contains("expands to 50.0 kB"), "{error}");
        assert!(archive.exists(), "kept, to unpack once space is freed");
        assert!(!setup.local().join("BIG.SAFE").exists());
    }

    fn tar_gz_of(
        path: &Path,
        build: impl FnOnce(&mut tar::Builder<flate2::write::GzEncoder<File>>),
    ) {
        let file = File::create(path).unwrap();
        let gz = flate2::write::GzEncoder::new(file, flate2::Compression::fast());
        let mut tar = tar::Builder::new(gz);
        build(&mut tar);
        tar.into_inner().unwrap().finish().unwrap();
    }

    fn tar_file(tar: &mut tar::Builder<flate2::write::GzEncoder<File>>, name: &str, bytes: &[u8]) {
        let mut header = tar::Header::new_gnu();
        header.set_size(bytes.len() as u64);
        header.set_mode(0o644);
        header.set_entry_type(tar::EntryType::Regular);
        // `set_path` refuses `..`; write the raw name as a hostile archive would.
        let raw = &mut header.as_old_mut().name;
        raw[..name.len()].copy_from_slice(name.as_bytes());
        header.set_cksum();
        tar.append(&header, bytes).unwrap();
    }

    #[test]
    fn a_tar_gz_with_several_entries_unpacks_under_its_stem() {
        let setup = Setup::new(1 << 30);
        let archive = setup.local().join("LC08_X.tar.gz");
        tar_gz_of(&archive, |tar| {
            tar_file(tar, "LC08_X_B4.TIF", b"red");
            tar_file(tar, "LC08_X_B5.TIF", b"nir");
        });
        let product = unpack(&archive, &setup.local(), &setup.limits()).unwrap();
        assert_eq!(product, setup.local().join("LC08_X"));
        assert_eq!(
            std::fs::read(product.join("LC08_X_B5.TIF")).unwrap(),
            b"nir"
        );
        assert!(!archive.exists());
    }

    #[test]
    fn a_tar_gz_climbing_out_or_holding_links_is_refused() {
        let setup = Setup::new(1 << 30);
        let archive = setup.local().join("EVIL.tar.gz");
        tar_gz_of(&archive, |tar| tar_file(tar, "../../escape.txt", b"x"));
        let error = unpack(&archive, &setup.local(), &setup.limits()).unwrap_err();
        assert!(
            error.to_string().contains("climbs out with '..'"),
            "{error}"
        );

        let archive = setup.local().join("LINK.tar.gz");
        tar_gz_of(&archive, |tar| {
            let mut header = tar::Header::new_gnu();
            header.set_entry_type(tar::EntryType::Symlink);
            header.set_size(0);
            tar.append_link(&mut header, "X/passwd", "/etc/passwd")
                .unwrap();
        });
        let error = unpack(&archive, &setup.local(), &setup.limits()).unwrap_err();
        assert!(error.to_string().contains("is a link"), "{error}");
        assert_eq!(std::fs::read_dir(setup.local()).unwrap().count(), 0);
    }

    #[test]
    fn a_netcdf_file_is_kept_as_it_is() {
        let setup = Setup::new(1 << 30);
        let file = setup.local().join("S5P_X.nc");
        std::fs::write(&file, b"CDF").unwrap();
        assert_eq!(
            unpack(&file, &setup.local(), &setup.limits()).unwrap(),
            file
        );
    }

    #[test]
    fn downloads_are_recorded_once_in_list_local() {
        let dir = tempfile::tempdir().unwrap();
        let ws = Workspace::open(dir.path()).unwrap();
        let disk = DiskBudget::measure(ws.root(), 1 << 20);
        record_local(&ws, &disk, "local_files/A.SAFE").unwrap();
        record_local(&ws, &disk, "local_files/B.nc").unwrap();
        record_local(&ws, &disk, "local_files/A.SAFE").unwrap();
        let text = std::fs::read_to_string(ws.root().join(LIST_LOCAL)).unwrap();
        assert_eq!(text, "local_files/A.SAFE\nlocal_files/B.nc\n");
    }

    #[test]
    fn a_product_name_may_not_be_cleopes_own_list() {
        assert!(local_name("S2A_X.zip", "product name").is_ok());
        for name in ["list_local.txt", "LIST_LOCAL.TXT", "../x", ".lock", ""] {
            assert!(local_name(name, "product name").is_err(), "{name}");
        }
    }

    #[test]
    fn a_held_product_lock_makes_a_second_taker_wait_until_its_deadline() {
        let dir = tempfile::tempdir().unwrap();
        let cancel = Cancel::default();
        cancel.start_run(Duration::from_secs(60));
        let held = ProductLock::acquire(dir.path(), "S2A_X.zip", &cancel).unwrap();
        let lock_file = product_lock_path(dir.path(), "S2A_X.SAFE");
        assert_eq!(lock_file, dir.path().join(".cleope/locks/S2A_X.lock"));
        assert!(lock_file.exists(), "X.zip and X.SAFE share one lock");

        let waiting = Cancel::default();
        waiting.start_run(Duration::from_millis(300));
        let started = std::time::Instant::now();
        let error = ProductLock::acquire(dir.path(), "S2A_X.SAFE", &waiting)
            .err()
            .expect("the lock is held");
        assert!(
            matches!(error, DownloadError::Stopped(Stop::Quota(_))),
            "{error}"
        );
        let waited = started.elapsed();
        assert!(
            waited >= Duration::from_millis(290) && waited < Duration::from_millis(500),
            "{waited:?}"
        );
        drop(held);
        assert!(ProductLock::acquire(dir.path(), "S2A_X.SAFE", &cancel).is_ok());
    }

    #[test]
    fn backoff_doubles_up_to_its_ceiling() {
        let retry = RetryPolicy::default();
        assert_eq!(retry.delay(1), Duration::from_millis(500));
        assert_eq!(retry.delay(2), Duration::from_secs(1));
        assert_eq!(retry.delay(9), Duration::from_secs(4));
    }
}
