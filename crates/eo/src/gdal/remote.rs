//! Remote files GDAL reads through cleope's own HTTP client: `/vsicleope/`.
//!
//! GDAL has its own HTTP client (`/vsicurl/`), which the set-up switches
//! off ([`crate::gdal::library::HARDENING`]): it would reach any URL a
//! file names, ignore the session's network grant, send no token that can
//! be refreshed and ignore `Retry-After`. A cloud-optimised GeoTIFF is
//! still read by ranges, the way `/vsicurl/` reads it, through this file
//! system instead: cleope registers a remote file ([`register`]), which
//! gives a name under [`PREFIX`] that only this process made, and GDAL's
//! reads of that name come back here as callbacks and are answered by a
//! [`RangeReader`], which is cleope's client (the grant checked on every
//! request and redirect, credentials only for their host, retries, the
//! run's deadline).
//!
//! Requests are few: the registration reads the file's head
//! ([`HEAD_BYTES`], which holds a COG's header and tile index); GDAL asks
//! for all the tiles a window needs in one multi-range read, whose ranges
//! are merged where they touch and fetched in parallel; a small read past
//! the head (the IFD of a TIFF that keeps it at its end) fetches
//! [`READ_AHEAD`] bytes. Fetched ranges are kept in a cache bounded by a
//! share of the memory quota ([`configure`]), whose bytes the counting
//! allocator charges to the session like any other.

use std::collections::{HashMap, VecDeque};
use std::ffi::{CStr, c_char, c_int, c_void};
use std::ops::Range;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, OnceLock};

/// The prefix of the names of remote files in GDAL's file system.
pub const PREFIX: &str = "/vsicleope/";
const PREFIX_C: &CStr = c"/vsicleope/";

/// The bytes read when a file is registered: a COG's header, its IFDs and
/// tile index come first and fit in this for a 10980² tile with overviews
/// (GDAL's `/vsicurl/` reads 16 KiB, then more when the index is longer).
pub const HEAD_BYTES: u64 = 64 * 1024;

/// The least a read past the head fetches, so a parser's many small reads
/// (a TIFF's IFD at the end of a file) cost one request, not one each.
pub const READ_AHEAD: u64 = 64 * 1024;

/// Ranges of one multi-range read that lie closer than this are fetched
/// as one (the gap's bytes cost less than another request's round trip).
pub const MERGE_GAP: u64 = 64 * 1024;

/// Reads byte ranges of one remote file. Implemented by cleope's HTTP
/// client (`crate::odata::remote`); tests use files on disk.
pub trait RangeReader: Send + Sync {
    /// The file's size and its first `min(HEAD_BYTES, size)` bytes.
    fn head(&self, bytes: u64) -> Result<(u64, Vec<u8>), RemoteError>;
    /// The bytes of each range, in the order asked (ranges lie within the
    /// file); the reader may fetch them concurrently.
    fn read(&self, ranges: &[Range<u64>]) -> Result<Vec<Vec<u8>>, RemoteError>;
}

/// Why a remote file could not be read, for the script's error.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{message}")]
pub struct RemoteError {
    /// The error's name (`NotGranted`, `Unauthorized`, `RemoteRead`, …).
    pub kind: &'static str,
    /// What went wrong, naming the URL.
    pub message: String,
    /// How to fix it.
    pub hint: String,
    /// Set when the read was stopped (the interrupt, the run's time limit):
    /// the script sees that, not a read error.
    pub stop: Option<cleope_sandbox::Stop>,
}

/// Counts of one remote file's traffic, for tests and benchmarks.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Traffic {
    /// HTTP requests sent (the head included).
    pub requests: u64,
    /// Bytes received.
    pub bytes: u64,
}

/// A registered remote file.
struct RemoteFile {
    id: u64,
    url: String,
    size: u64,
    head: Vec<u8>,
    reader: Box<dyn RangeReader>,
    requests: AtomicU64,
    bytes: AtomicU64,
    /// The last failure, kept for the error the script sees (GDAL only
    /// learns that a read failed).
    failure: Mutex<Option<RemoteError>>,
}

