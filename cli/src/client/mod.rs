//! The CLI as a client of `gatehouse serve` (docs/api.md): `eval --server`
//! submits a release and can wait for its approval request to be decided,
//! `approve --server` signs and uploads an approval onto a request.
//!
//! [`Client`] is the one place that speaks HTTP: a bearer token read from a
//! file ([`token`]), bounded answers, JSON errors turned into messages that
//! say what failed and how to fix it, and a bounded retry of a busy (503)
//! server that honours `Retry-After`. A failure is always an error (exit 3),
//! never a verdict.

pub(crate) mod approve;
pub(crate) mod duration;
pub(crate) mod eval;
pub(crate) mod render;
pub(crate) mod token;

use serde_json::Value;
use std::time::Duration;

/// Largest answer read from the server: a report of a large release with
/// many reasons stays well below it; more is refused, not buffered.
pub const MAX_ANSWER_BYTES: u64 = 64 << 20;

/// How many times a request the server answered 503 (busy) is sent again
/// before giving up. A busy server records nothing, so a retry is safe.
pub const BUSY_RETRIES: u32 = 5;

/// The longest `Retry-After` honoured; a larger one is cut to this.
pub const MAX_RETRY_AFTER: Duration = Duration::from_secs(60);

/// Why a call to the server failed.
#[derive(Debug)]
pub enum ClientError {
    /// No HTTP answer: the server is down, the name does not resolve, TLS
    /// failed, or the connection broke.
    Network(String),
    /// The server answered with an error status.
    Status {
        /// The HTTP status.
        status: u16,
        /// The API's error code (`forbidden`, `approval-rejected`, …), when
        /// the body was the API's JSON error.
        code: Option<String>,
        /// The API's message, or a note on the body when it was not JSON.
        message: String,
        /// `Retry-After` in seconds (503).
        retry_after: Option<u64>,
    },
    /// An answer that is not what the API answers: not JSON, too large, or
    /// missing a field.
    BadAnswer(String),
}

impl ClientError {
    /// Whether trying again later may succeed: a busy server, a 502/504 from
    /// a proxy in front of it, or no answer at all.
    pub fn is_transient(&self) -> bool {
        match self {
            ClientError::Network(_) => true,
            ClientError::Status { status, .. } => matches!(status, 502..=504),
            ClientError::BadAnswer(_) => false,
        }
    }
}

impl std::fmt::Display for ClientError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ClientError::Network(message) | ClientError::BadAnswer(message) => f.write_str(message),
            ClientError::Status {
                status,
                code,
                message,
                ..
            } => {
                let code = code.as_deref().unwrap_or("no error code");
                let hint = match status {
                    401 => {
                        "; the server does not know this token: use one `gatehouse serve token add` printed for this server's tokens file"
                    }
                    403 => {
                        "; the token lacks the scope this needs (evaluate to submit, approve to post approvals, read to look at requests): make one with `gatehouse serve token add NAME --scopes ...`"
                    }
                    503 => {
                        "; the server stayed busy: try again later, or ask its operator for more --workers / --queue"
                    }
                    _ => "",
                };
                write!(f, "the server answered {status} ({code}): {message}{hint}")
            }
        }
    }
}

/// A connection to one `gatehouse serve`: its base URL and a bearer token.
pub struct Client {
    agent: ureq::Agent,
    base: String,
    token: String,
}

impl Client {
    /// A client of the server at `server` (`http://` or `https://`, with an
    /// optional path prefix for a reverse proxy), authenticating with the
    /// token in `token_file`. Warns when a token would cross the network in
    /// clear.
    pub fn new(server: &str, token_file: &std::path::Path) -> Result<Client, String> {
        let base = base_url(server)?;
        if base.starts_with("http://") && !is_loopback(&base) {
            crate::output::print_warning(&format!(
                "--server {base}: plain http to a host that is not loopback sends the token in clear; put the server behind a TLS reverse proxy and use https://"
            ));
        }
        let token = token::read(token_file)?;
        let config = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .max_redirects(0)
            .timeout_connect(Some(Duration::from_secs(30)))
            .timeout_global(Some(Duration::from_secs(600)))
            .user_agent(format!("gatehouse/{}", env!("CARGO_PKG_VERSION")))
            .build();
        Ok(Client {
            agent: config.into(),
            base,
            token,
        })
    }

