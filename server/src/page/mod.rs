//! The approvers' page (`gatehouse serve --page`, docs/approvers-page.md):
//! `GET /` shows the pending approval requests and the recent decisions as
//! server-rendered HTML, without JavaScript.
//!
//! Off unless `--page` is given: without it none of these routes exist and
//! `/` is a 404. Signing in: `gatehouse serve token login NAME` makes a
//! one-time code for the bearer token NAME (which needs the `read` scope)
//! and prints `URL/login?code=CODE`; opening it once sets a random session
//! cookie and redirects to `/`. Codes and sessions are kept in the store as
//! hashes only ([`crate::store::sessions`]), so replicas share them, and
//! each request checks that the token is still in the tokens file, with
//! the same hash and the `read` scope: removing it ends its sessions.
//!
//! The page has no form and changes nothing (approvals are signed on the
//! approver's machine and uploaded with `gatehouse approve --server`), so
//! there is no cross-site request forgery surface; `/login` only opens a
//! session for whoever holds the code. Every HTML answer carries the
//! security headers of [`security_headers`].
//!
//! | module | job |
//! |---|---|
//! | `html.rs` | the one escaping function and the `Html` builder |
//! | `login.rs` | login codes, `/login`, sessions from the cookie |
//! | `render.rs` | the page itself from the store's rows |

pub mod html;
pub mod login;
mod render;

use crate::App;
use axum::Router;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use std::sync::{Arc, OnceLock};

/// How the page is served.
#[derive(Debug, Clone, Default)]
pub struct PageOptions {
    /// The URL approvers reach this server at (shown in the approve
    /// command; `https://...` makes the session cookie `Secure`). Default:
    /// `http://` and the address the server listens on.
    pub public_url: Option<String>,
}

/// The page's state in [`App`].
#[derive(Debug, Default)]
pub struct PageState {
    /// As told.
    pub options: PageOptions,
    /// The URL shown in commands, set once the server listens.
    pub url: OnceLock<String>,
}

impl PageState {
    /// The page's state for `options`, its URL checked.
    pub fn new(options: PageOptions) -> Result<PageState, String> {
        let state = PageState {
            options,
            url: OnceLock::new(),
        };
        if let Some(url) = &state.options.public_url {
            let url = url.trim_end_matches('/');
            let valid = (url.starts_with("http://") || url.starts_with("https://"))
                && url.len() > "https://".len()
                && url.chars().all(|c| c.is_ascii_graphic());
            if !valid {
                return Err(format!(
                    "--page-url {}: use the http:// or https:// URL approvers open, such as https://gatehouse.example.com",
                    gatehouse_core::untrusted::quote(url)
                ));
            }
            let _ = state.url.set(url.to_string());
        }
        Ok(state)
    }

    /// Sets the URL from the address listened on, unless `--page-url` gave one.
    pub fn listening_on(&self, address: std::net::SocketAddr) {
        let _ = self.url.set(format!("http://{address}"));
    }

    /// The URL shown in commands.
    pub fn url(&self) -> &str {
        self.url
            .get()
            .map_or("http://127.0.0.1:8080", String::as_str)
    }

    /// Whether the cookie gets `Secure` (the URL is https).
    pub fn secure(&self) -> bool {
        self.options
            .public_url
            .as_deref()
            .is_some_and(|u| u.starts_with("https://"))
    }
}

/// The page's routes (added only when the page is enabled).
pub fn routes() -> Router<Arc<App>> {
    Router::new()
        .route("/", get(index))
        .route("/login", get(login::login))
        .route("/page.css", get(stylesheet))
}

/// The stylesheet: one small responsive sheet, served from here so that
/// the Content-Security-Policy can allow `style-src 'self'` and nothing
/// inline.
const STYLESHEET: &str = include_str!("page.css");

/// The Content-Security-Policy of every page answer: nothing but this
/// server's stylesheet; no script, image, frame, form or base URL at all.
pub const CONTENT_SECURITY_POLICY: &str = "default-src 'none'; style-src 'self'; img-src 'none'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

/// The security headers every HTML answer (and the stylesheet) carries.
pub fn security_headers(headers: &mut HeaderMap) {
    for (name, value) in [
        (header::CONTENT_SECURITY_POLICY, CONTENT_SECURITY_POLICY),
        (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
        (header::REFERRER_POLICY, "no-referrer"),
        (header::X_FRAME_OPTIONS, "DENY"),
        (header::CACHE_CONTROL, "no-store"),
    ] {
        headers.insert(name, HeaderValue::from_static(value));
    }
}

/// An HTML answer with the security headers.
pub(crate) fn html_response(status: StatusCode, body: String) -> Response {
    let mut response = (
        status,
        [(header::CONTENT_TYPE, "text/html; charset=utf-8")],
        body,
    )
        .into_response();
    security_headers(response.headers_mut());
    response
}

async fn stylesheet() -> Response {
    let mut response = (
        [(header::CONTENT_TYPE, "text/css; charset=utf-8")],
        STYLESHEET,
    )
        .into_response();
    security_headers(response.headers_mut());
    response
}

/// `GET /`: the page, for a session whose token has the `read` scope.
async fn index(State(app): State<Arc<App>>, headers: HeaderMap) -> Response {
    let owner = match login::session_of(&app, &headers).await {
        Ok(owner) => owner,
        Err(refusal) => return refusal.into_response(),
    };
    match render::page(&app, &owner).await {
        Ok(body) => html_response(StatusCode::OK, body),
        Err(why) => render::problem(
            StatusCode::INTERNAL_SERVER_ERROR,
            "The page could not be built",
            &why,
        ),
    }
}