impl RemoteFile {
    /// The bytes of `range`, from the head, the cache, or the network.
    fn bytes_of(&self, range: Range<u64>) -> Option<Vec<u8>> {
        if range.end <= self.head.len() as u64 {
            return Some(self.head[range.start as usize..range.end as usize].to_vec());
        }
        if let Some(bytes) = cache().find(self.id, &range) {
            return Some(bytes);
        }
        let wanted =
            range.start..(range.start + READ_AHEAD.max(range.end - range.start)).min(self.size);
        let fetched = self.fetch(std::slice::from_ref(&wanted))?.pop()?;
        let slice = fetched[..(range.end - range.start) as usize].to_vec();
        cache().insert(self.id, wanted.start, fetched);
        Some(slice)
    }

    /// Reads `ranges` through the reader, counting the traffic and keeping
    /// a failure for the script's error.
    fn fetch(&self, ranges: &[Range<u64>]) -> Option<Vec<Vec<u8>>> {
        self.requests
            .fetch_add(ranges.len() as u64, Ordering::Relaxed);
        match self.reader.read(ranges) {
            Ok(parts) => {
                let received: u64 = parts.iter().map(|p| p.len() as u64).sum();
                self.bytes.fetch_add(received, Ordering::Relaxed);
                let whole = parts.len() == ranges.len()
                    && parts
                        .iter()
                        .zip(ranges)
                        .all(|(part, range)| part.len() as u64 == range.end - range.start);
                if whole {
                    Some(parts)
                } else {
                    self.fail(RemoteError {
                        kind: "RemoteRead",
                        message: format!("{} sent fewer bytes than asked", self.url),
                        hint: "the server does not answer byte ranges as asked: download the \
                               file instead"
                            .into(),
                        stop: None,
                    });
                    None
                }
            }
            Err(error) => {
                self.fail(error);
                None
            }
        }
    }

    fn fail(&self, error: RemoteError) {
        *self.failure.lock().unwrap_or_else(|e| e.into_inner()) = Some(error);
    }

    /// Fills each range of a multi-range read: cached ones at once, the
    /// others fetched in one call of merged runs.
    fn read_many(&self, ranges: &[Range<u64>]) -> Option<Vec<Vec<u8>>> {
        let mut parts: Vec<Option<Vec<u8>>> = ranges
            .iter()
            .map(|range| {
                if range.end <= self.head.len() as u64 {
                    Some(self.head[range.start as usize..range.end as usize].to_vec())
                } else {
                    cache().find(self.id, range)
                }
            })
            .collect();
        let missing: Vec<Range<u64>> = ranges
            .iter()
            .zip(&parts)
            .filter(|(_, part)| part.is_none())
            .map(|(range, _)| range.clone())
            .collect();
        if !missing.is_empty() {
            let runs = merge_runs(&missing, MERGE_GAP);
            let fetched = self.fetch(&runs)?;
            for (range, part) in ranges.iter().zip(parts.iter_mut()) {
                if part.is_none() {
                    *part = slice_of(&runs, &fetched, range);
                }
            }
            let mut cache = cache();
            for (run, bytes) in runs.iter().zip(fetched) {
                cache.insert(self.id, run.start, bytes);
            }
        }
        parts.into_iter().collect()
    }
}

/// The bytes of `range` from the run that holds it.
fn slice_of(runs: &[Range<u64>], fetched: &[Vec<u8>], range: &Range<u64>) -> Option<Vec<u8>> {
    let index = runs
        .iter()
        .position(|run| run.start <= range.start && range.end <= run.end)?;
    let start = (range.start - runs[index].start) as usize;
    let end = (range.end - runs[index].start) as usize;
    fetched[index].get(start..end).map(<[u8]>::to_vec)
}

