//! Signing in to the page: one-time login codes (`gatehouse serve token
//! login`), `GET /login?code=...`, and the session cookie.
//!
//! A code and a session id are 256 random bits (hex); the store keeps
//! their SHA-256 only. A code lasts [`LOGIN_CODE_SECS`] and opens one
//! session; a session lasts [`SESSION_SECS`]. The cookie is `HttpOnly`,
//! `SameSite=Strict`, `Path=/`, and `Secure` when `--page-url` is https.

use super::{html_response, render};
use crate::App;
use crate::store::sessions::SessionOwner;
use crate::tokens::{self, Scope, Tokens};
use axum::extract::{Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use sha2::{Digest, Sha256};
use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;

/// How long a login code can be used, in seconds (15 minutes).
pub const LOGIN_CODE_SECS: i64 = 15 * 60;

/// How long a session lasts, in seconds (12 hours).
pub const SESSION_SECS: i64 = 12 * 3600;

/// The session cookie's name.
pub const COOKIE: &str = "gatehouse_session";

/// SHA-256 of a code or session id, hex.
fn hash(secret: &str) -> String {
    hex::encode(Sha256::digest(secret.as_bytes()))
}

/// A code or session id as we make them: 64 lowercase hex digits.
fn well_formed(secret: &str) -> bool {
    secret.len() == 64
        && secret
            .bytes()
            .all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
}

/// The entry of `name` in `tokens` when it has the `read` scope, as a
/// session owner; else why not.
fn reader(tokens: &Tokens, name: &str) -> Result<SessionOwner, String> {
    let entry = tokens.by_name(name).ok_or_else(|| {
        format!(
            "no token named {} in the tokens file: add one with `gatehouse serve token add NAME --scopes read`",
            gatehouse_core::untrusted::quote(name)
        )
    })?;
    if !entry.scopes.contains(&Scope::Read) {
        return Err(format!(
            "token {} lacks the read scope the page needs: add a token with --scopes read (e.g. approve,read)",
            entry.name
        ));
    }
    Ok(SessionOwner {
        token_name: entry.name.clone(),
        token_hash: hex::encode(entry.hash),
    })
}

/// `gatehouse serve token login`: makes a one-time login code for the
/// token `name` of the tokens file (it needs the `read` scope), records
/// its hash in the store at `store_url`, and returns the link
/// `URL/login?code=CODE` to open once within [`LOGIN_CODE_SECS`].
pub fn issue(store_url: &str, tokens_file: &Path, name: &str, url: &str) -> Result<String, String> {
    let tokens = Tokens::load(tokens_file)?;
    let owner = reader(&tokens, name).map_err(|e| format!("{}: {e}", tokens_file.display()))?;
    let url = url.trim_end_matches('/');
    if !(url.starts_with("http://") || url.starts_with("https://"))
        || !url.chars().all(|c| c.is_ascii_graphic())
    {
        return Err(format!(
            "--url {}: use the http:// or https:// URL the server is reached at",
            gatehouse_core::untrusted::quote(url)
        ));
    }
    let code = tokens::new_secret()?;
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| format!("cannot start the async runtime: {e}"))?;
    runtime.block_on(async {
        let store = crate::store::Store::open(store_url)
            .await
            .map_err(|e| e.to_string())?;
        let now = gatehouse_core::time::now_unix();
        store
            .add_login(&hash(&code), &owner, now, now + LOGIN_CODE_SECS)
            .await
            .map_err(|e| e.to_string())
    })?;
    Ok(format!("{url}/login?code={code}"))
}

/// A refusal as the page shows it: a status and an HTML page, no cookie.
pub(crate) struct Refusal {
    status: StatusCode,
    title: &'static str,
    message: String,
}

impl Refusal {
    fn unauthorized(message: impl Into<String>) -> Refusal {
        Refusal {
            status: StatusCode::UNAUTHORIZED,
            title: "Not signed in",
            message: message.into(),
        }
    }

    fn internal(message: impl Into<String>) -> Refusal {
        Refusal {
            status: StatusCode::INTERNAL_SERVER_ERROR,
            title: "Server error",
            message: message.into(),
        }
    }
}

impl IntoResponse for Refusal {
    fn into_response(self) -> Response {
        render::problem(self.status, self.title, &self.message)
    }
}

/// The `gatehouse_session` cookie's value, when the request has one.
fn session_cookie(headers: &HeaderMap) -> Option<&str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(name, _)| *name == COOKIE)
        .map(|(_, value)| value.trim())
}

/// Whom the request's session stands for: the session must be known and
/// unexpired, and its token still in the tokens file with the same hash
/// and the `read` scope.
pub(crate) async fn session_of(app: &App, headers: &HeaderMap) -> Result<SessionOwner, Refusal> {
    const SIGN_IN: &str = "open a login link from `gatehouse serve token login NAME --tokens-file FILE` (NAME a token with the read scope). If you just opened one from another site, reload this page.";
    let Some(id) = session_cookie(headers).filter(|id| well_formed(id)) else {
        return Err(Refusal::unauthorized(format!("No session: {SIGN_IN}")));
    };
    let now = gatehouse_core::time::now_unix();
    let owner = app
        .store
        .session(&hash(id), now)
        .await
        .map_err(|e| Refusal::internal(e.to_string()))?
        .ok_or_else(|| {
            Refusal::unauthorized(format!("The session is unknown or expired: {SIGN_IN}"))
        })?;
    still_valid(app, &owner).map_err(|why| {
        Refusal::unauthorized(format!(
            "The session's token is no longer valid ({why}): {SIGN_IN}"
        ))
    })?;
    Ok(owner)
}

