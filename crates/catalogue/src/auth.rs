//! Who may order and download: ONDA's HTTP Basic check and CDSE's tokens
//! (Keycloak's password and refresh-token grants, Bearer checks). Passwords
//! and tokens are compared, never logged, never echoed.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use axum::http::HeaderMap;

/// An account of the local catalogue.
#[derive(Clone, PartialEq, Eq)]
pub struct Account {
    /// The user name.
    pub username: String,
    /// The password (never shown: `Debug` hides it).
    pub password: String,
}

impl Account {
    /// An account from a user name and password.
    pub fn new(username: impl Into<String>, password: impl Into<String>) -> Account {
        Account {
            username: username.into(),
            password: password.into(),
        }
    }
}

impl std::fmt::Debug for Account {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Account")
            .field("username", &self.username)
            .field("password", &"<hidden>")
            .finish()
    }
}

/// Why a request was not let in (the message names the user, never the password).
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Refusal {
    /// No credentials were sent.
    Missing,
    /// The credentials are not in the expected form.
    Malformed,
    /// Unknown user or wrong password.
    WrongPassword { username: String },
    /// The token is not one the catalogue gave.
    UnknownToken,
    /// The token's time is over.
    Expired,
}

/// Checks a user name and password against the accounts; with no accounts
/// configured every user is let in (a classroom catalogue on loopback).
pub(crate) fn check_password(accounts: &[Account], username: &str, password: &str) -> bool {
    accounts.is_empty()
        || accounts
            .iter()
            .any(|a| a.username == username && constant_time_eq(&a.password, password))
}

fn constant_time_eq(a: &str, b: &str) -> bool {
    a.len() == b.len()
        && a.bytes()
            .zip(b.bytes())
            .fold(0u8, |diff, (x, y)| diff | (x ^ y))
            == 0
}

/// The user of a request with HTTP Basic authentication.
pub(crate) fn basic_user(headers: &HeaderMap, accounts: &[Account]) -> Result<String, Refusal> {
    let value = header(headers).ok_or(Refusal::Missing)?;
    let encoded = value
        .strip_prefix("Basic ")
        .or_else(|| value.strip_prefix("basic "))
        .ok_or(Refusal::Malformed)?;
    let decoded = data_encoding::BASE64
        .decode(encoded.trim().as_bytes())
        .map_err(|_| Refusal::Malformed)?;
    let text = String::from_utf8(decoded).map_err(|_| Refusal::Malformed)?;
    let (username, password) = text.split_once(':').ok_or(Refusal::Malformed)?;
    if check_password(accounts, username, password) {
        Ok(username.to_string())
    } else {
        Err(Refusal::WrongPassword {
            username: username.to_string(),
        })
    }
}

fn header(headers: &HeaderMap) -> Option<&str> {
    headers
        .get(axum::http::header::AUTHORIZATION)?
        .to_str()
        .ok()
}

/// How a request authenticated, for the request log: the scheme only.
pub(crate) fn scheme(headers: &HeaderMap) -> &'static str {
    match header(headers).and_then(|v| v.split_whitespace().next()) {
        Some(s) if s.eq_ignore_ascii_case("basic") => "Basic",
        Some(s) if s.eq_ignore_ascii_case("bearer") => "Bearer",
        Some(_) => "other",
        None => "none",
    }
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum Kind {
    Access,
    Refresh,
}

struct Issued {
    username: String,
    kind: Kind,
    expires: Instant,
}

/// Tokens handed out by the token endpoint.
pub(crate) struct Tokens {
    issued: HashMap<String, Issued>,
    access_lifetime: Duration,
    refresh_lifetime: Duration,
}

/// A token answer's content.
pub(crate) struct Grant {
    pub access: String,
    pub refresh: String,
    pub access_lifetime: Duration,
    pub refresh_lifetime: Duration,
    pub session: String,
}

impl Tokens {
    pub fn new(access_lifetime: Duration, refresh_lifetime: Duration) -> Tokens {
        Tokens {
            issued: HashMap::new(),
            access_lifetime,
            refresh_lifetime,
        }
    }

