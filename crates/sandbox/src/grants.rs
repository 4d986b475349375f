//! A session's grants: what its scripts may reach, computed once from
//! trusted configuration before any script runs, and checked at one door
//! per resource (Deno's permission model).
//!
//! * files: read roots (the workspace, the product archive, extra folders
//!   the operator grants, the running tutorial's folder when it lies under a
//!   granted root) and one write root, the workspace;
//! * network: the endpoints (`host:port`) of the configured catalogue, its
//!   token service and the download hosts it redirects to, plus any the
//!   operator grants, each with a role that says whether the account's
//!   credentials may travel there.
//!
//! The same grants are the plan of the operating-system wall
//! ([`super::wall`]), so a door nobody listed is still closed.

use std::fmt;
use std::path::{Path, PathBuf};

/// A folder a session may read, and why (shown to learners and operators).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReadRoot {
    pub label: String,
    pub path: PathBuf,
}

/// Why a network endpoint is granted; it decides where credentials go.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Role {
    /// The configured catalogue (searches, orders, `$value` downloads).
    Catalogue,
    /// Its token service (CDSE's password grant).
    Token,
    /// A host the catalogue redirects downloads to (CDSE's zipper).
    Download,
    /// The catalogue cleope serves on loopback over its archive.
    Local,
    /// Another endpoint the operator grants (`--allow-net`): reachable, but
    /// the configured account is never sent there.
    Extra,
}

impl Role {
    fn label(self) -> &'static str {
        match self {
            Role::Catalogue => "catalogue",
            Role::Token => "token service",
            Role::Download => "download host",
            Role::Local => "local catalogue",
            Role::Extra => "granted by the operator",
        }
    }
}

/// A granted network endpoint: a host (name or IP literal, lower case) and a TCP port.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Endpoint {
    pub host: String,
    pub port: u16,
    pub role: Role,
}

impl Endpoint {
    /// The endpoint of an `http(s)` URL (its port, or the scheme's default).
    pub fn of_url(url: &str, role: Role) -> Result<Endpoint, String> {
        let (host, port) = host_port_of_url(url)?;
        Ok(Endpoint { host, port, role })
    }

    /// `host:port` (IPv6 in brackets).
    pub fn address(&self) -> String {
        address(&self.host, self.port)
    }
}

impl fmt::Display for Endpoint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} ({})", self.address(), self.role.label())
    }
}

/// The host (lower case, IPv6 without brackets) and port of an http(s) URL.
pub fn host_port_of_url(url: &str) -> Result<(String, u16), String> {
    let parsed = url::Url::parse(url).map_err(|e| format!("'{url}' is not a URL ({e})"))?;
    if !matches!(parsed.scheme(), "http" | "https") {
        return Err(format!("'{url}' is not an http(s) address"));
    }
    let host = match parsed.host() {
        Some(url::Host::Domain(name)) => name.to_ascii_lowercase(),
        Some(url::Host::Ipv4(ip)) => ip.to_string(),
        Some(url::Host::Ipv6(ip)) => ip.to_string(),
        None => return Err(format!("'{url}' has no host")),
    };
    let port = parsed
        .port_or_known_default()
        .ok_or_else(|| format!("'{url}' has no port"))?;
    Ok((host, port))
}

/// Parses `host:port` (`[v6]:port` for IPv6) as the operator writes a grant.
pub fn parse_host_port(text: &str) -> Result<(String, u16), String> {
    let text = text.trim();
    let shape = || format!("'{text}' is not host:port; write e.g. catalogue.example.org:443");
    let (host, port) = text.rsplit_once(':').ok_or_else(shape)?;
    let host = host.trim_start_matches('[').trim_end_matches(']');
    let port: u16 = port.parse().map_err(|_| shape())?;
    if host.is_empty() || port == 0 || host.contains(['/', ' ', '@']) {
        return Err(shape());
    }
    Ok((host.to_ascii_lowercase(), port))
}

