//! Session settings, from sources a script cannot write and one it can.
//!
//! The operator's settings are trusted: CLEOPE Free defaults, then the
//! system file (`/etc/cleope/cleope.toml`) and the user's file
//! (`~/.config/cleope/cleope.toml`), or instead the one file `CLEOPE_CONFIG`
//! names, then environment variables (a kernelspec's), then command-line
//! flags. They alone may widen what a session reaches: the archive, the
//! catalogue, extra read folders and network endpoints, and the quotas.
//!
//! The workspace's `cleope.toml` is untrusted, since scripts write the
//! workspace: it may only narrow (lower a quota, choose a dialect, name the
//! account, add module folders inside the workspace). What it tries beyond
//! that is ignored, and [`Settings::ignored`] says what and why.

use super::accounts::Accounts;
use crate::eo::ens::Layout;
use crate::eo::odata::Dialect;
use serde::Deserialize;
use std::path::{Path, PathBuf};
use std::time::Duration;

/// The name of the per-workspace configuration file.
pub const CONFIG_FILE: &str = "cleope.toml";

/// The operator's configuration file, unless `CLEOPE_CONFIG` names another.
pub const SYSTEM_CONFIG_FILE: &str = "/etc/cleope/cleope.toml";

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
    /// What the operator grants beyond the workspace and the archive.
    pub grants: GrantSettings,
    /// The accounts read from the environment and `~/.netrc` at start.
    pub accounts: Accounts,
    /// Settings found in the workspace's file and ignored, each with why.
    pub ignored: Vec<String>,
}