/// Sorted, merged runs covering `ranges`: ranges closer than `gap` join.
pub fn merge_runs(ranges: &[Range<u64>], gap: u64) -> Vec<Range<u64>> {
    let mut sorted: Vec<Range<u64>> = ranges.iter().filter(|r| r.end > r.start).cloned().collect();
    sorted.sort_by_key(|r| r.start);
    let mut runs: Vec<Range<u64>> = Vec::new();
    for range in sorted {
        match runs.last_mut() {
            Some(last) if range.start <= last.end.saturating_add(gap) => {
                last.end = last.end.max(range.end);
            }
            _ => runs.push(range),
        }
    }
    runs
}

// ---------------------------------------------------------------------------
// The registry of remote files and the cache of fetched ranges

static NEXT_ID: AtomicU64 = AtomicU64::new(1);

fn registry() -> MutexGuard<'static, HashMap<u64, Arc<RemoteFile>>> {
    static REGISTRY: OnceLock<Mutex<HashMap<u64, Arc<RemoteFile>>>> = OnceLock::new();
    REGISTRY
        .get_or_init(Default::default)
        .lock()
        .unwrap_or_else(|e| e.into_inner())
}

/// Registers the file at `url`, read by `reader`: reads its head and gives
/// the name GDAL opens it by (`/vsicleope/<n>/<file name>`). The file stays
/// registered for the life of the process (its head is a few dozen KiB), so
/// a URL registered before gets its name again, without a request: a loop
/// opening the same file does not pile up heads in the memory quota.
pub fn register(url: &str, reader: Box<dyn RangeReader>) -> Result<String, RemoteError> {
    if let Some(known) = registry().values().find(|file| file.url == url) {
        return Ok(name_of_file(known));
    }
    let (size, head) = reader.head(HEAD_BYTES)?;
    let id = NEXT_ID.fetch_add(1, Ordering::Relaxed);
    let received = head.len() as u64;
    let file = RemoteFile {
        id,
        url: url.to_string(),
        size,
        head,
        reader,
        requests: AtomicU64::new(1),
        bytes: AtomicU64::new(received),
        failure: Mutex::new(None),
    };
    let name = name_of_file(&file);
    registry().insert(id, Arc::new(file));
    Ok(name)
}

/// The name GDAL opens a registered file by.
fn name_of_file(file: &RemoteFile) -> String {
    format!("{PREFIX}{}/{}", file.id, file_name(&file.url))
}

/// The last path segment of a URL without its query, safe in a GDAL name
/// (GDAL picks no driver by it, but messages show it).
fn file_name(url: &str) -> String {
    let path = url.split(['?', '#']).next().unwrap_or(url);
    let last = path.rsplit('/').find(|s| !s.is_empty()).unwrap_or("file");
    let safe: String = last
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || "._-".contains(c) {
                c
            } else {
                '_'
            }
        })
        .collect();
    if safe.is_empty() { "file".into() } else { safe }
}

/// The registered file a name under [`PREFIX`] (or without it, as GDAL
/// hands names to the callbacks) refers to.
fn lookup(name: &str) -> Option<Arc<RemoteFile>> {
    let name = name.strip_prefix(PREFIX).unwrap_or(name);
    let (id, rest) = name.split_once('/')?;
    let file = registry().get(&id.parse().ok()?).cloned()?;
    (rest == file_name(&file.url)).then_some(file)
}

/// Whether `path` names a registered remote file (what the dataset door
/// accepts for a remote dataset).
pub fn is_registered(path: &str) -> bool {
    path.starts_with(PREFIX) && lookup(path).is_some()
}

/// The URL a registered name stands for (for messages).
pub fn url_of(path: &str) -> Option<String> {
    lookup(path).map(|file| file.url.clone())
}

/// The last failure reading the registered file `path`, taken.
pub fn take_failure(path: &str) -> Option<RemoteError> {
    let file = lookup(path)?;
    file.failure
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .take()
}

