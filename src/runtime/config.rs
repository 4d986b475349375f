//! Session settings: CLEOPE Free defaults, overridden by the workspace's
//! `cleope.toml`, then by environment variables and command-line flags.

use crate::eo::ens::Layout;
use crate::eo::odata::Dialect;
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
    /// Bytes the workspace may hold (every file and folder takes at least a block).
    pub disk: u64,
    /// Files and folders the workspace may hold.
    pub disk_entries: u64,
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
            disk_entries: 100_000,
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
    /// The OData catalogue and how the archive lays out its products.
    pub catalogue: CatalogueSettings,
    pub quota: Quota,
    pub limits: ScriptLimits,
}

/// Where the catalogue is, how it speaks, and how the archive is laid out.
/// With nothing set, the session serves the archive (by default the demo
/// archive) through a local catalogue of its own: the embedded default.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct CatalogueSettings {
    /// Base URL of an OData catalogue (ONDA's `…/dias-catalogue`, CDSE's
    /// `…/odata/v1`); None: the local catalogue over the archive.
    pub url: Option<String>,
    /// The dialect the catalogue speaks; None: CDSE for a URL on
    /// dataspace.copernicus.eu, ONDA otherwise.
    pub dialect: Option<Dialect>,
    /// The token endpoint of a CDSE-style catalogue (password grant);
    /// None: the identity service that goes with the URL.
    pub token_url: Option<String>,
    /// The account name, so only the password has to be typed (`login()`).
    /// Passwords are never kept in settings.
    pub username: Option<String>,
    /// How the archive lays out its products; None: ONDA's pseudopaths.
    pub archive_layout: Option<Layout>,
}