/// Extra reach the operator grants (never from the workspace's file).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct GrantSettings {
    /// Folders scripts may read (`--read`, `CLEOPE_READ`, `grants.read`).
    pub read: Vec<PathBuf>,
    /// Folders of teaching scripts: a script run from one may import its
    /// neighbours (`paths.tutorials`).
    pub tutorials: Vec<PathBuf>,
    /// Endpoints `host:port` scripts may select as their catalogue, without
    /// the configured account (`--allow-net`, `CLEOPE_ALLOW_NET`, `grants.net`).
    pub net: Vec<String>,
    /// Hosts `host:port` the configured catalogue redirects downloads to,
    /// which receive its account (`catalogue.download_hosts`; CDSE's are known).
    pub download_hosts: Vec<String>,
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
    /// Downloads a session runs at once, at most; None: 2 (CDSE allows an
    /// account 4 connections, shared by all its sessions).
    pub max_parallel_downloads: Option<usize>,
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
    /// Extra folders scripts may read (`--read`, `CLEOPE_READ`).
    pub read: Vec<PathBuf>,
    /// Extra endpoints scripts may reach (`--allow-net`, `CLEOPE_ALLOW_NET`).
    pub allow_net: Vec<String>,
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
    /// The operator's settings (defaults, the system file, `overrides`),
    /// then the workspace's `cleope.toml`, which may only narrow them; and
    /// the accounts the environment and `~/.netrc` hold for the granted hosts.
    pub fn load(overrides: &Overrides) -> Result<Self, ConfigError> {
        Self::load_with_operator_files(overrides, &operator_files())
    }

    /// [`Settings::load`] with the operator's files given (in order; those
    /// that do not exist are skipped).
    pub fn load_with_operator_files(
        overrides: &Overrides,
        files: &[PathBuf],
    ) -> Result<Self, ConfigError> {
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
            grants: GrantSettings::default(),
            accounts: Accounts::default(),
            ignored: Vec::new(),
        };
        // A file scripts can write (one inside the workspace) is never
        // trusted, whoever named it.
        let (trusted, untrusted): (Vec<&PathBuf>, Vec<&PathBuf>) = files
            .iter()
            .filter(|file| file.exists())
            .partition(|file| !lies_within(file, &settings.workspace));
        for file in trusted {
            settings.apply_trusted_file(file)?;
        }
        settings.apply_overrides(overrides)?;
        let workspace_file = settings.workspace.join(CONFIG_FILE);
        for file in untrusted
            .into_iter()
            .chain(Some(&workspace_file).filter(|f| f.exists()))
        {
            settings.narrow_with_file(file)?;
        }
        let configured = settings
            .catalogue
            .url
            .as_deref()
            .and_then(|url| crate::sandbox::grants::host_port_of_url(url).ok())
            .map(|(host, _)| host);
        let granted: Vec<String> = settings
            .grants
            .net
            .iter()
            .filter_map(|e| crate::sandbox::grants::parse_host_port(e).ok())
            .map(|(host, _)| host)
            .collect();
        settings.accounts = Accounts::read(configured.as_deref(), &granted);
        Ok(settings)
    }

    /// Applies a file the operator controls: every key has full effect.
    fn apply_trusted_file(&mut self, path: &Path) -> Result<(), ConfigError> {
        let file = read_config_file(path)?;
        let invalid = |message: String| ConfigError::Invalid {
            path: path.to_path_buf(),
            message,
        };
        let quota = parse_quota(&file.quota).map_err(invalid)?;
        quota.apply_to(&mut self.quota);
        let base = path.parent().unwrap_or(Path::new("/")).to_path_buf();
        if let Some(archive) = &file.paths.archive {
            self.archive = Some(base.join(archive));
        }
        self.module_paths
            .extend(file.paths.modules.iter().map(|p| base.join(p)));
        self.grants
            .tutorials
            .extend(file.paths.tutorials.iter().map(|p| base.join(p)));
        self.grants
            .read
            .extend(file.grants.read.iter().map(|p| base.join(p)));
        for endpoint in &file.grants.net {
            check_host_port(endpoint).map_err(|e| invalid(format!("grants.net: {e}")))?;
            self.grants.net.push(endpoint.clone());
        }
        for endpoint in &file.catalogue.download_hosts {
            check_host_port(endpoint)
                .map_err(|e| invalid(format!("catalogue.download_hosts: {e}")))?;
            self.grants.download_hosts.push(endpoint.clone());
        }
        let catalogue = parse_catalogue(&file.catalogue, &file.paths).map_err(invalid)?;
        if let Some(url) = catalogue.url {
            self.catalogue.url = Some(url);
        }
        if let Some(url) = catalogue.token_url {
            self.catalogue.token_url = Some(url);
        }
        self.catalogue.dialect = catalogue.dialect.or(self.catalogue.dialect);
        self.catalogue.archive_layout = catalogue.archive_layout.or(self.catalogue.archive_layout);
        self.catalogue.username = catalogue.username.or(self.catalogue.username.take());
        self.catalogue.max_parallel_downloads = catalogue
            .max_parallel_downloads
            .or(self.catalogue.max_parallel_downloads);
        Ok(())
    }

    /// Applies a file scripts can write: only what narrows the operator's
    /// settings takes effect; the rest is listed in [`Settings::ignored`].
    fn narrow_with_file(&mut self, path: &Path) -> Result<(), ConfigError> {
        let file = read_config_file(path)?;
        let invalid = |message: String| ConfigError::Invalid {
            path: path.to_path_buf(),
            message,
        };
        let quota = parse_quota(&file.quota).map_err(invalid)?;
        let catalogue = parse_catalogue(&file.catalogue, &file.paths).map_err(invalid)?;
        let mut ignored = Ignored::new(path);
        quota.narrow(&mut self.quota, &mut ignored);
        let base = self.workspace.clone();
        if let Some(archive) = &file.paths.archive
            && self.archive.as_deref() != Some(base.join(archive).as_path())
        {
            ignored.widening("paths.archive", "it would open another archive to scripts");
        }
        for folder in &file.paths.modules {
            let folder = base.join(folder);
            if lies_within(&folder, &self.workspace) {
                self.module_paths.push(folder);
            } else {
                ignored.widening(
                    "paths.modules",
                    &format!("{} lies outside the workspace", folder.display()),
                );
            }
        }
        if !file.paths.tutorials.is_empty() {
            ignored.widening("paths.tutorials", "it would open folders to scripts");
        }
        if !file.grants.read.is_empty() || !file.grants.net.is_empty() {
            ignored.widening("grants", "grants come only from the operator");
        }
        if !file.catalogue.download_hosts.is_empty() {
            ignored.widening(
                "catalogue.download_hosts",
                "it would send the account elsewhere",
            );
        }
        if catalogue.url.is_some() && catalogue.url != self.catalogue.url {
            ignored.widening(
                "catalogue.url",
                "it would connect scripts to another server",
            );
        }
        if catalogue.token_url.is_some() && catalogue.token_url != self.catalogue.token_url {
            ignored.widening(
                "catalogue.token_url",
                "it would send the password elsewhere",
            );
        }
        self.catalogue.dialect = catalogue.dialect.or(self.catalogue.dialect);
        self.catalogue.archive_layout = catalogue.archive_layout.or(self.catalogue.archive_layout);
        self.catalogue.username = catalogue.username.or(self.catalogue.username.take());
        if let Some(asked) = catalogue.max_parallel_downloads {
            let now = self
                .catalogue
                .max_parallel_downloads
                .unwrap_or(crate::eo::odata::client::DEFAULT_PARALLEL_DOWNLOADS);
            if asked <= now {
                self.catalogue.max_parallel_downloads = Some(asked);
            } else {
                ignored.widening(
                    "catalogue.max_parallel_downloads",
                    "it would raise the downloads at once set by the operator",
                );
            }
        }
        self.ignored.extend(ignored.notes);
        Ok(())
    }

    fn apply_overrides(&mut self, o: &Overrides) -> Result<(), ConfigError> {
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
        self.grants.read.extend(o.read.iter().cloned());
        for endpoint in &o.allow_net {
            check_host_port(endpoint).map_err(|message| ConfigError::Invalid {
                path: "--allow-net".into(),
                message,
            })?;
            self.grants.net.push(endpoint.trim().to_string());
        }
        Ok(())
    }
}