    /// A new access and refresh token for `username`.
    pub fn grant(&mut self, username: &str) -> Grant {
        let now = Instant::now();
        self.issued
            .retain(|_, issued| issued.expires > now || issued.kind == Kind::Refresh);
        let access = new_token();
        let refresh = new_token();
        for (token, kind, lifetime) in [
            (&access, Kind::Access, self.access_lifetime),
            (&refresh, Kind::Refresh, self.refresh_lifetime),
        ] {
            self.issued.insert(
                token.clone(),
                Issued {
                    username: username.to_string(),
                    kind,
                    expires: now + lifetime,
                },
            );
        }
        Grant {
            access,
            refresh,
            access_lifetime: self.access_lifetime,
            refresh_lifetime: self.refresh_lifetime,
            session: uuid::Uuid::new_v4().to_string(),
        }
    }

    /// A new grant for a valid refresh token (which is used up).
    pub fn refresh(&mut self, token: &str) -> Result<Grant, Refusal> {
        let username = self.holder(token, Kind::Refresh)?;
        self.issued.remove(token);
        Ok(self.grant(&username))
    }

    /// The user of a request with `Authorization: Bearer <access token>`.
    pub fn bearer_user(&self, headers: &HeaderMap) -> Result<String, Refusal> {
        let value = header(headers).ok_or(Refusal::Missing)?;
        let token = value
            .strip_prefix("Bearer ")
            .or_else(|| value.strip_prefix("bearer "))
            .ok_or(Refusal::Malformed)?;
        self.holder(token.trim(), Kind::Access)
    }

    fn holder(&self, token: &str, kind: Kind) -> Result<String, Refusal> {
        let issued = self.issued.get(token).ok_or(Refusal::UnknownToken)?;
        if issued.kind != kind {
            return Err(Refusal::UnknownToken);
        }
        if issued.expires <= Instant::now() {
            return Err(Refusal::Expired);
        }
        Ok(issued.username.clone())
    }
}

/// An opaque token: three random UUIDs, dot-separated like a JWT.
fn new_token() -> String {
    let part = || uuid::Uuid::new_v4().simple().to_string();
    format!("{}.{}.{}", part(), part(), part())
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    fn with_authorization(value: &str) -> HeaderMap {
        let mut headers = HeaderMap::new();
        headers.insert(
            axum::http::header::AUTHORIZATION,
            HeaderValue::from_str(value).unwrap(),
        );
        headers
    }

    #[test]
    fn basic_authentication() {
        let accounts = [Account::new("ada", "s3cret")];
        let good = format!("Basic {}", data_encoding::BASE64.encode(b"ada:s3cret"));
        assert_eq!(
            basic_user(&with_authorization(&good), &accounts).unwrap(),
            "ada"
        );
        let bad = format!("Basic {}", data_encoding::BASE64.encode(b"ada:nope"));
        assert_eq!(
            basic_user(&with_authorization(&bad), &accounts),
            Err(Refusal::WrongPassword {
                username: "ada".into()
            })
        );
        assert_eq!(
            basic_user(&HeaderMap::new(), &accounts),
            Err(Refusal::Missing)
        );
        assert_eq!(
            basic_user(&with_authorization("Basic !!"), &accounts),
            Err(Refusal::Malformed)
        );
        assert_eq!(basic_user(&with_authorization(&bad), &[]).unwrap(), "ada");
        assert!(!format!("{:?}", accounts[0]).contains("s3cret"));
    }

    #[test]
    fn tokens_expire_and_refresh() {
        let mut tokens = Tokens::new(Duration::from_millis(50), Duration::from_secs(60));
        let grant = tokens.grant("ada");
        let bearer = with_authorization(&format!("Bearer {}", grant.access));
        assert_eq!(tokens.bearer_user(&bearer).unwrap(), "ada");
        let refresh_as_access = with_authorization(&format!("Bearer {}", grant.refresh));
        assert_eq!(
            tokens.bearer_user(&refresh_as_access),
            Err(Refusal::UnknownToken)
        );
        std::thread::sleep(Duration::from_millis(80));
        assert_eq!(tokens.bearer_user(&bearer), Err(Refusal::Expired));
        let renewed = tokens.refresh(&grant.refresh).unwrap();
        let bearer = with_authorization(&format!("Bearer {}", renewed.access));
        assert_eq!(tokens.bearer_user(&bearer).unwrap(), "ada");
        assert!(
            tokens.refresh(&grant.refresh).is_err(),
            "a refresh token is used once"
        );
    }
}