/// The requests and bytes of the registered file `path` so far.
pub fn traffic(path: &str) -> Option<Traffic> {
    lookup(path).map(|file| Traffic {
        requests: file.requests.load(Ordering::Relaxed),
        bytes: file.bytes.load(Ordering::Relaxed),
    })
}

/// Fetched ranges of every remote file, oldest dropped first past a budget.
#[derive(Default)]
struct Cache {
    entries: VecDeque<(u64, u64, Vec<u8>)>,
    held: u64,
}

/// The cache's budget in bytes (set by [`configure`]).
static CACHE_BUDGET: AtomicU64 = AtomicU64::new(32 << 20);

/// Sizes the range cache from the session's memory quota: a 64th of it,
/// between 8 and 128 MiB (32 MiB of a 2 GiB quota, next to GDAL's block
/// cache of 64 MiB, which holds the decoded blocks).
pub fn configure(memory_quota: u64) {
    let budget = (memory_quota / 64).clamp(8 << 20, 128 << 20);
    CACHE_BUDGET.store(budget, Ordering::Relaxed);
}

fn cache() -> MutexGuard<'static, Cache> {
    static CACHE: OnceLock<Mutex<Cache>> = OnceLock::new();
    CACHE
        .get_or_init(Default::default)
        .lock()
        .unwrap_or_else(|e| e.into_inner())
}

impl Cache {
    fn find(&self, id: u64, range: &Range<u64>) -> Option<Vec<u8>> {
        self.entries.iter().rev().find_map(|(file, start, bytes)| {
            let end = start + bytes.len() as u64;
            (*file == id && *start <= range.start && range.end <= end).then(|| {
                bytes[(range.start - start) as usize..(range.end - start) as usize].to_vec()
            })
        })
    }

    fn insert(&mut self, id: u64, start: u64, bytes: Vec<u8>) {
        let budget = CACHE_BUDGET.load(Ordering::Relaxed);
        self.held += bytes.len() as u64;
        self.entries.push_back((id, start, bytes));
        while self.held > budget && self.entries.len() > 1 {
            if let Some((_, _, old)) = self.entries.pop_front() {
                self.held -= old.len() as u64;
            }
        }
    }
}

// ---------------------------------------------------------------------------
// GDAL's side: the plugin's callbacks

/// An open handle: the file and the position GDAL reads at.
struct Handle {
    file: Arc<RemoteFile>,
    position: u64,
    at_end: bool,
}

/// Installs the `/vsicleope/` handler in GDAL (once per process; GDAL 3.6
/// cannot remove one). Part of GDAL's set-up, before any dataset opens.
pub fn install() {
    static INSTALLED: std::sync::Once = std::sync::Once::new();
    INSTALLED.call_once(|| {
        // SAFETY: the struct GDAL allocates is filled with functions of the
        // right signatures; GDAL copies it when installing, so it is freed.
        unsafe {
            let callbacks = gdal_sys::VSIAllocFilesystemPluginCallbacksStruct();
            if callbacks.is_null() {
                return;
            }
            let cb = &mut *callbacks;
            cb.stat = Some(stat);
            cb.open = Some(open);
            cb.tell = Some(tell);
            cb.seek = Some(seek);
            cb.read = Some(read);
            cb.read_multi_range = Some(read_multi_range);
            cb.eof = Some(eof);
            cb.close = Some(close);
            cb.sibling_files = Some(sibling_files);
            // GDAL keeps the prefix's pointer, not a copy: a static string.
            gdal_sys::VSIInstallPluginHandler(PREFIX_C.as_ptr(), callbacks);
            gdal_sys::VSIFreeFilesystemPluginCallbacksStruct(callbacks);
        }
    });
}

/// The name GDAL passes, as text.
unsafe fn name_of(name: *const c_char) -> Option<String> {
    if name.is_null() {
        return None;
    }
    // SAFETY: GDAL passes a NUL-terminated string.
    unsafe { CStr::from_ptr(name) }
        .to_str()
        .ok()
        .map(str::to_string)
}