/// The operator's files: the one `CLEOPE_CONFIG` names, else the system
/// file and then the user's (`$XDG_CONFIG_HOME/cleope/cleope.toml`).
pub fn operator_files() -> Vec<PathBuf> {
    match std::env::var_os("CLEOPE_CONFIG").filter(|v| !v.is_empty()) {
        Some(path) => vec![PathBuf::from(path)],
        None => std::iter::once(PathBuf::from(SYSTEM_CONFIG_FILE))
            .chain(dirs::config_dir().map(|dir| dir.join("cleope").join(CONFIG_FILE)))
            .collect(),
    }
}

/// Whether `path` is (or would be) inside `folder`, following links where
/// they exist, so a file reached through a link into the workspace counts
/// as inside it.
fn lies_within(path: &Path, folder: &Path) -> bool {
    if path
        .components()
        .any(|c| c == std::path::Component::ParentDir)
    {
        return false;
    }
    let real = |p: &Path| p.canonicalize().unwrap_or_else(|_| p.to_path_buf());
    let folder = real(folder);
    let mut existing = path.to_path_buf();
    let mut rest = Vec::new();
    while !existing.exists() {
        match (
            existing.file_name().map(|n| n.to_os_string()),
            existing.parent(),
        ) {
            (Some(name), Some(parent)) => {
                rest.push(name);
                existing = parent.to_path_buf();
            }
            _ => break,
        }
    }
    let full = rest
        .iter()
        .rev()
        .fold(real(&existing), |acc, part| acc.join(part));
    full.starts_with(&folder)
}

/// Notes on what an untrusted file asked for in vain.
struct Ignored {
    file: PathBuf,
    notes: Vec<String>,
}

impl Ignored {
    fn new(file: &Path) -> Self {
        Self {
            file: file.to_path_buf(),
            notes: Vec::new(),
        }
    }

    fn widening(&mut self, key: &str, why: &str) {
        self.notes.push(format!(
            "{}: {key} was ignored: {why}, and scripts can write this file, so it may only narrow \
             the session (set it where scripts cannot write: a flag, a CLEOPE_* variable, \
             {SYSTEM_CONFIG_FILE} or ~/.config/cleope/cleope.toml)",
            self.file.display()
        ));
    }

    fn raise(&mut self, key: &str, asked: String, kept: String) {
        self.notes.push(format!(
            "{}: {key} = {asked} was ignored: scripts can write this file, so it may only lower \
             quotas, and the operator's limit is {kept}",
            self.file.display()
        ));
    }
}

/// The quotas a file sets, parsed.
#[derive(Debug, Default)]
struct QuotaValues {
    memory: Option<u64>,
    disk: Option<u64>,
    disk_entries: Option<u64>,
    time_limit: Option<Duration>,
    cpus: Option<usize>,
    operations: Option<u64>,
}

