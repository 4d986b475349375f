//! `cleope kernel install`: writes the kernelspec (kernel.json and two
//! logos) where Jupyter looks for kernels, and the prebuilt JupyterLab
//! extension that highlights Rhai where JupyterLab looks for extensions.

use crate::runtime::Overrides;
use include_dir::{Dir, include_dir};
use serde_json::{Map, Value, json};
use std::path::{Path, PathBuf};
use std::time::Duration;

/// Where to install, as `jupyter kernelspec install` names the places.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Location {
    /// The user's Jupyter data folder (e.g. `~/.local/share/jupyter`).
    User,
    /// The active Python environment (`$VIRTUAL_ENV`, `$CONDA_PREFIX` or
    /// the `sys.prefix` of `python3`).
    SysPrefix,
    /// `PREFIX/share/jupyter`: `/usr/local` makes the kernel every user's.
    Prefix(PathBuf),
}

/// What to install.
#[derive(Debug, Clone)]
pub struct Kernelspec {
    /// The kernel's name (its folder): ASCII letters, digits, `-`, `.`, `_`.
    pub name: String,
    /// The name Jupyter shows in its launcher and menus.
    pub display_name: String,
    /// The `cleope` program the kernel runs (an absolute path).
    pub program: PathBuf,
    /// Environment the kernel starts with (quota settings).
    pub env: Vec<(String, String)>,
}

/// Why the kernel could not be installed.
#[derive(Debug, thiserror::Error)]
pub enum InstallError {
    #[error(
        "\"{0}\" cannot name a kernel: use ASCII letters, digits, '-', '.' and '_' (e.g. rhai)"
    )]
    BadName(String),
    #[error("no home folder, so no user Jupyter folder: install with --prefix PREFIX instead")]
    NoHome,
    #[error(
        "no Python environment found for --sys-prefix (no VIRTUAL_ENV, CONDA_PREFIX or python3): \
         use --prefix PREFIX"
    )]
    NoSysPrefix,
    #[error("cannot write {path}: {error}")]
    Write {
        path: PathBuf,
        error: std::io::Error,
    },
}

/// The JupyterLab 4 extension that highlights Rhai (CodeMirror 6), as
/// scripts/build-labextension.sh builds it from src/kernel/labextension/.
static LABEXTENSION: Dir<'_> = include_dir!("$CARGO_MANIFEST_DIR/src/kernel/labextension/prebuilt");

/// Where an install put its files.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Installed {
    /// The kernelspec folder (`…/kernels/NAME`).
    pub kernelspec: PathBuf,
    /// The extension's folder (`…/labextensions/@cleope/jupyterlab-rhai`).
    pub labextension: PathBuf,
}

/// Writes the kernelspec and the highlighting extension; installing again
/// replaces both.
pub fn install(spec: &Kernelspec, location: &Location) -> Result<Installed, InstallError> {
    check_name(&spec.name)?;
    let data = data_dir(location)?;
    Ok(Installed {
        kernelspec: install_kernelspec(spec, &data)?,
        labextension: install_labextension(&data)?,
    })
}

/// Writes the kernelspec folder under the Jupyter data folder `data`.
fn install_kernelspec(spec: &Kernelspec, data: &Path) -> Result<PathBuf, InstallError> {
    let folder = data.join("kernels").join(spec.name.to_ascii_lowercase());
    let write = |name: &str, bytes: &[u8]| {
        let path = folder.join(name);
        std::fs::write(&path, bytes).map_err(|error| InstallError::Write { path, error })
    };
    std::fs::create_dir_all(&folder).map_err(|error| InstallError::Write {
        path: folder.clone(),
        error,
    })?;
    let json = serde_json::to_string_pretty(&kernel_json(spec)).unwrap_or_default();
    write("kernel.json", json.as_bytes())?;
    write("logo-32x32.png", &logo_png(32))?;
    write("logo-64x64.png", &logo_png(64))?;
    Ok(folder)
}

/// The extension's npm package name, which is also its folder under
/// `labextensions/` (JupyterLab finds it by that name).
pub fn labextension_name() -> String {
    LABEXTENSION
        .get_file("package.json")
        .and_then(|file| serde_json::from_slice::<Value>(file.contents()).ok())
        .and_then(|package| package["name"].as_str().map(str::to_string))
        .expect("the embedded labextension has a package.json with a name")
}