fn address(host: &str, port: u16) -> String {
    if host.contains(':') {
        format!("[{host}]:{port}")
    } else {
        format!("{host}:{port}")
    }
}

/// A request to a place outside the network grant.
#[derive(Debug, Clone, PartialEq)]
pub struct NetRefusal {
    pub url: String,
    pub message: String,
    pub hint: String,
}

impl fmt::Display for NetRefusal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for NetRefusal {}

/// The network endpoints a session may reach.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct NetGrants {
    endpoints: Vec<Endpoint>,
}

impl NetGrants {
    /// Grants `endpoint` (a second grant of the same address keeps the first role).
    pub fn grant(&mut self, endpoint: Endpoint) {
        if !self
            .endpoints
            .iter()
            .any(|e| e.host == endpoint.host && e.port == endpoint.port)
        {
            self.endpoints.push(endpoint);
        }
    }

    /// Every granted endpoint.
    pub fn endpoints(&self) -> &[Endpoint] {
        &self.endpoints
    }

    /// The granted endpoint `url` points at, or why it may not be reached.
    /// Hosts are compared as written (no DNS): a name and the IP it resolves
    /// to are different grants, so a script cannot reach a host by a
    /// spelling the operator did not grant.
    pub fn check(&self, url: &str) -> Result<&Endpoint, NetRefusal> {
        let (host, port) = host_port_of_url(url).map_err(|message| NetRefusal {
            url: url.to_string(),
            message,
            hint: "catalogue addresses are http(s) URLs, e.g. https://catalogue.dataspace.copernicus.eu/odata/v1".into(),
        })?;
        self.endpoints
            .iter()
            .find(|e| e.host == host && e.port == port)
            .ok_or_else(|| NetRefusal {
                url: url.to_string(),
                message: format!(
                    "{} is outside the session's network grant ({})",
                    address(&host, port),
                    self.summary()
                ),
                hint: "sessions reach only the catalogue the operator configured; to use another one, \
                       ask your teacher or hub operator to grant it (--allow-net HOST:PORT, or \
                       grants.net in /etc/cleope/cleope.toml)"
                    .into(),
            })
    }

    /// Whether the configured account may be sent to `url`: only to the
    /// catalogue it was configured for, its token service, its download
    /// hosts and the local catalogue; never to other granted endpoints.
    pub fn carries_credentials(&self, url: &str) -> bool {
        self.check(url).is_ok_and(|e| e.role != Role::Extra)
    }

    /// The TCP ports of every endpoint, for the operating-system wall.
    pub fn ports(&self) -> Vec<u16> {
        let mut ports: Vec<u16> = self.endpoints.iter().map(|e| e.port).collect();
        ports.sort_unstable();
        ports.dedup();
        ports
    }

    fn summary(&self) -> String {
        if self.endpoints.is_empty() {
            return "no network access".into();
        }
        let addresses: Vec<String> = self.endpoints.iter().map(Endpoint::address).collect();
        format!("granted: {}", addresses.join(", "))
    }
}

/// Everything a session may reach.
#[derive(Debug, Clone, PartialEq)]
pub struct Grants {
    /// The one folder scripts may write (and read).
    pub workspace: PathBuf,
    /// Folders scripts may read.
    pub read: Vec<ReadRoot>,
    /// Hosts and ports the session may connect to.
    pub net: NetGrants,
    /// Where cleope itself keeps temporary files for the session (private
    /// archive views, downloads in progress); never a path scripts can name.
    pub scratch: PathBuf,
    /// Folders cleope itself must write outside the workspace (the demo
    /// archive while it is still to be written); not writable by scripts.
    pub own_writes: Vec<PathBuf>,
    /// Files cleope itself writes (the REPL's history).
    pub own_files: Vec<PathBuf>,
    /// TCP ports the process listens on (a kernel's Jupyter sockets).
    pub listen_ports: Vec<u16>,
}