impl QuotaValues {
    fn apply_to(&self, quota: &mut Quota) {
        quota.memory = self.memory.unwrap_or(quota.memory);
        quota.disk = self.disk.unwrap_or(quota.disk);
        quota.disk_entries = self.disk_entries.unwrap_or(quota.disk_entries);
        quota.time_limit = self.time_limit.unwrap_or(quota.time_limit);
        quota.cpus = self.cpus.unwrap_or(quota.cpus);
        quota.operations = self.operations.unwrap_or(quota.operations);
    }

    /// Lowers the quotas this file lowers; notes the ones it would raise.
    fn narrow(&self, quota: &mut Quota, ignored: &mut Ignored) {
        use crate::sandbox::{human_bytes, human_disk_bytes};
        let human_time = |d: Duration| humantime::format_duration(d).to_string();
        narrow_one(
            &mut quota.memory,
            self.memory,
            "quota.memory",
            human_bytes,
            ignored,
        );
        narrow_one(
            &mut quota.disk,
            self.disk,
            "quota.disk",
            human_disk_bytes,
            ignored,
        );
        narrow_one(
            &mut quota.time_limit,
            self.time_limit,
            "quota.time_limit",
            human_time,
            ignored,
        );
        narrow_one(
            &mut quota.cpus,
            self.cpus,
            "quota.cpus",
            |n| n.to_string(),
            ignored,
        );
        narrow_one(
            &mut quota.operations,
            self.operations,
            "quota.operations",
            |n| n.to_string(),
            ignored,
        );
    }
}

fn narrow_one<T: PartialOrd + Copy>(
    current: &mut T,
    asked: Option<T>,
    key: &str,
    show: impl Fn(T) -> String,
    ignored: &mut Ignored,
) {
    match asked {
        Some(value) if value <= *current => *current = value,
        Some(value) => ignored.raise(key, show(value), show(*current)),
        None => {}
    }
}

fn read_config_file(path: &Path) -> Result<ConfigFile, ConfigError> {
    let text = std::fs::read_to_string(path).map_err(|error| ConfigError::Read {
        path: path.to_path_buf(),
        error,
    })?;
    toml::from_str(&text).map_err(|e| ConfigError::Invalid {
        path: path.to_path_buf(),
        message: e.to_string(),
    })
}

fn parse_quota(file: &QuotaFile) -> Result<QuotaValues, String> {
    Ok(QuotaValues {
        memory: file
            .memory
            .as_deref()
            .map(parse_size)
            .transpose()
            .map_err(|e| format!("quota.memory: {e}"))?,
        disk: file
            .disk
            .as_deref()
            .map(parse_size)
            .transpose()
            .map_err(|e| format!("quota.disk: {e}"))?,
        disk_entries: file
            .disk_entries
            .map(check_disk_entries)
            .transpose()
            .map_err(|e| format!("quota.disk_entries: {e}"))?,
        time_limit: file
            .time_limit
            .as_deref()
            .map(parse_duration)
            .transpose()
            .map_err(|e| format!("quota.time_limit: {e}"))?,
        cpus: file
            .cpus
            .map(check_cpus)
            .transpose()
            .map_err(|e| format!("quota.cpus: {e}"))?,
        operations: file
            .operations
            .map(check_operations)
            .transpose()
            .map_err(|e| format!("quota.operations: {e}"))?,
    })
}

/// The catalogue settings a file gives, checked.
fn parse_catalogue(file: &CatalogueFile, paths: &PathsFile) -> Result<CatalogueSettings, String> {
    Ok(CatalogueSettings {
        url: file
            .url
            .as_deref()
            .map(check_url)
            .transpose()
            .map_err(|e| format!("catalogue.url: {e}"))?,
        dialect: file
            .dialect
            .as_deref()
            .map(parse_dialect)
            .transpose()
            .map_err(|e| format!("catalogue.dialect: {e}"))?,
        token_url: file
            .token_url
            .as_deref()
            .map(check_url)
            .transpose()
            .map_err(|e| format!("catalogue.token_url: {e}"))?,
        username: file.username.clone(),
        archive_layout: paths
            .archive_layout
            .as_deref()
            .map(parse_layout)
            .transpose()
            .map_err(|e| format!("paths.archive_layout: {e}"))?,
        max_parallel_downloads: file
            .max_parallel_downloads
            .map(check_parallel_downloads)
            .transpose()?,
    })
}

/// The most downloads at once a session may be given.
const MOST_PARALLEL_DOWNLOADS: usize = 16;