/// Values given on the command line or in the environment (they win over the file).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Overrides {
    pub workspace: Option<PathBuf>,
    pub archive: Option<PathBuf>,
    pub memory: Option<u64>,
    pub cpus: Option<usize>,
    pub disk: Option<u64>,
    pub disk_entries: Option<u64>,
    pub operations: Option<u64>,
    pub time_limit: Option<Duration>,
    /// The catalogue's base URL (`--catalogue`, `CLEOPE_CATALOGUE`).
    pub catalogue_url: Option<String>,
    /// Its dialect (`--dialect`, `CLEOPE_DIALECT`).
    pub dialect: Option<Dialect>,
    /// The archive's layout (`--archive-layout`, `CLEOPE_ARCHIVE_LAYOUT`).
    pub archive_layout: Option<Layout>,
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
            catalogue: CatalogueSettings::default(),
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
        if let Some(entries) = quota.disk_entries {
            self.quota.disk_entries = check_disk_entries(entries)
                .map_err(|e| invalid(format!("quota.disk_entries: {e}")))?;
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
        if let Some(layout) = file.paths.archive_layout {
            self.catalogue.archive_layout = Some(
                parse_layout(&layout).map_err(|e| invalid(format!("paths.archive_layout: {e}")))?,
            );
        }
        self.module_paths = file
            .paths
            .modules
            .into_iter()
            .map(|p| base.join(p))
            .collect();
        let catalogue = file.catalogue;
        if let Some(url) = catalogue.url {
            self.catalogue.url =
                Some(check_url(&url).map_err(|e| invalid(format!("catalogue.url: {e}")))?);
        }
        if let Some(dialect) = catalogue.dialect {
            self.catalogue.dialect = Some(
                parse_dialect(&dialect).map_err(|e| invalid(format!("catalogue.dialect: {e}")))?,
            );
        }
        if let Some(url) = catalogue.token_url {
            self.catalogue.token_url =
                Some(check_url(&url).map_err(|e| invalid(format!("catalogue.token_url: {e}")))?);
        }
        self.catalogue.username = catalogue.username;
        Ok(())
    }

    fn apply_overrides(&mut self, o: &Overrides) {
        if o.archive.is_some() {
            self.archive.clone_from(&o.archive);
        }
        if o.catalogue_url.is_some() {
            self.catalogue.url.clone_from(&o.catalogue_url);
        }
        self.catalogue.dialect = o.dialect.or(self.catalogue.dialect);
        self.catalogue.archive_layout = o.archive_layout.or(self.catalogue.archive_layout);
        let q = &mut self.quota;
        q.memory = o.memory.unwrap_or(q.memory);
        q.cpus = o.cpus.unwrap_or(q.cpus);
        q.disk = o.disk.unwrap_or(q.disk);
        q.disk_entries = o.disk_entries.unwrap_or(q.disk_entries);
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
    #[serde(default)]
    catalogue: CatalogueFile,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct CatalogueFile {
    url: Option<String>,
    dialect: Option<String>,
    token_url: Option<String>,
    username: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct QuotaFile {
    memory: Option<String>,
    cpus: Option<usize>,
    disk: Option<String>,
    disk_entries: Option<u64>,
    operations: Option<u64>,
    time_limit: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct PathsFile {
    archive: Option<PathBuf>,
    archive_layout: Option<String>,
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

/// Reads a catalogue dialect: `onda` or `cdse`.
pub fn parse_dialect(text: &str) -> Result<Dialect, String> {
    match text.trim().to_ascii_lowercase().as_str() {
        "onda" => Ok(Dialect::Onda),
        "cdse" => Ok(Dialect::Cdse),
        _ => Err(format!(
            "'{text}' is not a catalogue dialect; write onda (ONDA DIAS, $search) or cdse (Copernicus Data Space, $filter)"
        )),
    }
}

/// Reads an archive layout: `onda` (`<pseudopath>/<name>`) or `cdse` (`S3Path`).
pub fn parse_layout(text: &str) -> Result<Layout, String> {
    Layout::parse(text).ok_or_else(|| {
        format!(
            "'{text}' is not an archive layout; write onda (/mnt/Copernicus/<pseudopath>/<name>) or cdse (/eodata/<S3Path>)"
        )
    })
}

/// Checks a catalogue URL: http or https, with a host.
pub fn check_url(text: &str) -> Result<String, String> {
    let url = url::Url::parse(text.trim())
        .map_err(|e| format!("'{text}' is not a URL ({e}); write e.g. https://catalogue.dataspace.copernicus.eu/odata/v1"))?;
    if !matches!(url.scheme(), "http" | "https") || url.host_str().is_none() {
        return Err(format!("'{text}' is not an http(s) address with a host"));
    }
    Ok(text.trim().trim_end_matches('/').to_string())
}

/// Checks a thread count: at least one.
pub fn check_cpus(cpus: usize) -> Result<usize, String> {
    if cpus == 0 {
        return Err("at least 1 CPU thread is needed".into());
    }
    Ok(cpus)
}

/// Checks a cap on the workspace's files and folders: enough for a few results.
pub fn check_disk_entries(entries: u64) -> Result<u64, String> {
    if entries < 10 {
        return Err(format!(
            "{entries} files and folders is too few to work with; use at least 10"
        ));
    }
    Ok(entries)
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
        assert_eq!(q.disk_entries, 100_000);
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
    fn catalogue_settings_come_from_the_file_and_flags_win() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(
            dir.path().join(CONFIG_FILE),
            "[paths]\narchive = \"/eodata\"\narchive_layout = \"cdse\"\n\
             [catalogue]\nurl = \"https://catalogue.dataspace.copernicus.eu/odata/v1/\"\n\
             dialect = \"CDSE\"\nusername = \"student@example.org\"\n",
        )
        .unwrap();
        let mut overrides = Overrides {
            workspace: Some(dir.path().to_path_buf()),
            ..Overrides::default()
        };
        let settings = Settings::load(&overrides).unwrap();
        let catalogue = &settings.catalogue;
        assert_eq!(
            catalogue.url.as_deref(),
            Some("https://catalogue.dataspace.copernicus.eu/odata/v1")
        );
        assert_eq!(catalogue.dialect, Some(Dialect::Cdse));
        assert_eq!(catalogue.archive_layout, Some(Layout::Cdse));
        assert_eq!(catalogue.username.as_deref(), Some("student@example.org"));
        overrides.catalogue_url = Some("http://127.0.0.1:8080/dias-catalogue".into());
        overrides.dialect = Some(Dialect::Onda);
        let settings = Settings::load(&overrides).unwrap();
        assert_eq!(settings.catalogue.dialect, Some(Dialect::Onda));
        assert!(
            settings
                .catalogue
                .url
                .unwrap()
                .ends_with("8080/dias-catalogue")
        );
    }

    #[test]
    fn a_bad_dialect_or_url_names_the_key_and_the_choices() {
        let dir = tempfile::tempdir().unwrap();
        let overrides = Overrides {
            workspace: Some(dir.path().to_path_buf()),
            ..Overrides::default()
        };
        for (text, key, words) in [
            (
                "[catalogue]\ndialect = \"stac\"\n",
                "catalogue.dialect",
                "onda",
            ),
            (
                "[catalogue]\nurl = \"ftp://x\"\n",
                "catalogue.url",
                "http(s)",
            ),
            (
                "[paths]\narchive_layout = \"flat\"\n",
                "paths.archive_layout",
                "cdse",
            ),
        ] {
            std::fs::write(dir.path().join(CONFIG_FILE), text).unwrap();
            let message = Settings::load(&overrides).unwrap_err().to_string();
            assert!(
                message.contains(key) && message.contains(words),
                "{message}"
            );
        }
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