/// Whether `owner`'s token is still in the tokens file, unchanged, with
/// the `read` scope.
fn still_valid(app: &App, owner: &SessionOwner) -> Result<(), String> {
    let tokens = app.tokens.current()?;
    let now = reader(&tokens, &owner.token_name)?;
    if now.token_hash != owner.token_hash {
        return Err(format!(
            "token {} was replaced since the login link was made",
            owner.token_name
        ));
    }
    Ok(())
}

/// `GET /login?code=CODE`: uses the code once, sets the session cookie and
/// redirects to `/`; an unknown, used or expired code is a 401 page and
/// sets nothing.
pub(crate) async fn login(
    State(app): State<Arc<App>>,
    Query(query): Query<BTreeMap<String, String>>,
) -> Response {
    match open_session(&app, query.get("code").map(String::as_str)).await {
        Ok(session) => {
            let mut cookie = format!(
                "{COOKIE}={session}; HttpOnly; SameSite=Strict; Path=/; Max-Age={SESSION_SECS}"
            );
            if app.page.as_ref().is_some_and(|p| p.secure()) {
                cookie.push_str("; Secure");
            }
            let mut response = html_response(StatusCode::SEE_OTHER, String::new());
            let headers = response.headers_mut();
            headers.insert(header::LOCATION, HeaderValue::from_static("/"));
            match HeaderValue::from_str(&cookie) {
                Ok(value) => {
                    headers.insert(header::SET_COOKIE, value);
                    response
                }
                Err(e) => Refusal::internal(format!("cannot set the cookie: {e}")).into_response(),
            }
        }
        Err(refusal) => refusal.into_response(),
    }
}

/// Uses `code` and records a new session: the session id for the cookie.
async fn open_session(app: &App, code: Option<&str>) -> Result<String, Refusal> {
    const AGAIN: &str = "make a new link with `gatehouse serve token login NAME --tokens-file FILE`; each link works once, for 15 minutes";
    let Some(code) = code.filter(|c| well_formed(c)) else {
        return Err(Refusal::unauthorized(format!(
            "This is not a login link: {AGAIN}"
        )));
    };
    let now = gatehouse_core::time::now_unix();
    let owner = app
        .store
        .use_login(&hash(code), now)
        .await
        .map_err(|e| Refusal::internal(e.to_string()))?
        .ok_or_else(|| {
            Refusal::unauthorized(format!(
                "This login link is unknown, used already or expired: {AGAIN}"
            ))
        })?;
    still_valid(app, &owner).map_err(|why| {
        Refusal::unauthorized(format!("The link's token is no longer valid ({why})"))
    })?;
    let session = tokens::new_secret().map_err(Refusal::internal)?;
    app.store
        .add_session(&hash(&session), &owner, now, now + SESSION_SECS)
        .await
        .map_err(|e| Refusal::internal(e.to_string()))?;
    Ok(session)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_session_cookie_is_found_among_others() {
        let mut headers = HeaderMap::new();
        headers.insert(
            header::COOKIE,
            HeaderValue::from_static("a=1; gatehouse_session=abc ; b=2"),
        );
        assert_eq!(session_cookie(&headers), Some("abc"));
        assert_eq!(session_cookie(&HeaderMap::new()), None);
    }

    #[test]
    fn only_our_secrets_are_well_formed() {
        let secret = tokens::new_secret().expect("random");
        assert!(well_formed(&secret));
        assert!(!well_formed(&secret.to_uppercase()));
        assert!(!well_formed("abc"));
        assert!(!well_formed(&format!("{}'", &secret[1..])));
    }

    #[test]
    fn a_login_needs_a_token_with_the_read_scope() {
        let dir = tempfile::tempdir().expect("dir");
        let path = dir.path().join("tokens");
        tokens::add(&path, "ci", &[Scope::Evaluate]).expect("add");
        tokens::add(&path, "alice", &[Scope::Approve, Scope::Read]).expect("add");
        let store = format!("sqlite://{}", dir.path().join("g.db").display());
        let url = "http://127.0.0.1:1";
        let err = issue(&store, &path, "ci", url).expect_err("no read scope");
        assert!(err.contains("lacks the read scope"), "{err}");
        let err = issue(&store, &path, "bob", url).expect_err("unknown");
        assert!(err.contains("no token named"), "{err}");
        let link = issue(&store, &path, "alice", url).expect("link");
        let code = link
            .strip_prefix("http://127.0.0.1:1/login?code=")
            .expect("the link");
        assert!(well_formed(code), "{link}");
    }
}