impl Grants {
    /// The read root that holds `path`, if any (the workspace first).
    pub fn readable(&self, path: &Path) -> Option<&str> {
        if path.starts_with(&self.workspace) {
            return Some("workspace");
        }
        self.read
            .iter()
            .find(|root| path.starts_with(&root.path))
            .map(|root| root.label.as_str())
    }

    /// Adds a read root (canonicalised; a folder that does not exist is
    /// skipped: there is nothing to read there).
    pub fn add_read(&mut self, label: &str, path: &Path) {
        if let Ok(path) = path.canonicalize()
            && !self.read.iter().any(|r| r.path == path)
        {
            self.read.push(ReadRoot {
                label: label.to_string(),
                path,
            });
        }
    }

    /// A report of the grants, one line each, for `--show-grants`, `:grants`
    /// and `quota_report()`.
    pub fn report(&self) -> String {
        let mut lines = vec![format!(
            "read-write  {} (workspace)",
            self.workspace.display()
        )];
        for root in &self.read {
            lines.push(format!(
                "read        {} ({})",
                root.path.display(),
                root.label
            ));
        }
        if self.net.endpoints().is_empty() {
            lines.push("network     none".into());
        }
        for endpoint in self.net.endpoints() {
            lines.push(format!("network     {endpoint}"));
        }
        lines.join("\n")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn net() -> NetGrants {
        let mut net = NetGrants::default();
        for (url, role) in [
            (
                "https://catalogue.dataspace.copernicus.eu/odata/v1",
                Role::Catalogue,
            ),
            ("https://zipper.dataspace.copernicus.eu/", Role::Download),
            ("http://127.0.0.1:8080/", Role::Extra),
        ] {
            net.grant(Endpoint::of_url(url, role).unwrap());
        }
        net
    }

    #[test]
    fn urls_are_checked_by_host_and_port() {
        let net = net();
        assert!(
            net.check("https://CATALOGUE.dataspace.copernicus.eu/odata/v1/Products")
                .is_ok()
        );
        assert!(
            net.check("https://catalogue.dataspace.copernicus.eu:443/x")
                .is_ok()
        );
        for refused in [
            "http://catalogue.dataspace.copernicus.eu/odata/v1", // port 80
            "https://catalogue.dataspace.copernicus.eu.evil.org/",
            "https://evil.org/?https://catalogue.dataspace.copernicus.eu/",
            "http://127.0.0.1:8081/",
            "http://localhost:8080/", // another spelling of a granted host
            "http://[::1]:8080/",
            "ftp://127.0.0.1:8080/",
            "not a url",
        ] {
            let refusal = net.check(refused).unwrap_err();
            assert!(!refusal.hint.is_empty(), "{refused}");
        }
        let refusal = net.check("http://127.0.0.1:9/").unwrap_err();
        assert!(
            refusal.message.contains("127.0.0.1:9 is outside")
                && refusal
                    .message
                    .contains("catalogue.dataspace.copernicus.eu:443"),
            "{refusal}"
        );
    }

    #[test]
    fn credentials_travel_only_to_the_catalogue_and_its_hosts() {
        let net = net();
        assert!(net.carries_credentials("https://catalogue.dataspace.copernicus.eu/odata/v1"));
        assert!(net.carries_credentials("https://zipper.dataspace.copernicus.eu/odata/v1/x"));
        assert!(!net.carries_credentials("http://127.0.0.1:8080/odata/v1"));
        assert!(!net.carries_credentials("https://elsewhere.org/"));
    }

    #[test]
    fn operator_grants_parse_as_host_and_port() {
        assert_eq!(
            parse_host_port("Example.org:443"),
            Ok(("example.org".into(), 443))
        );
        assert_eq!(parse_host_port("[::1]:8080"), Ok(("::1".into(), 8080)));
        for bad in ["example.org", "example.org:http", ":443", "a/b:1", "x:0"] {
            assert!(parse_host_port(bad).is_err(), "{bad}");
        }
        assert_eq!(net().ports(), vec![443, 8080]);
    }
}