/// Writes the prebuilt extension into `data/labextensions/<name>/`. The old
/// folder goes first: a rebuilt extension has new hashed file names, and
/// JupyterLab needs no stale ones.
fn install_labextension(data: &Path) -> Result<PathBuf, InstallError> {
    let folder = data.join("labextensions").join(labextension_name());
    let failed = |path: &Path| {
        let path = path.to_path_buf();
        move |error| InstallError::Write { path, error }
    };
    match std::fs::remove_dir_all(&folder) {
        Err(error) if error.kind() != std::io::ErrorKind::NotFound => {
            return Err(failed(&folder)(error));
        }
        _ => {}
    }
    for file in embedded_files(&LABEXTENSION) {
        let path = folder.join(file.path());
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).map_err(failed(parent))?;
        }
        std::fs::write(&path, file.contents()).map_err(failed(&path))?;
    }
    // What `jupyter labextension list` shows as the extension's source.
    let install_json = json!({
        "packageManager": "cleope",
        "packageName": "cleope",
        "uninstallInstructions": "Delete this folder; `cleope kernel install` writes it again",
    });
    let path = folder.join("install.json");
    let text = serde_json::to_string_pretty(&install_json).unwrap_or_default();
    std::fs::write(&path, text).map_err(failed(&path))?;
    Ok(folder)
}

/// Every file of an embedded folder, its subfolders' included.
fn embedded_files<'a>(dir: &'a Dir<'a>) -> Vec<&'a include_dir::File<'a>> {
    dir.entries()
        .iter()
        .flat_map(|entry| match entry {
            include_dir::DirEntry::File(file) => vec![file],
            include_dir::DirEntry::Dir(sub) => embedded_files(sub),
        })
        .collect()
}

fn check_name(name: &str) -> Result<(), InstallError> {
    let allowed = |c: char| c.is_ascii_alphanumeric() || matches!(c, '-' | '.' | '_');
    if !name.is_empty() && name.chars().all(allowed) {
        Ok(())
    } else {
        Err(InstallError::BadName(name.to_string()))
    }
}

/// The kernelspec: how Jupyter starts the kernel and how it shows it.
pub fn kernel_json(spec: &Kernelspec) -> Value {
    let env: Map<String, Value> = spec
        .env
        .iter()
        .map(|(k, v)| (k.clone(), Value::from(v.as_str())))
        .collect();
    json!({
        "argv": [spec.program.display().to_string(), "kernel", "-f", "{connection_file}"],
        "display_name": spec.display_name,
        "language": "rhai",
        "interrupt_mode": "message",
        "env": env,
        "kernel_protocol_version": super::messages::PROTOCOL_VERSION,
        "metadata": { "debugger": false },
    })
}

/// The kernel's environment for settings given at install time: each
/// becomes the `CLEOPE_*` variable the kernel reads.
pub fn settings_env(overrides: &Overrides) -> Vec<(String, String)> {
    let path = |p: &Option<PathBuf>| p.as_ref().map(|p| p.display().to_string());
    let entries = [
        ("CLEOPE_WORKSPACE", path(&overrides.workspace)),
        ("CLEOPE_ARCHIVE", path(&overrides.archive)),
        ("CLEOPE_MEMORY", overrides.memory.map(size_text)),
        ("CLEOPE_CPUS", overrides.cpus.map(|n| n.to_string())),
        ("CLEOPE_DISK", overrides.disk.map(size_text)),
        (
            "CLEOPE_DISK_ENTRIES",
            overrides.disk_entries.map(|n| n.to_string()),
        ),
        (
            "CLEOPE_OPERATIONS",
            overrides.operations.map(|n| n.to_string()),
        ),
        ("CLEOPE_TIME_LIMIT", overrides.time_limit.map(duration_text)),
        ("CLEOPE_CATALOGUE", overrides.catalogue_url.clone()),
        (
            "CLEOPE_DIALECT",
            overrides.dialect.map(|d| {
                match d {
                    crate::eo::odata::Dialect::Onda => "onda",
                    crate::eo::odata::Dialect::Cdse => "cdse",
                    crate::eo::odata::Dialect::Stac => "stac",
                }
                .to_string()
            }),
        ),
        (
            "CLEOPE_ARCHIVE_LAYOUT",
            overrides.archive_layout.map(|l| {
                match l {
                    crate::eo::ens::Layout::Onda => "onda",
                    crate::eo::ens::Layout::Cdse => "cdse",
                }
                .to_string()
            }),
        ),
        // The kernel's grants: the kernelspec is the operator's, not a script's.
        (
            "CLEOPE_READ",
            joined(
                &overrides
                    .read
                    .iter()
                    .map(|p| p.display())
                    .collect::<Vec<_>>(),
                ":",
            ),
        ),
        ("CLEOPE_ALLOW_NET", joined(&overrides.allow_net, ",")),
    ];
    entries
        .into_iter()
        .filter_map(|(key, value)| value.map(|v| (key.to_string(), v)))
        .collect()
}

