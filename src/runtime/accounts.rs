//! The catalogue accounts a session may use, read once when it starts.
//!
//! Passwords come from the environment (`CLEOPE_PASSWORD`, or the dialect's
//! own `ONDA_*`/`CDSE_*` pair) or from `~/.netrc` entries for the granted
//! hosts. They are read before any script runs, then removed from the
//! process's environment (see [`crate::sandbox::process`]), kept in memory
//! only, and bound to where they were configured: the environment's account
//! goes to the configured catalogue only, a netrc entry to its own host
//! only. A script that switches to another (granted) catalogue is anonymous
//! there unless a netrc entry names that host.

use crate::eo::odata::Dialect;
use crate::eo::odata::client::{Credentials, Secret};

/// The variables that hold secrets, removed from the environment once read.
pub const SECRET_VARIABLES: [&str; 4] = [
    "CLEOPE_PASSWORD",
    "ONDA_PASSWORD",
    "CDSE_PASSWORD",
    "CDSE_TOTP",
];

/// Accounts found at start.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Accounts {
    /// `CLEOPE_USERNAME`/`CLEOPE_PASSWORD`.
    cleope: Option<Credentials>,
    /// `ONDA_USERNAME`/`ONDA_PASSWORD`.
    onda: Option<Credentials>,
    /// `CDSE_USERNAME`/`CDSE_PASSWORD` (and `CDSE_TOTP`).
    cdse: Option<Credentials>,
    /// `~/.netrc` (or `$NETRC`) entries, by host.
    netrc: Vec<(String, Credentials)>,
}

impl Accounts {
    /// Reads the environment's accounts and the netrc entries for the
    /// configured catalogue's host (or netrc's `default` entry) and for the
    /// `other` granted hosts (only entries that name them: a `default`
    /// account is not sent to a host nobody configured it for).
    pub fn read(configured: Option<&str>, other: &[String]) -> Accounts {
        let totp = std::env::var("CDSE_TOTP").ok().map(Secret::new);
        let mut cdse = pair("CDSE");
        if let Some(account) = &mut cdse {
            account.totp = totp.clone();
        }
        let mut cleope = pair("CLEOPE");
        if let Some(account) = &mut cleope {
            account.totp = totp;
        }
        let netrc_text = netrc_file().and_then(|path| std::fs::read_to_string(path).ok());
        let netrc = netrc_text
            .map(|text| {
                let named = |host: &&String| names_machine(&text, host);
                configured
                    .map(str::to_string)
                    .into_iter()
                    .chain(other.iter().filter(named).cloned())
                    .filter_map(|host| Credentials::from_netrc(&text, &host).map(|c| (host, c)))
                    .collect()
            })
            .unwrap_or_default();
        Accounts {
            cleope,
            onda: pair("ONDA"),
            cdse,
            netrc,
        }
    }

    /// The account for the configured catalogue, which speaks `dialect` at `host`.
    pub fn for_configured(&self, dialect: Dialect, host: &str) -> Option<Credentials> {
        let own = match dialect {
            Dialect::Onda => &self.onda,
            // CDSE's STAC and its downloads take the CDSE account.
            Dialect::Cdse | Dialect::Stac => &self.cdse,
        };
        self.cleope
            .clone()
            .or_else(|| own.clone())
            .or_else(|| self.for_host(host))
    }

    /// Who the session may log in as, and where, one line each (user names
    /// only, never passwords).
    pub fn summary(&self) -> Vec<String> {
        let environment = [
            ("CLEOPE_USERNAME", &self.cleope),
            ("ONDA_USERNAME", &self.onda),
            ("CDSE_USERNAME", &self.cdse),
        ];
        let mut lines: Vec<String> = environment
            .into_iter()
            .filter_map(|(variable, account)| {
                account.as_ref().map(|a| {
                    format!(
                        "{} ({variable}), for the configured catalogue only",
                        a.username
                    )
                })
            })
            .collect();
        lines.extend(
            self.netrc
                .iter()
                .map(|(host, a)| format!("{} (~/.netrc), for {host} only", a.username)),
        );
        lines
    }

    /// The account a netrc entry names for `host`, if any.
    pub fn for_host(&self, host: &str) -> Option<Credentials> {
        self.netrc
            .iter()
            .find(|(h, _)| h.eq_ignore_ascii_case(host))
            .map(|(_, c)| c.clone())
    }
}

/// Whether a netrc text has a `machine` entry for `host`.
fn names_machine(text: &str, host: &str) -> bool {
    let tokens: Vec<&str> = text.split_whitespace().collect();
    tokens
        .windows(2)
        .any(|pair| pair[0] == "machine" && pair[1].eq_ignore_ascii_case(host))
}

fn pair(prefix: &str) -> Option<Credentials> {
    let username = std::env::var(format!("{prefix}_USERNAME")).ok()?;
    let password = std::env::var(format!("{prefix}_PASSWORD")).ok()?;
    (!username.is_empty()).then(|| Credentials::new(username, password))
}

/// `$NETRC`, else `~/.netrc`.
fn netrc_file() -> Option<std::path::PathBuf> {
    std::env::var_os("NETRC")
        .map(std::path::PathBuf::from)
        .or_else(|| dirs::home_dir().map(|home| home.join(".netrc")))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn accounts() -> Accounts {
        Accounts {
            cleope: None,
            onda: Some(Credentials::new("onda-user", "p1")),
            cdse: Some(Credentials::new("cdse-user", "p2")),
            netrc: vec![("classroom.example.org".into(), Credentials::new("n", "p3"))],
        }
    }

    #[test]
    fn the_environment_account_goes_to_the_configured_catalogue_in_its_dialect() {
        let accounts = accounts();
        let onda = accounts.for_configured(Dialect::Onda, "x").unwrap();
        assert_eq!(onda.username, "onda-user");
        let cdse = accounts.for_configured(Dialect::Cdse, "x").unwrap();
        assert_eq!(cdse.username, "cdse-user");
    }

    #[test]
    fn a_netrc_default_serves_only_the_configured_host() {
        let text = "machine classroom.example.org login n password p\ndefault login d password q";
        assert!(names_machine(text, "CLASSROOM.example.org"));
        assert!(!names_machine(text, "elsewhere.org"));
        assert!(!names_machine(text, "d"));
    }

    #[test]
    fn other_hosts_get_only_their_own_netrc_entry() {
        let accounts = accounts();
        assert_eq!(
            accounts.for_host("CLASSROOM.example.org").unwrap().username,
            "n"
        );
        assert!(accounts.for_host("127.0.0.1").is_none());
    }
}