/// A registered file's size, as a regular read-only file; unknown names
/// fail at once, with no request (GDAL probes sidecar names).
unsafe extern "C" fn stat(
    _: *mut c_void,
    name: *const c_char,
    buffer: *mut gdal_sys::VSIStatBufL,
    _: c_int,
) -> c_int {
    // SAFETY: GDAL passes its name and a stat buffer it owns.
    let Some(file) = (unsafe { name_of(name) }).as_deref().and_then(lookup) else {
        return -1;
    };
    // gdal-sys declares the buffer opaque; it is the C library's stat64.
    let buffer = buffer.cast::<libc::stat64>();
    unsafe {
        std::ptr::write_bytes(buffer, 0, 1);
        (*buffer).st_size = file.size as i64;
        (*buffer).st_mode = libc::S_IFREG | 0o444;
    }
    0
}

unsafe extern "C" fn open(
    _: *mut c_void,
    name: *const c_char,
    access: *const c_char,
) -> *mut c_void {
    // SAFETY: GDAL passes NUL-terminated strings.
    let access = unsafe { name_of(access) }.unwrap_or_default();
    if access.contains(['w', 'a', '+']) {
        return std::ptr::null_mut();
    }
    match unsafe { name_of(name) }.as_deref().and_then(lookup) {
        Some(file) => Box::into_raw(Box::new(Handle {
            file,
            position: 0,
            at_end: false,
        }))
        .cast(),
        None => std::ptr::null_mut(),
    }
}

/// The handle behind GDAL's pointer.
unsafe fn handle<'a>(pointer: *mut c_void) -> &'a mut Handle {
    // SAFETY: the pointer is one `open` made and `close` has not freed.
    unsafe { &mut *pointer.cast::<Handle>() }
}

unsafe extern "C" fn tell(pointer: *mut c_void) -> gdal_sys::vsi_l_offset {
    unsafe { handle(pointer) }.position
}

unsafe extern "C" fn seek(
    pointer: *mut c_void,
    offset: gdal_sys::vsi_l_offset,
    whence: c_int,
) -> c_int {
    let handle = unsafe { handle(pointer) };
    let base = match whence {
        0 => 0,                // SEEK_SET
        1 => handle.position,  // SEEK_CUR
        2 => handle.file.size, // SEEK_END
        _ => return -1,
    };
    handle.position = base.saturating_add(offset);
    handle.at_end = false;
    0
}

unsafe extern "C" fn read(
    pointer: *mut c_void,
    buffer: *mut c_void,
    size: usize,
    count: usize,
) -> usize {
    let handle = unsafe { handle(pointer) };
    let wanted = (size as u64).saturating_mul(count as u64);
    if size == 0 || wanted == 0 {
        return 0;
    }
    let end = (handle.position + wanted).min(handle.file.size);
    if end <= handle.position {
        handle.at_end = true;
        return 0;
    }
    let Some(bytes) = handle.file.bytes_of(handle.position..end) else {
        return 0;
    };
    // SAFETY: GDAL's buffer holds `size * count` bytes, more than `bytes`.
    unsafe { std::ptr::copy_nonoverlapping(bytes.as_ptr(), buffer.cast::<u8>(), bytes.len()) };
    handle.position = end;
    if (bytes.len() as u64) < wanted {
        handle.at_end = true;
    }
    bytes.len() / size
}