fn check_parallel_downloads(count: usize) -> Result<usize, String> {
    if (1..=MOST_PARALLEL_DOWNLOADS).contains(&count) {
        Ok(count)
    } else {
        Err(format!(
            "catalogue.max_parallel_downloads: {count} is not from 1 to {MOST_PARALLEL_DOWNLOADS} \
             (CDSE allows an account 4 connections at once)"
        ))
    }
}

/// Checks an endpoint the operator grants: `host:port`.
pub fn check_host_port(text: &str) -> Result<String, String> {
    crate::sandbox::grants::parse_host_port(text).map(|_| text.trim().to_string())
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
    #[serde(default)]
    grants: GrantsFile,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct GrantsFile {
    #[serde(default)]
    read: Vec<PathBuf>,
    #[serde(default)]
    net: Vec<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct CatalogueFile {
    url: Option<String>,
    dialect: Option<String>,
    token_url: Option<String>,
    username: Option<String>,
    #[serde(default)]
    download_hosts: Vec<String>,
    max_parallel_downloads: Option<usize>,
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
    #[serde(default)]
    tutorials: Vec<PathBuf>,
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
        "stac" => Ok(Dialect::Stac),
        _ => Err(format!(
            "'{text}' is not a catalogue dialect; write onda (ONDA DIAS, $search), cdse (Copernicus Data Space, $filter) or stac (a STAC API)"
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

    /// A workspace with `cleope.toml` holding `workspace_file`, and an
    /// operator's file holding `system_file`.
    fn load(system_file: &str, workspace_file: &str, overrides: Overrides) -> Settings {
        let dir = tempfile::tempdir().unwrap();
        let workspace = dir.path().join("ws");
        std::fs::create_dir_all(&workspace).unwrap();
        std::fs::write(workspace.join(CONFIG_FILE), workspace_file).unwrap();
        let system = dir.path().join("etc-cleope.toml");
        std::fs::write(&system, system_file).unwrap();
        let overrides = Overrides {
            workspace: Some(workspace),
            ..overrides
        };
        Settings::load_with_operator_files(&overrides, &[system]).unwrap()
    }

    #[test]
    fn the_operator_sets_and_the_workspace_file_only_narrows() {
        let settings = load(
            "[quota]\nmemory = \"4GiB\"\ntime_limit = \"600s\"\n[paths]\narchive = \"/eodata\"\n",
            "[quota]\nmemory = \"1GiB\"\ncpus = 1\ntime_limit = \"1h\"\n[paths]\narchive = \"arch\"\n",
            Overrides {
                cpus: Some(2),
                ..Overrides::default()
            },
        );
        assert_eq!(settings.quota.memory, 1 << 30, "lowered by the workspace");
        assert_eq!(settings.quota.cpus, 1, "lowered below the flag");
        assert_eq!(
            settings.quota.time_limit,
            Duration::from_secs(600),
            "not raised"
        );
        assert_eq!(settings.archive, Some(PathBuf::from("/eodata")));
        let ignored = settings.ignored.join("\n");
        assert!(
            ignored.contains("quota.time_limit = 1h was ignored"),
            "{ignored}"
        );
        assert!(ignored.contains("the operator's limit is 10m"), "{ignored}");
        assert!(ignored.contains("paths.archive was ignored"), "{ignored}");
        assert_eq!(settings.ignored.len(), 2, "{ignored}");
    }

    #[test]
    fn downloads_at_once_are_set_by_the_operator_and_only_lowered_by_the_workspace() {
        let settings = load(
            "[catalogue]\nmax_parallel_downloads = 3\n",
            "",
            Overrides::default(),
        );
        assert_eq!(settings.catalogue.max_parallel_downloads, Some(3));
        let settings = load(
            "[catalogue]\nmax_parallel_downloads = 3\n",
            "[catalogue]\nmax_parallel_downloads = 8\n",
            Overrides::default(),
        );
        assert_eq!(
            settings.catalogue.max_parallel_downloads,
            Some(3),
            "not raised"
        );
        let ignored = settings.ignored.join("\n");
        assert!(
            ignored.contains("catalogue.max_parallel_downloads"),
            "{ignored}"
        );
        let settings = load(
            "",
            "[catalogue]\nmax_parallel_downloads = 1\n",
            Overrides::default(),
        );
        assert_eq!(
            settings.catalogue.max_parallel_downloads,
            Some(1),
            "lowered"
        );
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(
            dir.path().join(CONFIG_FILE),
            "[catalogue]\nmax_parallel_downloads = 0\n",
        )
        .unwrap();
        let overrides = Overrides {
            workspace: Some(dir.path().to_path_buf()),
            ..Overrides::default()
        };
        let message = Settings::load(&overrides).unwrap_err().to_string();
        assert!(
            message.contains("max_parallel_downloads: 0 is not from 1 to 16"),
            "{message}"
        );
    }

    #[test]
    fn grants_come_from_the_operator_only() {
        let settings = load(
            "[grants]\nread = [\"/srv/data\"]\nnet = [\"classroom.example.org:8443\"]\n\
             [paths]\ntutorials = [\"/opt/cleope/tutorials\"]\n",
            "[grants]\nread = [\"/\"]\nnet = [\"evil.org:443\"]\n[paths]\nmodules = [\"mine\", \"/etc\"]\n\
             [catalogue]\nurl = \"http://127.0.0.1:9/x\"\ndownload_hosts = [\"evil.org:443\"]\n",
            Overrides {
                allow_net: vec!["second.example.org:443".into()],
                ..Overrides::default()
            },
        );
        assert_eq!(settings.grants.read, vec![PathBuf::from("/srv/data")]);
        assert_eq!(
            settings.grants.net,
            vec!["classroom.example.org:8443", "second.example.org:443"]
        );
        assert_eq!(
            settings.grants.tutorials,
            vec![PathBuf::from("/opt/cleope/tutorials")]
        );
        assert!(settings.grants.download_hosts.is_empty());
        assert_eq!(settings.catalogue.url, None);
        assert_eq!(
            settings.module_paths.len(),
            1,
            "{:?}",
            settings.module_paths
        );
        assert!(settings.module_paths[0].ends_with("ws/mine"));
        let ignored = settings.ignored.join("\n");
        for key in [
            "grants was",
            "paths.modules was",
            "catalogue.url was",
            "catalogue.download_hosts was",
        ] {
            assert!(ignored.contains(key), "{key}: {ignored}");
        }
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
    fn catalogue_settings_come_from_the_operator_and_flags_win() {
        let system = "[paths]\narchive = \"/eodata\"\narchive_layout = \"cdse\"\n\
             [catalogue]\nurl = \"https://catalogue.dataspace.copernicus.eu/odata/v1/\"\n\
             dialect = \"CDSE\"\n";
        let workspace = "[catalogue]\nusername = \"student@example.org\"\n";
        let settings = load(system, workspace, Overrides::default());
        let catalogue = &settings.catalogue;
        assert_eq!(
            catalogue.url.as_deref(),
            Some("https://catalogue.dataspace.copernicus.eu/odata/v1")
        );
        assert_eq!(catalogue.dialect, Some(Dialect::Cdse));
        assert_eq!(catalogue.archive_layout, Some(Layout::Cdse));
        assert_eq!(catalogue.username.as_deref(), Some("student@example.org"));
        assert!(settings.ignored.is_empty(), "{:?}", settings.ignored);
        let flags = Overrides {
            catalogue_url: Some("http://127.0.0.1:8080/dias-catalogue".into()),
            dialect: Some(Dialect::Onda),
            ..Overrides::default()
        };
        let settings = load(system, workspace, flags);
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
    fn an_operator_file_inside_the_workspace_is_not_trusted() {
        let dir = tempfile::tempdir().unwrap();
        let workspace = dir.path().join("ws");
        std::fs::create_dir_all(&workspace).unwrap();
        let inside = workspace.join("operator.toml");
        std::fs::write(&inside, "[quota]\nmemory = \"64GiB\"\n").unwrap();
        let overrides = Overrides {
            workspace: Some(workspace),
            ..Overrides::default()
        };
        let settings = Settings::load_with_operator_files(&overrides, &[inside]).unwrap();
        assert_eq!(settings.quota.memory, 2 << 30);
        assert!(settings.ignored[0].contains("quota.memory = 64.0 GiB was ignored"));
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
                "[catalogue]\ndialect = \"odata\"\n",
                "catalogue.dialect",
                "onda (ONDA DIAS, $search), cdse (Copernicus Data Space, $filter) or stac",
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
