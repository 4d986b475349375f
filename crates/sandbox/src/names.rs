//! Names that come from outside — a catalogue's product names, ONDA
//! pseudopaths, CDSE S3 paths, the entries of a downloaded zip or tar — and
//! become file or folder names. A hostile or broken catalogue must not be
//! able to make cleope write (or look) outside the folder meant for it, so
//! every such name is checked here, in one place, before any file is made.
//!
//! A safe component is a single, plain file name: not empty, not `.` or
//! `..`, no `/` or `\`, no control character (a newline would also forge a
//! line of `list_local.txt`), no `"` (GDAL's `NETCDF:"…":var` syntax), not
//! hidden (cleope's own bookkeeping — `.part` staging, locks — starts with a
//! dot, so a product can never be mistaken for it), and at most
//! [`MAX_COMPONENT_BYTES`] long.

use std::fmt;

/// The longest component accepted: 255 is the file system's limit, and
/// cleope adds suffixes (`.part`, `.zip`, `.lock`) and a staging prefix.
pub const MAX_COMPONENT_BYTES: usize = 200;

/// The most components an archive-relative path may have.
pub const MAX_DEPTH: usize = 64;

/// A name from outside that cannot become a file name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnsafeName {
    /// The name as received (shown escaped and shortened).
    pub name: String,
    /// Where it came from, e.g. "product name from the catalogue".
    pub origin: String,
    /// Why it is refused.
    pub why: &'static str,
}

impl fmt::Display for UnsafeName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let shown: String = self.name.escape_debug().take(120).collect();
        let cut = if self.name.escape_debug().nth(120).is_some() {
            "…"
        } else {
            ""
        };
        write!(
            f,
            "the {} \"{shown}{cut}\" {}, so cleope does not use it as a file or folder name",
            self.origin, self.why
        )
    }
}

impl std::error::Error for UnsafeName {}

impl UnsafeName {
    /// How to go on, in a learner's words.
    pub fn hint(&self) -> String {
        "this name comes from the catalogue or the product, not from your script: report it to \
         the catalogue's operators, or use another product"
            .into()
    }
}

/// `name` when it is one safe file or folder name (see the module doc);
/// `origin` says where it came from, for the error.
pub fn safe_component<'a>(name: &'a str, origin: &str) -> Result<&'a str, UnsafeName> {
    match why_unsafe(name) {
        None => Ok(name),
        Some(why) => Err(UnsafeName {
            name: name.to_string(),
            origin: origin.to_string(),
            why,
        }),
    }
}

/// A relative path whose every component is safe, normalised to
/// `a/b/c` (`./` and doubled slashes dropped; `\` counts as a separator so
/// a Windows-made archive cannot hide a `..`). Refuses absolute paths,
/// `..`, and paths deeper than `MAX_DEPTH`. Gives `""` for a path that
/// names the root itself (`./`, as tar archives often start).
pub fn safe_relative_path(path: &str, origin: &str) -> Result<String, UnsafeName> {
    let refuse = |why| UnsafeName {
        name: path.to_string(),
        origin: origin.to_string(),
        why,
    };
    let normal = path.replace('\\', "/");
    if normal.starts_with('/') || normal.get(1..2) == Some(":") {
        return Err(refuse(
            "is an absolute path, which would land outside its folder",
        ));
    }
    let parts: Vec<&str> = normal
        .split('/')
        .filter(|part| !part.is_empty() && *part != ".")
        .collect();
    if parts.len() > MAX_DEPTH {
        return Err(refuse("has more than 64 nested folders"));
    }
    for part in &parts {
        if let Some(why) = why_unsafe(part) {
            return Err(refuse(why));
        }
    }
    Ok(parts.join("/"))
}

fn why_unsafe(name: &str) -> Option<&'static str> {
    if name.is_empty() {
        Some("is empty")
    } else if name == ".." {
        Some("climbs out with '..'")
    } else if name == "." {
        Some("names the folder itself ('.')")
    } else if name.contains(['/', '\\']) {
        Some("holds a '/' or '\\' (it is a path, not one name)")
    } else if name.chars().any(char::is_control) {
        Some("holds a control character (a newline, a tab or a NUL byte)")
    } else if name.contains('"') {
        Some("holds a double quote")
    } else if name.starts_with('.') {
        Some("starts with '.', as hidden files and cleope's own bookkeeping do")
    } else if name.len() > MAX_COMPONENT_BYTES {
        Some("is longer than 200 bytes")
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn product_names_pass_as_they_are() {
        for name in [
            "S2A_MSIL2A_20200811T062501_N0214_R077_T40KEC_20200811T083349.zip",
            "S1A_IW_GRDH_1SDV_20200811T050000_20200811T050025_033863_03ED3A_1A2B.SAFE",
            "cmems_mod_glo_phy_anfc_0.083deg_P1D-m_2021-01-01.nc",
            "LC08 L2SP with spaces, commas (and) brackets.tar.gz",
        ] {
            assert_eq!(safe_component(name, "product name"), Ok(name));
        }
    }

    #[test]
    fn every_spelling_of_a_way_out_is_refused_with_its_reason() {
        let cases = [
            ("", "empty"),
            ("..", "'..'"),
            (".", "('.')"),
            ("../../../tmp/x.nc", "'/'"),
            ("/etc/passwd", "'/'"),
            ("..\\..\\x", "'/'"),
            ("a/b", "'/'"),
            ("x.nc\nforged", "control character"),
            ("nul\0byte", "control character"),
            ("tab\there", "control character"),
            ("NETCDF\":x", "double quote"),
            (".cleope", "starts with '.'"),
            (".part", "starts with '.'"),
        ];
        for (name, reason) in cases {
            let error = safe_component(name, "product name from the catalogue").unwrap_err();
            assert!(error.to_string().contains(reason), "{name:?}: {error}");
            assert!(
                error
                    .to_string()
                    .starts_with("the product name from the catalogue \""),
                "{error}"
            );
        }
        let long = "a".repeat(201);
        assert!(safe_component(&long, "x").is_err());
        assert!(safe_component(&"a".repeat(200), "x").is_ok());
    }

    #[test]
    fn messages_show_control_characters_escaped_and_long_names_shortened() {
        let error = safe_component("a\nb", "entry").unwrap_err().to_string();
        assert!(error.contains("\"a\\nb\""), "{error}");
        let error = safe_component(&format!("/{}", "x".repeat(500)), "entry")
            .unwrap_err()
            .to_string();
        assert!(error.len() < 400 && error.contains("…\""), "{error}");
    }

    #[test]
    fn relative_paths_are_normalised_and_checked_part_by_part() {
        let ok = |p: &str| safe_relative_path(p, "entry").unwrap();
        assert_eq!(ok("X.SAFE/GRANULE/B04.jp2"), "X.SAFE/GRANULE/B04.jp2");
        assert_eq!(ok("./X//y/./z"), "X/y/z");
        assert_eq!(ok("./"), "");
        assert_eq!(ok("X\\y"), "X/y");
        for evil in [
            "../escape.txt",
            "X.SAFE/../../escape.txt",
            "/tmp/escape.txt",
            "C:\\Windows\\x",
            "X\\..\\..\\y",
            "X/.hidden",
            "X/a\nb",
        ] {
            assert!(safe_relative_path(evil, "entry").is_err(), "{evil}");
        }
        let deep = vec!["d"; 65].join("/");
        assert!(safe_relative_path(&deep, "entry").is_err());
        assert!(safe_relative_path(&vec!["d"; 64].join("/"), "entry").is_ok());
    }
}