unsafe extern "C" fn read_multi_range(
    pointer: *mut c_void,
    count: c_int,
    buffers: *mut *mut c_void,
    offsets: *const gdal_sys::vsi_l_offset,
    sizes: *const usize,
) -> c_int {
    let handle = unsafe { handle(pointer) };
    let count = usize::try_from(count).unwrap_or(0);
    // SAFETY: GDAL passes `count` offsets, sizes and buffers of those sizes.
    let (offsets, sizes, buffers) = unsafe {
        (
            std::slice::from_raw_parts(offsets, count),
            std::slice::from_raw_parts(sizes, count),
            std::slice::from_raw_parts(buffers, count),
        )
    };
    let ranges: Vec<Range<u64>> = offsets
        .iter()
        .zip(sizes)
        .map(|(&offset, &size)| offset..(offset + size as u64).min(handle.file.size))
        .collect();
    let Some(parts) = handle.file.read_many(&ranges) else {
        return -1;
    };
    for ((part, buffer), &size) in parts.iter().zip(buffers).zip(sizes) {
        if part.len() != size {
            return -1;
        }
        // SAFETY: each buffer holds its range's size.
        unsafe { std::ptr::copy_nonoverlapping(part.as_ptr(), buffer.cast::<u8>(), size) };
    }
    0
}

unsafe extern "C" fn eof(pointer: *mut c_void) -> c_int {
    c_int::from(unsafe { handle(pointer) }.at_end)
}

unsafe extern "C" fn close(pointer: *mut c_void) -> c_int {
    // SAFETY: made by `open`, closed once by GDAL.
    drop(unsafe { Box::from_raw(pointer.cast::<Handle>()) });
    0
}