/// The items joined by `separator`, or None for none.
fn joined<T: std::fmt::Display>(items: &[T], separator: &str) -> Option<String> {
    (!items.is_empty()).then(|| {
        items
            .iter()
            .map(ToString::to_string)
            .collect::<Vec<_>>()
            .join(separator)
    })
}

/// A byte count in the largest unit that divides it exactly (`2GiB`, `20GB`).
fn size_text(bytes: u64) -> String {
    const UNITS: [(u64, &str); 6] = [
        (1 << 30, "GiB"),
        (1_000_000_000, "GB"),
        (1 << 20, "MiB"),
        (1_000_000, "MB"),
        (1 << 10, "KiB"),
        (1_000, "kB"),
    ];
    UNITS
        .iter()
        .find(|(unit, _)| bytes.is_multiple_of(*unit))
        .map_or_else(
            || format!("{bytes}B"),
            |(unit, name)| format!("{}{name}", bytes / unit),
        )
}

fn duration_text(duration: Duration) -> String {
    humantime::format_duration(duration)
        .to_string()
        .replace(' ', "")
}

/// The Jupyter data folder (`…/share/jupyter` or the user's) for a location.
fn data_dir(location: &Location) -> Result<PathBuf, InstallError> {
    match location {
        Location::User => user_data_dir(),
        Location::SysPrefix => Ok(sys_prefix()?.join("share").join("jupyter")),
        Location::Prefix(prefix) => Ok(prefix.join("share").join("jupyter")),
    }
}

/// Jupyter's per-user data folder, as jupyter_core finds it.
fn user_data_dir() -> Result<PathBuf, InstallError> {
    if let Some(dir) = std::env::var_os("JUPYTER_DATA_DIR") {
        return Ok(PathBuf::from(dir));
    }
    if cfg!(target_os = "macos") {
        return dirs::home_dir()
            .map(|home| home.join("Library/Jupyter"))
            .ok_or(InstallError::NoHome);
    }
    // Linux: $XDG_DATA_HOME or ~/.local/share; Windows: %APPDATA%.
    let base = if cfg!(windows) {
        dirs::config_dir()
    } else {
        dirs::data_dir()
    };
    base.map(|dir| dir.join("jupyter"))
        .ok_or(InstallError::NoHome)
}

fn sys_prefix() -> Result<PathBuf, InstallError> {
    for variable in ["VIRTUAL_ENV", "CONDA_PREFIX"] {
        if let Some(prefix) = std::env::var_os(variable).filter(|v| !v.is_empty()) {
            return Ok(PathBuf::from(prefix));
        }
    }
    let output = std::process::Command::new("python3")
        .args(["-c", "import sys; print(sys.prefix)"])
        .output()
        .map_err(|_| InstallError::NoSysPrefix)?;
    let prefix = String::from_utf8_lossy(&output.stdout).trim().to_string();
    if output.status.success() && Path::new(&prefix).is_absolute() {
        Ok(PathBuf::from(prefix))
    } else {
        Err(InstallError::NoSysPrefix)
    }
}