    /// The server's base URL, as the messages name it.
    pub fn base(&self) -> &str {
        &self.base
    }

    /// `GET path`: the JSON answer of a 200.
    pub fn get(&self, path: &str) -> Result<Value, ClientError> {
        let url = format!("{}{path}", self.base);
        let response = self
            .agent
            .get(&url)
            .header("Authorization", format!("Bearer {}", self.token))
            .header("Accept", "application/json")
            .call();
        self.answer(&url, response)
    }

    /// `POST path` with a JSON body: the JSON answer of a 200. A 503 is
    /// sent again after its `Retry-After`, at most [`BUSY_RETRIES`] times.
    pub fn post(&self, path: &str, body: &[u8]) -> Result<Value, ClientError> {
        let url = format!("{}{path}", self.base);
        let mut tries = 0;
        loop {
            let response = self
                .agent
                .post(&url)
                .header("Authorization", format!("Bearer {}", self.token))
                .header("Content-Type", "application/json")
                .header("Accept", "application/json")
                .send(body);
            match self.answer(&url, response) {
                Err(ClientError::Status {
                    status: 503,
                    retry_after,
                    ..
                }) if tries < BUSY_RETRIES => {
                    tries += 1;
                    let pause = retry_delay(retry_after, tries);
                    crate::output::print_warning(&format!(
                        "the server is busy (503); trying again in {}s ({tries} of {BUSY_RETRIES})",
                        pause.as_secs()
                    ));
                    std::thread::sleep(pause);
                }
                other => return other,
            }
        }
    }

    /// Reads an answer: a 200's JSON body, or the error it stands for.
    fn answer(
        &self,
        url: &str,
        response: Result<ureq::http::Response<ureq::Body>, ureq::Error>,
    ) -> Result<Value, ClientError> {
        let mut response = response.map_err(|e| {
            ClientError::Network(format!(
                "cannot reach the server at {url}: {e}; check --server and that `gatehouse serve` is running there"
            ))
        })?;
        let status = response.status().as_u16();
        let header = |name: &str| {
            response
                .headers()
                .get(name)
                .and_then(|v| v.to_str().ok())
                .map(str::to_string)
        };
        let retry_after = header("retry-after").and_then(|v| v.trim().parse::<u64>().ok());
        let location = header("location");
        let text = response
            .body_mut()
            .with_config()
            .limit(MAX_ANSWER_BYTES)
            .read_to_string()
            .map_err(|e| match e {
                ureq::Error::BodyExceedsLimit(_) => ClientError::BadAnswer(format!(
                    "the answer from {url} is larger than {} MiB; is --server a gatehouse server?",
                    MAX_ANSWER_BYTES >> 20
                )),
                other => {
                    ClientError::Network(format!("cannot read the answer from {url}: {other}"))
                }
            })?;
        let json: Option<Value> = serde_json::from_str(&text).ok();
        if status == 200 {
            return json.ok_or_else(|| {
                ClientError::BadAnswer(format!(
                    "the answer from {url} is not JSON; is --server a gatehouse server (docs/api.md)?"
                ))
            });
        }
        if (300..400).contains(&status) {
            return Err(ClientError::Status {
                status,
                code: None,
                message: format!(
                    "a redirect to {}; pass the server's own URL as --server",
                    location.as_deref().unwrap_or("nowhere")
                ),
                retry_after,
            });
        }
        let error = json.as_ref().map(|j| &j["error"]);
        let code = error.and_then(|e| e["code"].as_str()).map(str::to_string);
        let message = match error.and_then(|e| e["message"].as_str()) {
            Some(message) => message.to_string(),
            None => format!(
                "{url} answered without the API's JSON error; is --server a gatehouse server?"
            ),
        };
        Err(ClientError::Status {
            status,
            code,
            message,
            retry_after,
        })
    }
}

/// How long to wait before trying again: the server's `Retry-After` (at
/// most [`MAX_RETRY_AFTER`]), else a back-off doubling from one second.
pub fn retry_delay(retry_after: Option<u64>, attempt: u32) -> Duration {
    match retry_after {
        Some(seconds) => Duration::from_secs(seconds.max(1)).min(MAX_RETRY_AFTER),
        None => Duration::from_secs(1u64 << attempt.min(5)).min(MAX_RETRY_AFTER),
    }
}