/// No file has siblings: GDAL looks for none (no `.ovr`, `.aux.xml`, …
/// probes over the network).
unsafe extern "C" fn sibling_files(_: *mut c_void, _: *const c_char) -> *mut *mut c_char {
    // SAFETY: an empty string list is one NULL pointer, allocated with
    // GDAL's allocator, which frees it.
    unsafe { gdal_sys::VSICalloc(1, std::mem::size_of::<*mut c_char>()).cast() }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::AtomicUsize;

    /// A file on disk read by ranges, counting the calls (GDAL's side of
    /// the handler under test; the HTTP side is tested in tests/it).
    struct FileRanges {
        bytes: Vec<u8>,
        calls: Arc<AtomicUsize>,
    }

    impl RangeReader for FileRanges {
        fn head(&self, bytes: u64) -> Result<(u64, Vec<u8>), RemoteError> {
            let end = (bytes as usize).min(self.bytes.len());
            Ok((self.bytes.len() as u64, self.bytes[..end].to_vec()))
        }
        fn read(&self, ranges: &[Range<u64>]) -> Result<Vec<Vec<u8>>, RemoteError> {
            self.calls.fetch_add(1, Ordering::SeqCst);
            Ok(ranges
                .iter()
                .map(|r| self.bytes[r.start as usize..r.end as usize].to_vec())
                .collect())
        }
    }

    /// A 1024² UInt16 COG with 256² tiles, written by GDAL.
    fn cog(dir: &std::path::Path) -> std::path::PathBuf {
        use gdal::raster::{Buffer, RasterCreationOptions};
        crate::gdal::library::ensure_loaded().unwrap();
        let side = 1024;
        let plain = dir.join("plain.tif");
        let gtiff = gdal::DriverManager::get_driver_by_name("GTiff").unwrap();
        let mut dataset = gtiff
            .create_with_band_type::<u16, _>(&plain, side, side, 1)
            .unwrap();
        dataset
            .set_geo_transform(&[0.0, 10.0, 0.0, 0.0, 0.0, -10.0])
            .unwrap();
        let values = (0..side * side).map(|i| (i % 65_521) as u16).collect();
        dataset
            .rasterband(1)
            .unwrap()
            .write((0, 0), (side, side), &mut Buffer::new((side, side), values))
            .unwrap();
        let path = dir.join("cog.tif");
        let options = RasterCreationOptions::from_iter(["BLOCKSIZE=256", "COMPRESS=DEFLATE"]);
        let driver = gdal::DriverManager::get_driver_by_name("COG").unwrap();
        dataset.create_copy(&driver, &path, &options).unwrap();
        path
    }

    #[test]
    fn gdal_reads_a_registered_cog_window_with_one_fetch_past_the_head() {
        let dir = tempfile::tempdir().unwrap();
        let path = cog(dir.path());
        let calls = Arc::new(AtomicUsize::new(0));
        let reader = FileRanges {
            bytes: std::fs::read(&path).unwrap(),
            calls: Arc::clone(&calls),
        };
        let name = register("https://example.org/cog.tif", Box::new(reader)).unwrap();
        let remote = crate::gdal::dataset::open(&name).unwrap();
        let local = crate::gdal::dataset::open(&path).unwrap();
        assert_eq!(remote.raster_size(), (1024, 1024));
        let window = |d: &gdal::Dataset, at: (isize, isize), size: (usize, usize)| {
            d.rasterband(1)
                .unwrap()
                .read_as::<u16>(at, size, size, None)
                .unwrap()
                .data()
                .to_vec()
        };
        // One tile: one fetch. Four tiles (a window across a corner): one
        // multi-range fetch of the two rows' runs.
        assert_eq!(
            window(&remote, (256, 256), (256, 256)),
            window(&local, (256, 256), (256, 256))
        );
        assert_eq!(calls.load(Ordering::SeqCst), 1);
        assert_eq!(
            window(&remote, (600, 600), (200, 200)),
            window(&local, (600, 600), (200, 200))
        );
        assert_eq!(calls.load(Ordering::SeqCst), 2);
        let traffic = traffic(&name).unwrap();
        assert!(traffic.requests <= 4, "{traffic:?}");
    }

    #[test]
    fn a_failed_read_is_kept_for_the_scripts_error() {
        struct Refusing;
        impl RangeReader for Refusing {
            fn head(&self, _: u64) -> Result<(u64, Vec<u8>), RemoteError> {
                Ok((1 << 20, vec![0; 16]))
            }
            fn read(&self, _: &[Range<u64>]) -> Result<Vec<Vec<u8>>, RemoteError> {
                Err(RemoteError {
                    kind: "NetworkNotAllowed",
                    message: "not granted".into(),
                    hint: "ask".into(),
                    stop: None,
                })
            }
        }
        let name = register("https://example.org/x.tif", Box::new(Refusing)).unwrap();
        let file = lookup(&name).unwrap();
        assert!(file.bytes_of(100_000..100_010).is_none());
        assert_eq!(take_failure(&name).unwrap().kind, "NetworkNotAllowed");
        assert!(take_failure(&name).is_none(), "taken once");
    }

    #[test]
    fn ranges_closer_than_the_gap_are_fetched_as_one() {
        let runs = merge_runs(&[200..300, 0..100, 150..160, 10_000..10_100], 64);
        assert_eq!(runs, vec![0..300, 10_000..10_100]);
    }

    #[test]
    fn a_name_is_registered_only_with_its_file_name() {
        struct Tiny;
        impl RangeReader for Tiny {
            fn head(&self, _: u64) -> Result<(u64, Vec<u8>), RemoteError> {
                Ok((3, vec![1, 2, 3]))
            }
            fn read(&self, _: &[Range<u64>]) -> Result<Vec<Vec<u8>>, RemoteError> {
                unreachable!("the head holds the whole file")
            }
        }
        let path = register("https://example.org/a/B04.tif?token=x", Box::new(Tiny)).unwrap();
        assert!(
            path.starts_with(PREFIX) && path.ends_with("/B04.tif"),
            "{path}"
        );
        assert!(is_registered(&path));
        assert!(!is_registered(&path.replace("B04", "B08")));
        assert!(!is_registered("/vsicleope/999999/B04.tif"));
        assert_eq!(
            url_of(&path).as_deref(),
            Some("https://example.org/a/B04.tif?token=x")
        );
        // Registered again: the same name, and no second head read.
        let again = register("https://example.org/a/B04.tif?token=x", Box::new(Tiny)).unwrap();
        assert_eq!(again, path);
        assert_eq!(traffic(&path).unwrap().requests, 1);
    }
}
