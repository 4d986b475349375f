//! The demo archive in its shared place: where it lives, and generated there
//! once, atomically, however many processes ask for it at the same time.

use std::path::{Path, PathBuf};

use crate::{ArchiveIndex, DemoError, DemoOptions, generate};

/// Where the demo archive lives: `$CLEOPE_DEMO_ARCHIVE`, else
/// `<data dir>/cleope/demo-archive` (`~/.local/share/cleope/demo-archive`).
pub fn default_dir() -> PathBuf {
    if let Some(dir) = std::env::var_os("CLEOPE_DEMO_ARCHIVE").filter(|d| !d.is_empty()) {
        return PathBuf::from(dir);
    }
    dirs::data_dir()
        .unwrap_or_else(std::env::temp_dir)
        .join("cleope")
        .join("demo-archive")
}

/// The generation of the demo archive's content: raised whenever the
/// generator writes different products (2: Sentinel-1 calibration and
/// noise annotations, zero borders; 3: the S1 and S2 scenes drawn with the
/// landscape toolkit on the real coasts), so an archive written by an
/// older cleope is written again, even though its index still reads.
pub const GENERATION: u32 = 3;

/// The file beside the index that records the generation.
const GENERATION_FILE: &str = "generation";

/// The index of the archive at `dir` when it was written by this
/// generation of the generator.
fn current(dir: &Path) -> Option<ArchiveIndex> {
    let stamp = std::fs::read_to_string(dir.join(GENERATION_FILE)).ok()?;
    (stamp.trim() == GENERATION.to_string()).then_some(())?;
    ArchiveIndex::load(dir).ok()
}

/// The demo archive at `dir`, generated first when it is missing or was
/// written with another index version or generation. A lock file beside it makes
/// parallel processes (test binaries, two notebooks) generate it once: the
/// others wait and then read it. The archive is written to a sibling
/// folder and renamed into place, so a crash never leaves half an archive.
pub fn ensure(dir: &Path) -> Result<ArchiveIndex, DemoError> {
    ensure_with(dir, |folder| generate(folder, DemoOptions::default()))
}

/// [`ensure`] with the writer given (tests write a small one).
pub fn ensure_with(
    dir: &Path,
    generate: impl FnOnce(&Path) -> Result<ArchiveIndex, DemoError>,
) -> Result<ArchiveIndex, DemoError> {
    if let Some(index) = current(dir) {
        return Ok(index);
    }
    let parent = dir.parent().unwrap_or(Path::new("."));
    std::fs::create_dir_all(parent).map_err(|e| DemoError::io(parent, e))?;
    let name = dir.file_name().unwrap_or_default().to_string_lossy();
    let lock_path = parent.join(format!(".{name}.lock"));
    let lock = std::fs::File::create(&lock_path).map_err(|e| DemoError::io(&lock_path, e))?;
    lock.lock().map_err(|e| DemoError::io(&lock_path, e))?;
    // Another process may have written it while this one waited.
    if let Some(index) = current(dir) {
        return Ok(index);
    }
    let partial = parent.join(format!(".{name}.partial-{}", std::process::id()));
    if partial.exists() {
        std::fs::remove_dir_all(&partial).map_err(|e| DemoError::io(&partial, e))?;
    }
    generate(&partial)?;
    let stamp = partial.join(GENERATION_FILE);
    std::fs::write(&stamp, GENERATION.to_string()).map_err(|e| DemoError::io(&stamp, e))?;
    if dir.exists() {
        std::fs::remove_dir_all(dir).map_err(|e| DemoError::io(dir, e))?;
    }
    std::fs::rename(&partial, dir).map_err(|e| DemoError::io(dir, e))?;
    Ok(ArchiveIndex::load(dir)?)
}