/// A PNG logo `size` pixels square: a blue globe with an orange satellite.
pub fn logo_png(size: u32) -> Vec<u8> {
    let pixels: Vec<u8> = (0..size * size)
        .flat_map(|i| logo_pixel(i % size, i / size, size))
        .collect();
    let mut png = Vec::new();
    let mut encoder = png::Encoder::new(&mut png, size, size);
    encoder.set_color(png::ColorType::Rgba);
    encoder.set_depth(png::BitDepth::Eight);
    // Writing to memory cannot fail; the image has exactly size² pixels.
    let written = encoder
        .write_header()
        .and_then(|mut writer| writer.write_image_data(&pixels));
    debug_assert!(written.is_ok());
    png
}

/// One pixel, averaged over 4 × 4 samples so edges are smooth.
fn logo_pixel(x: u32, y: u32, size: u32) -> [u8; 4] {
    const SAMPLES: u32 = 4;
    let mut sum = [0.0_f32; 4];
    for sy in 0..SAMPLES {
        for sx in 0..SAMPLES {
            let at = |p: u32, s: u32| {
                ((p * SAMPLES + s) as f32 + 0.5) / (size * SAMPLES) as f32 * 2.0 - 1.0
            };
            let [r, g, b, a] = logo_colour(at(x, sx), at(y, sy));
            // Premultiply so transparent samples add no colour.
            sum = [sum[0] + r * a, sum[1] + g * a, sum[2] + b * a, sum[3] + a];
        }
    }
    let n = (SAMPLES * SAMPLES) as f32;
    let alpha = sum[3] / n;
    let channel = |c: f32| {
        if alpha > 0.0 {
            (c / n / alpha * 255.0).round() as u8
        } else {
            0
        }
    };
    [
        channel(sum[0]),
        channel(sum[1]),
        channel(sum[2]),
        (alpha * 255.0).round() as u8,
    ]
}

