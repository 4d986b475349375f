//! An error message served as data: gateways and overloaded download
//! services answer `200 OK` with an HTML page or a JSON error where a
//! product's bytes should be. Before the first byte is written under the
//! product's name, the answer's `Content-Type` and its first bytes (the
//! magic number of the file kind its name says) are checked, and such an
//! answer becomes [`ClientError::ErrorPage`] quoting the server's message.

use super::{ClientError, short};

/// The first bytes each kind of product file starts with (any of them).
fn magic_numbers(name: &str) -> Option<&'static [&'static [u8]]> {
    let lower = name.to_ascii_lowercase();
    let kinds: [(&[&str], &[&[u8]]); 5] = [
        (&[".zip"], &[b"PK\x03\x04", b"PK\x05\x06"]),
        (&[".nc", ".nc4", ".h5", ".he5"], &[b"CDF", b"\x89HDF"]),
        (
            &[".tif", ".tiff"],
            &[b"II*\0", b"MM\0*", b"II+\0", b"MM\0+"],
        ),
        (&[".jp2"], &[b"\0\0\0\x0cjP"]),
        (&[".tar.gz", ".tgz", ".gz"], &[b"\x1f\x8b"]),
    ];
    kinds
        .into_iter()
        .find(|(endings, _)| endings.iter().any(|ending| lower.ends_with(ending)))
        .map(|(_, magic)| magic)
}

/// Files whose content is XML (SAFE manifests, metadata), which an XML
/// answer may rightly be.
fn is_xml_file(name: &str) -> bool {
    let lower = name.to_ascii_lowercase();
    [".xml", ".safe", ".xsd", ".kml", ".gml"]
        .iter()
        .any(|ending| lower.ends_with(ending))
}

/// Why an answer for file `name` with this `Content-Type` and these first
/// bytes is an error message rather than the file; None when it may be the file.
fn why_refused(name: &str, content_type: Option<&str>, first: &[u8]) -> Option<String> {
    let media = content_type
        .and_then(|t| t.split(';').next())
        .map(|t| t.trim().to_ascii_lowercase())
        .unwrap_or_default();
    let is_json_file = name.to_ascii_lowercase().ends_with(".json");
    let refused_type = match media.as_str() {
        "text/html" | "application/xhtml+xml" => true,
        "application/json" | "text/json" | "application/problem+json" => !is_json_file,
        "application/xml" | "text/xml" => !is_xml_file(name),
        _ => false,
    };
    if refused_type {
        return Some(format!("it came as {media}"));
    }
    if let Some(magic) = magic_numbers(name) {
        // Text where a binary format's magic number should be is a
        // message; other binary starts are left alone (formats have
        // variants: an HDF5 user block, a bare JPEG 2000 codestream).
        let mismatch = !magic.iter().any(|m| first.starts_with(m));
        if mismatch && is_text(first) {
            return Some(format!(
                "it is text where a {} file starts with its magic number",
                kind_of(name)
            ));
        }
        return None;
    }
    looks_like_html(first).then(|| "it is an HTML page".to_string())
}

/// Whether bytes read as text: no control characters but white space.
fn is_text(first: &[u8]) -> bool {
    let head = &first[..first.len().min(512)];
    !head.is_empty()
        && head
            .iter()
            .all(|&b| b >= 0x20 || matches!(b, b'\t' | b'\n' | b'\r'))
}

fn kind_of(name: &str) -> String {
    let lower = name.to_ascii_lowercase();
    if lower.ends_with(".tar.gz") {
        return "tar.gz".into();
    }
    lower.rsplit('.').next().unwrap_or("product").to_string()
}

fn looks_like_html(first: &[u8]) -> bool {
    let start: String = String::from_utf8_lossy(&first[..first.len().min(64)])
        .trim_start()
        .to_ascii_lowercase();
    start.starts_with("<!doctype html") || start.starts_with("<html")
}

/// The server's message in an error page: a JSON error's `message`,
/// `detail` or `error_description`, an HTML page's title, else its first line.
fn message_of(first: &[u8]) -> String {
    let text = String::from_utf8_lossy(&first[..first.len().min(64 * 1024)]);
    if let Ok(value) = serde_json::from_str::<serde_json::Value>(&text) {
        let field = ["message", "detail", "error_description", "error"]
            .iter()
            .find_map(|key| {
                value
                    .get(key)
                    .map(|v| v.as_str().map_or(v.to_string(), str::to_string))
            });
        let code = value.get("code").and_then(|c| c.as_str());
        if let Some(field) = field {
            return short(&match code {
                Some(code) => format!("{code}: {field}"),
                None => field,
            });
        }
    }
    let lower = text.to_ascii_lowercase();
    if let (Some(open), Some(close)) = (lower.find("<title>"), lower.find("</title>"))
        && open + 7 <= close
    {
        return short(&text[open + 7..close]);
    }
    short(&text)
}

/// Refuses an answer for `name` that is an error message (see the module doc).
pub(super) fn check(
    name: &str,
    content_type: Option<&str>,
    first: &[u8],
) -> Result<(), ClientError> {
    match why_refused(name, content_type, first) {
        None => Ok(()),
        Some(why) => Err(ClientError::ErrorPage {
            name: name.to_string(),
            message: message_of(first),
            why,
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn error_pages_are_told_from_data_by_type_and_first_bytes() {
        let html = b"<html><head><title>503 Service Temporarily Unavailable</title></head></html>";
        let error = check("A.SAFE.zip", Some("text/html; charset=utf-8"), html).unwrap_err();
        assert!(
            error
                .to_string()
                .contains("503 Service Temporarily Unavailable"),
            "{error}"
        );
        let json = br#"{"code":"DAT-ZIP-100","message":"Max session number exceeded"}"#;
        let error = check("A.nc", Some("application/json"), json).unwrap_err();
        assert!(
            error
                .to_string()
                .contains("DAT-ZIP-100: Max session number exceeded"),
            "{error}"
        );
        // The right magic number under a generic type passes; a wrong one does not.
        assert!(
            check(
                "A.SAFE.zip",
                Some("application/octet-stream"),
                b"PK\x03\x04rest"
            )
            .is_ok()
        );
        assert!(
            check(
                "A.SAFE.zip",
                Some("application/octet-stream"),
                b"{\"detail\":1}"
            )
            .is_err()
        );
        // A binary start that is not the magic number may be a variant.
        assert!(check("x.nc", None, &[7u8; 64]).is_ok());
        assert!(check("B04.jp2", None, b"\0\0\0\x0cjP  \r\n").is_ok());
        assert!(check("x.tif", None, b"II*\0....").is_ok());
        assert!(check("x.nc", None, b"\x89HDF\r\n").is_ok());
        assert!(check("x.nc", None, b"CDF\x01").is_ok());
        // XML is data for an .xml file, an error for a zip.
        assert!(check("MTD_MSIL2A.xml", Some("application/xml"), b"<?xml ?>").is_ok());
        assert!(check("A.zip", Some("application/xml"), b"<?xml ?><Error/>").is_err());
        // Unknown kinds pass unless they are an HTML page.
        assert!(check("x.dat", None, b"\x00\x01").is_ok());
        assert!(check("x.dat", None, b"  <!DOCTYPE html><p>no</p>").is_err());
    }
}
