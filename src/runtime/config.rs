//! Session settings: CLEOPE Free defaults, overridden by the workspace's
//! `cleope.toml`, then by environment variables and command-line flags.

use serde::Deserialize;
use std::path::{Path, PathBuf};
use std::time::Duration;

/// The name of the per-workspace configuration file.
pub const CONFIG_FILE: &str = "cleope.toml";

/// Resource quotas; the defaults are the CLEOPE Free tier plus per-run limits.
#[derive(Debug, Clone, PartialEq)]
pub struct Quota {
    /// Bytes of memory the whole process may use (native buffers are charged first).
    pub memory: u64,
    /// Threads for native parallel work.
    pub cpus: usize,
    /// Bytes the workspace may hold.
    pub disk: u64,
    /// Script operations per run (a file, a cell or a REPL entry).
    pub operations: u64,
    /// Wall-clock time per run.
    pub time_limit: Duration,
}

impl Default for Quota {
    fn default() -> Self {
        Self {
            memory: 2 * 1024 * 1024 * 1024,
            cpus: 2,
            disk: 20_000_000_000,
            operations: 1_000_000_000,
            time_limit: Duration::from_secs(300),
        }
    }
}

/// Structural limits of the script language (not configurable: they protect
/// the process, and a learner never needs more).
///
/// The size of strings, arrays and maps is *not* limited per value: Rhai
/// re-measures a whole array after every call that receives it when any
/// size limit is set, which made building a 20,000-row table 62 times
/// slower (3.03 s instead of 0.049 s). Their memory counts against the
/// memory quota instead, checked between every two operations.
#[derive(Debug, Clone, PartialEq)]
pub struct ScriptLimits {
    pub call_levels: usize,
    pub expr_depth: usize,
    pub expr_depth_in_functions: usize,
    pub modules: usize,
    pub variables: usize,
    pub functions: usize,
    /// The largest file a script may read into one value.
    pub file_read_bytes: u64,
}

impl Default for ScriptLimits {
    fn default() -> Self {
        Self {
            call_levels: 64,
            expr_depth: 64,
            expr_depth_in_functions: 32,
            modules: 64,
            variables: 10_000,
            functions: 10_000,
            file_read_bytes: 256 * 1024 * 1024,
        }
    }
}

/// Everything a session needs to start.
#[derive(Debug, Clone, PartialEq)]
pub struct Settings {
    /// The read-write workspace root.
    pub workspace: PathBuf,
    /// The product archive (ENS / eodata mount), read-only.
    pub archive: Option<PathBuf>,
    /// Extra folders `import` may load modules from (after the script's own folder).
    pub module_paths: Vec<PathBuf>,
    pub quota: Quota,
    pub limits: ScriptLimits,
}

/// Values given on the command line or in the environment (they win over the file).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Overrides {
    pub workspace: Option<PathBuf>,
    pub archive: Option<PathBuf>,
    pub memory: Option<u64>,
    pub cpus: Option<usize>,
    pub disk: Option<u64>,
    pub operations: Option<u64>,
    pub time_limit: Option<Duration>,
}

/// A configuration problem, naming where it is and how to fix it.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("cannot read {path}: {error}")]
    Read {
        path: PathBuf,
        error: std::io::Error,
    },
    #[error("{path}: {message}")]
    Invalid { path: PathBuf, message: String },
}

/// The default workspace: `~/cleope` (like CLEOPE's home folder on the hub).
pub fn default_workspace() -> PathBuf {
    dirs::home_dir()
        .unwrap_or_else(|| PathBuf::from("."))
        .join("cleope")
}

impl Settings {
    /// Defaults, then `<workspace>/cleope.toml`, then `overrides`.
    pub fn load(overrides: &Overrides) -> Result<Self, ConfigError> {
        let workspace = overrides
            .workspace
            .clone()
            .unwrap_or_else(default_workspace);
        let mut settings = Settings {
            workspace,
            archive: None,
            module_paths: Vec::new(),
            quota: Quota::default(),
            limits: ScriptLimits::default(),
        };
        let file = settings.workspace.join(CONFIG_FILE);
        if file.exists() {
            settings.apply_file(&file)?;
        }
        settings.apply_overrides(overrides);
        Ok(settings)
    }

    fn apply_file(&mut self, path: &Path) -> Result<(), ConfigError> {
        let text = std::fs::read_to_string(path).map_err(|error| ConfigError::Read {
            path: path.to_path_buf(),
            error,
        })?;
        let invalid = |message: String| ConfigError::Invalid {
            path: path.to_path_buf(),
            message,
        };
        let file: ConfigFile = toml::from_str(&text).map_err(|e| invalid(e.to_string()))?;
        let quota = file.quota;
        if let Some(size) = quota.memory {
            self.quota.memory =
                parse_size(&size).map_err(|e| invalid(format!("quota.memory: {e}")))?;
        }
        if let Some(size) = quota.disk {
            self.quota.disk = parse_size(&size).map_err(|e| invalid(format!("quota.disk: {e}")))?;
        }
        if let Some(time) = quota.time_limit {
            self.quota.time_limit =
                parse_duration(&time).map_err(|e| invalid(format!("quota.time_limit: {e}")))?;
        }
        if let Some(cpus) = quota.cpus {
            self.quota.cpus = check_cpus(cpus).map_err(|e| invalid(format!("quota.cpus: {e}")))?;
        }
        if let Some(ops) = quota.operations {
            self.quota.operations =
                check_operations(ops).map_err(|e| invalid(format!("quota.operations: {e}")))?;
        }
        let base = self.workspace.clone();
        if let Some(archive) = file.paths.archive {
            self.archive = Some(base.join(archive));
        }
        self.module_paths = file
            .paths
            .modules
            .into_iter()
            .map(|p| base.join(p))
            .collect();
        Ok(())
    }