/// The logo's colour at (u, v), both in [-1, 1], y downwards.
fn logo_colour(u: f32, v: f32) -> [f32; 4] {
    const OCEAN: [f32; 4] = [0.12, 0.33, 0.58, 1.0];
    const GRID: [f32; 4] = [0.55, 0.78, 0.95, 1.0];
    const SATELLITE: [f32; 4] = [0.96, 0.55, 0.13, 1.0];
    const CLEAR: [f32; 4] = [0.0; 4];
    if (u - 0.72).hypot(v + 0.72) < 0.17 {
        return SATELLITE;
    }
    let (gu, gv, radius) = (u + 0.08, v - 0.08, 0.82);
    if gu.hypot(gv) > radius {
        return CLEAR;
    }
    let equator = gv.abs() < 0.045;
    let meridian = ((gu / 0.38).powi(2) + (gv / radius).powi(2) - 1.0).abs() < 0.14;
    if equator || meridian { GRID } else { OCEAN }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec() -> Kernelspec {
        Kernelspec {
            name: "rhai".into(),
            display_name: "Rhai (cleope)".into(),
            program: PathBuf::from("/opt/cleope/bin/cleope"),
            env: vec![("CLEOPE_MEMORY".into(), "1GiB".into())],
        }
    }

    #[test]
    fn kernel_json_starts_this_program_with_message_interrupts() {
        let json = kernel_json(&spec());
        assert_eq!(
            json["argv"],
            json!([
                "/opt/cleope/bin/cleope",
                "kernel",
                "-f",
                "{connection_file}"
            ])
        );
        assert_eq!(json["language"], "rhai");
        assert_eq!(json["interrupt_mode"], "message");
        assert_eq!(json["env"]["CLEOPE_MEMORY"], "1GiB");
    }

    #[test]
    fn a_prefix_install_writes_the_spec_and_two_logos() {
        let dir = tempfile::tempdir().unwrap();
        let folder = install(&spec(), &Location::Prefix(dir.path().into()))
            .unwrap()
            .kernelspec;
        assert_eq!(folder, dir.path().join("share/jupyter/kernels/rhai"));
        for (file, side) in [("logo-32x32.png", 32), ("logo-64x64.png", 64)] {
            let decoder = png::Decoder::new(std::fs::File::open(folder.join(file)).unwrap());
            let info = decoder.read_info().unwrap().info().clone();
            assert_eq!((info.width, info.height), (side, side), "{file}");
        }
        assert!(folder.join("kernel.json").is_file());
    }

    #[test]
    fn the_highlighting_extension_is_installed_where_jupyterlab_looks_and_replaced_on_reinstall() {
        let dir = tempfile::tempdir().unwrap();
        let location = Location::Prefix(dir.path().into());
        let folder = install(&spec(), &location).unwrap().labextension;
        assert_eq!(
            folder,
            dir.path()
                .join("share/jupyter/labextensions/@cleope/jupyterlab-rhai")
        );
        let package: Value =
            serde_json::from_str(&std::fs::read_to_string(folder.join("package.json")).unwrap())
                .unwrap();
        // JupyterLab loads the extension from the file `_build.load` names.
        let entry = package["jupyterlab"]["_build"]["load"].as_str().unwrap();
        assert!(entry.starts_with("static/remoteEntry."), "{entry}");
        assert!(folder.join(entry).is_file(), "{entry} is installed");
        assert!(folder.join("install.json").is_file());
        let installed = |folder: &Path| {
            walkdir::WalkDir::new(folder)
                .sort_by_file_name()
                .into_iter()
                .map(|entry| entry.unwrap())
                .filter(|entry| entry.file_type().is_file())
                .map(|entry| {
                    let bytes = std::fs::read(entry.path()).unwrap();
                    (entry.into_path(), bytes)
                })
                .collect::<Vec<_>>()
        };
        let first = installed(&folder);
        assert_eq!(first.len(), embedded_files(&LABEXTENSION).len() + 1);

        // A file a previous build left behind goes; the install is the same.
        let stale = folder.join("static/remoteEntry.0000000000000000.js");
        std::fs::write(&stale, "stale").unwrap();
        install(&spec(), &location).unwrap();
        assert!(!stale.exists());
        assert_eq!(installed(&folder), first);
    }

    #[test]
    fn names_jupyter_cannot_use_are_refused() {
        let bad = Kernelspec {
            name: "my kernel".into(),
            ..spec()
        };
        assert!(matches!(
            install(&bad, &Location::Prefix("/nonexistent".into())),
            Err(InstallError::BadName(_))
        ));
    }

    #[test]
    fn settings_become_environment_the_kernel_reads_back() {
        let overrides = Overrides {
            memory: Some(3 << 30),
            disk: Some(20_000_000_000),
            time_limit: Some(Duration::from_secs(90)),
            operations: Some(5000),
            ..Overrides::default()
        };
        let env = settings_env(&overrides);
        let value = |key: &str| env.iter().find(|(k, _)| k == key).unwrap().1.clone();
        assert_eq!(value("CLEOPE_MEMORY"), "3GiB");
        assert_eq!(value("CLEOPE_DISK"), "20GB");
        assert_eq!(value("CLEOPE_TIME_LIMIT"), "1m30s");
        use crate::runtime::config::{parse_duration, parse_size};
        assert_eq!(parse_size(&value("CLEOPE_DISK")), Ok(20_000_000_000));
        assert_eq!(parse_size(&value("CLEOPE_MEMORY")), Ok(3 << 30));
        assert_eq!(
            parse_duration(&value("CLEOPE_TIME_LIMIT")),
            Ok(Duration::from_secs(90))
        );
        assert_eq!(env.len(), 4);
    }

    #[test]
    fn the_kernels_grants_and_catalogue_go_into_its_environment() {
        let overrides = Overrides {
            catalogue_url: Some("https://catalogue.dataspace.copernicus.eu/odata/v1".into()),
            dialect: Some(crate::eo::odata::Dialect::Cdse),
            read: vec!["/srv/course".into(), "/srv/data".into()],
            allow_net: vec!["a.example.org:443".into(), "b.example.org:8443".into()],
            ..Overrides::default()
        };
        let env = settings_env(&overrides);
        let value = |key: &str| env.iter().find(|(k, _)| k == key).unwrap().1.clone();
        assert_eq!(value("CLEOPE_DIALECT"), "cdse");
        assert_eq!(value("CLEOPE_READ"), "/srv/course:/srv/data");
        assert_eq!(
            value("CLEOPE_ALLOW_NET"),
            "a.example.org:443,b.example.org:8443"
        );
        assert!(value("CLEOPE_CATALOGUE").ends_with("/odata/v1"));
    }
}