/// `--server` checked and without a trailing `/`: `http://` or `https://`,
/// a host, no user name or password (the token is the credential), no
/// query or fragment.
pub fn base_url(server: &str) -> Result<String, String> {
    let bad = |why: &str| {
        format!(
            "--server {:?}: {why}; expected the server's URL, e.g. http://127.0.0.1:8080 or https://gatehouse.example.com",
            gatehouse_core::untrusted::line(server)
        )
    };
    let rest = server
        .strip_prefix("http://")
        .or_else(|| server.strip_prefix("https://"))
        .ok_or_else(|| bad("not an http:// or https:// URL"))?;
    let authority = rest.split('/').next().unwrap_or_default();
    if authority.is_empty() {
        return Err(bad("no host"));
    }
    if authority.contains('@') {
        return Err(bad(
            "a user name or password in the URL; the token file is the credential",
        ));
    }
    if server.contains(['?', '#']) || server.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err(bad("a query, fragment, space or control character"));
    }
    Ok(server.trim_end_matches('/').to_string())
}

/// Whether a base URL's host is a loopback address (or `localhost`).
fn is_loopback(base: &str) -> bool {
    let rest = base
        .strip_prefix("http://")
        .or_else(|| base.strip_prefix("https://"))
        .unwrap_or(base);
    let authority = rest.split('/').next().unwrap_or_default();
    let host = match authority.strip_prefix('[') {
        Some(v6) => v6.split(']').next().unwrap_or_default(),
        None => authority.rsplit_once(':').map_or(authority, |(h, _)| h),
    };
    host == "localhost"
        || host
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback())
}

/// A request or decision id from the server or the command line, checked
/// before it goes into a URL path: letters, digits, `-` and `_`, at most 100.
pub fn check_id(what: &str, id: &str) -> Result<(), String> {
    if id.is_empty()
        || id.len() > 100
        || !id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
    {
        return Err(format!(
            "{what} {:?} is not an id of the server (letters, digits, '-' and '_', as r-5e0c... in the server's answer)",
            gatehouse_core::untrusted::line(id)
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn server_urls_are_http_or_https_without_credentials() {
        assert_eq!(
            base_url("http://127.0.0.1:8080/").as_deref(),
            Ok("http://127.0.0.1:8080")
        );
        assert_eq!(
            base_url("https://ci.example.com/gatehouse").as_deref(),
            Ok("https://ci.example.com/gatehouse")
        );
        for (bad, why) in [
            ("127.0.0.1:8080", "not an http"),
            ("ftp://x", "not an http"),
            ("http://", "no host"),
            ("https://user:pw@host", "user name or password"),
            ("http://host/?a=1", "query"),
            ("http://host/a b", "space"),
        ] {
            let err = base_url(bad).expect_err(bad);
            assert!(err.contains(why), "{bad}: {err}");
        }
    }

    #[test]
    fn loopback_hosts_are_told_apart() {
        for base in [
            "http://127.0.0.1:8080",
            "http://localhost",
            "http://[::1]:80",
        ] {
            assert!(is_loopback(base), "{base}");
        }
        for base in ["http://10.0.0.1:8080", "http://gatehouse.example.com"] {
            assert!(!is_loopback(base), "{base}");
        }
    }

    #[test]
    fn ids_are_checked_before_they_go_into_a_path() {
        assert!(check_id("--request", "r-81aa0c").is_ok());
        for bad in ["", "../x", "r/1", "r 1", "r?x", &"a".repeat(101)] {
            assert!(check_id("--request", bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn retries_honour_retry_after_within_a_bound() {
        assert_eq!(retry_delay(Some(3), 1), Duration::from_secs(3));
        assert_eq!(retry_delay(Some(0), 1), Duration::from_secs(1));
        assert_eq!(retry_delay(Some(3600), 1), MAX_RETRY_AFTER);
        assert_eq!(retry_delay(None, 1), Duration::from_secs(2));
        assert_eq!(retry_delay(None, 30), Duration::from_secs(32));
    }

    #[test]
    fn a_status_error_says_how_to_fix_it() {
        let error = ClientError::Status {
            status: 403,
            code: Some("forbidden".into()),
            message: "the token lacks the evaluate scope".into(),
            retry_after: None,
        };
        let text = error.to_string();
        assert!(text.starts_with("the server answered 403 (forbidden): the token lacks the evaluate scope; the token lacks the scope"), "{text}");
        assert!(!error.is_transient());
        assert!(ClientError::Network("down".into()).is_transient());
    }
}