    fn apply_overrides(&mut self, o: &Overrides) {
        if o.archive.is_some() {
            self.archive.clone_from(&o.archive);
        }
        let q = &mut self.quota;
        q.memory = o.memory.unwrap_or(q.memory);
        q.cpus = o.cpus.unwrap_or(q.cpus);
        q.disk = o.disk.unwrap_or(q.disk);
        q.operations = o.operations.unwrap_or(q.operations);
        q.time_limit = o.time_limit.unwrap_or(q.time_limit);
    }
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct ConfigFile {
    #[serde(default)]
    quota: QuotaFile,
    #[serde(default)]
    paths: PathsFile,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct QuotaFile {
    memory: Option<String>,
    cpus: Option<usize>,
    disk: Option<String>,
    operations: Option<u64>,
    time_limit: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct PathsFile {
    archive: Option<PathBuf>,
    #[serde(default)]
    modules: Vec<PathBuf>,
}

/// Parses a size such as `2GiB`, `512MB`, `20 GB` or a plain byte count.
pub fn parse_size(text: &str) -> Result<u64, String> {
    let size: bytesize::ByteSize = text
        .trim()
        .parse()
        .map_err(|_| format!("'{text}' is not a size; write e.g. 2GiB, 512MB or 20GB"))?;
    if size.as_u64() == 0 {
        return Err("a size of zero leaves nothing to work with".into());
    }
    Ok(size.as_u64())
}

/// Parses a duration such as `300s`, `5m` or `1h 30m`.
pub fn parse_duration(text: &str) -> Result<Duration, String> {
    let duration = humantime::parse_duration(text.trim())
        .map_err(|_| format!("'{text}' is not a duration; write e.g. 300s, 5m or 1h"))?;
    if duration.is_zero() {
        return Err("a time limit of zero would stop every script at once".into());
    }
    Ok(duration)
}

/// Checks a thread count: at least one.
pub fn check_cpus(cpus: usize) -> Result<usize, String> {
    if cpus == 0 {
        return Err("at least 1 CPU thread is needed".into());
    }
    Ok(cpus)
}

/// Checks an operation budget: big enough to run a small script.
pub fn check_operations(ops: u64) -> Result<u64, String> {
    if ops < 1000 {
        return Err(format!(
            "{ops} operations is too few to run anything; use at least 1000"
        ));
    }
    Ok(ops)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_are_the_cleope_free_tier() {
        let q = Quota::default();
        assert_eq!(q.memory, 2 << 30);
        assert_eq!(q.cpus, 2);
        assert_eq!(q.disk, 20_000_000_000);
        assert_eq!(q.time_limit, Duration::from_secs(300));
    }

    #[test]
    fn file_values_apply_and_overrides_win() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(
            dir.path().join(CONFIG_FILE),
            "[quota]\nmemory = \"1GiB\"\ncpus = 1\ntime_limit = \"90s\"\n[paths]\narchive = \"arch\"\n",
        )
        .unwrap();
        let overrides = Overrides {
            workspace: Some(dir.path().to_path_buf()),
            cpus: Some(2),
            ..Overrides::default()
        };
        let settings = Settings::load(&overrides).unwrap();
        assert_eq!(settings.quota.memory, 1 << 30);
        assert_eq!(settings.quota.cpus, 2);
        assert_eq!(settings.quota.time_limit, Duration::from_secs(90));
        assert_eq!(settings.archive, Some(dir.path().join("arch")));
    }

    #[test]
    fn a_misspelt_key_names_the_file_and_the_key() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join(CONFIG_FILE), "[quota]\nmemroy = \"1GiB\"\n").unwrap();
        let overrides = Overrides {
            workspace: Some(dir.path().to_path_buf()),
            ..Overrides::default()
        };
        let message = Settings::load(&overrides).unwrap_err().to_string();
        assert!(
            message.contains(CONFIG_FILE) && message.contains("memroy"),
            "{message}"
        );
    }

    #[test]
    fn sizes_and_durations_parse_with_units() {
        assert_eq!(parse_size("2GiB"), Ok(2 << 30));
        assert_eq!(parse_size("20GB"), Ok(20_000_000_000));
        assert!(parse_size("lots").unwrap_err().contains("2GiB"));
        assert_eq!(parse_duration("5m"), Ok(Duration::from_secs(300)));
        assert!(parse_duration("0s").is_err());
    }
}
