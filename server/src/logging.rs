//! The service's log on stderr: `gatehouse: ...` lines for people
//! (`--log-format text`, the default), or one JSON object per line for a
//! log pipeline (`--log-format json`): `time` (RFC 3339), `level`,
//! `message`, and for each request `event: "request"`, `method`, `path`
//! (without the query string), `status`, `latency_ms`, `decision_id` and
//! `token` (the token's name, never the token). Bodies are never logged.
//! Every value is a JSON string or number written by serde_json, so
//! control characters in a path or a name are escaped, never raw.
//!
//! Handlers note what the request line needs (the token's name, the
//! decision recorded) with [`note_token`] and [`note_decision`]: a
//! task-local the request middleware ([`requests`]) sets up.

use crate::App;
use axum::extract::{Request, State};
use axum::middleware::Next;
use axum::response::Response;
use serde_json::{Map, Value, json};
use std::cell::RefCell;
use std::io::Write;
use std::sync::Arc;
use std::time::Instant;

/// How the log is written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum LogFormat {
    /// `gatehouse: message` lines, escaped (the default).
    #[default]
    Text,
    /// One JSON object per line.
    Json,
}

impl std::str::FromStr for LogFormat {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, String> {
        match text {
            "text" => Ok(LogFormat::Text),
            "json" => Ok(LogFormat::Json),
            other => Err(format!(
                "--log-format {}: use text or json",
                gatehouse_core::untrusted::quote(other)
            )),
        }
    }
}

/// The log of one `gatehouse serve`.
#[derive(Clone, Copy)]
pub struct Logger {
    format: LogFormat,
    text: fn(&str),
}

impl std::fmt::Debug for Logger {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Logger")
            .field("format", &self.format)
            .finish()
    }
}

/// One request, as its log line says it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RequestLine {
    /// The HTTP method.
    pub method: String,
    /// The path, without the query string.
    pub path: String,
    /// The status answered.
    pub status: u16,
    /// How long the answer took, in milliseconds.
    pub latency_ms: u64,
    /// The decision recorded, when one was.
    pub decision_id: Option<String>,
    /// The name of the token that was accepted, when one was.
    pub token: Option<String>,
}

impl Logger {
    /// A log in `format`; `text` writes one text line (the CLI's
    /// `gatehouse: ...` on stderr).
    pub fn new(format: LogFormat, text: fn(&str)) -> Logger {
        Logger { format, text }
    }

    /// An informational message.
    pub fn info(&self, message: &str) {
        self.event("info", message, Map::new());
    }

    /// A warning.
    pub fn warn(&self, message: &str) {
        match self.format {
            LogFormat::Text => (self.text)(&format!("warning: {message}")),
            LogFormat::Json => self.write_json("warn", message, Map::new()),
        }
    }

    /// A message with structured fields (`fields` appear only in JSON).
    pub fn event(&self, level: &str, message: &str, fields: Map<String, Value>) {
        match self.format {
            LogFormat::Text => (self.text)(message),
            LogFormat::Json => self.write_json(level, message, fields),
        }
    }

    /// A request answered.
    pub fn request(&self, line: &RequestLine) {
        let message = format!("{} {} {}", line.method, line.path, line.status);
        match self.format {
            LogFormat::Text => {
                let mut text = format!("request {message} {} ms", line.latency_ms);
                if let Some(id) = &line.decision_id {
                    text.push_str(&format!(" decision {id}"));
                }
                if let Some(token) = &line.token {
                    text.push_str(&format!(" token {token}"));
                }
                (self.text)(&text);
            }
            LogFormat::Json => {
                let fields = request_fields(line);
                self.write_json("info", &message, fields);
            }
        }
    }

    fn write_json(&self, level: &str, message: &str, fields: Map<String, Value>) {
        let line = json_line(
            &gatehouse_core::time::format_utc(gatehouse_core::time::now_unix()),
            level,
            message,
            fields,
        );
        // One write per line, so that lines of concurrent requests never
        // interleave; a closed stderr loses the line, never the request.
        let _ = std::io::stderr().lock().write_all(line.as_bytes());
    }
}

/// The JSON fields of a request line.
fn request_fields(line: &RequestLine) -> Map<String, Value> {
    let mut fields = Map::new();
    fields.insert("event".into(), json!("request"));
    fields.insert("method".into(), json!(line.method));
    fields.insert("path".into(), json!(line.path));
    fields.insert("status".into(), json!(line.status));
    fields.insert("latency_ms".into(), json!(line.latency_ms));
    fields.insert("decision_id".into(), json!(line.decision_id));
    fields.insert("token".into(), json!(line.token));
    fields
}

/// One JSON log line, newline included: `time`, `level`, `message`, then
/// `fields`.
fn json_line(time: &str, level: &str, message: &str, fields: Map<String, Value>) -> String {
    let mut object = Map::new();
    object.insert("time".into(), json!(time));
    object.insert("level".into(), json!(level));
    object.insert("message".into(), json!(message));
    for (key, value) in fields {
        object.insert(key, value);
    }
    let mut line = Value::Object(object).to_string();
    line.push('\n');
    line
}

/// What handlers note about the request being answered.
#[derive(Debug, Default)]
struct Notes {
    token: Option<String>,
    decision_id: Option<String>,
}

tokio::task_local! {
    static NOTES: RefCell<Notes>;
}

/// Notes the name of the token a request was authorised with (outside a
/// request, nothing happens).
pub fn note_token(name: &str) {
    let _ = NOTES.try_with(|n| n.borrow_mut().token = Some(name.to_string()));
}

/// Notes the decision a request recorded.
pub fn note_decision(id: &str) {
    let _ = NOTES.try_with(|n| n.borrow_mut().decision_id = Some(id.to_string()));
}

/// The middleware that logs every request once it is answered.
pub async fn requests(State(app): State<Arc<App>>, request: Request, next: Next) -> Response {
    let method = request.method().as_str().to_string();
    let path = request.uri().path().to_string();
    let started = Instant::now();
    let (response, notes) = NOTES
        .scope(RefCell::new(Notes::default()), async move {
            let response = next.run(request).await;
            let notes = NOTES.with(|n| std::mem::take(&mut *n.borrow_mut()));
            (response, notes)
        })
        .await;
    app.log.request(&RequestLine {
        method,
        path,
        status: response.status().as_u16(),
        latency_ms: u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX),
        decision_id: notes.decision_id,
        token: notes.token,
    });
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_json_line_is_one_object_with_control_characters_escaped() {
        let line = json_line(
            "2026-11-30T19:00:00Z",
            "info",
            "GET /v1/x\n\u{1b}[31m 200",
            request_fields(&RequestLine {
                method: "GET".into(),
                path: "/v1/x\n\u{1b}[31m".into(),
                status: 200,
                latency_ms: 3,
                decision_id: None,
                token: Some("ci\r".into()),
            }),
        );
        assert!(line.ends_with('\n'));
        assert_eq!(line.matches('\n').count(), 1, "{line}");
        assert!(!line.contains('\u{1b}') && !line.contains('\r'), "{line}");
        let value: Value = serde_json::from_str(&line).expect("JSON");
        assert_eq!(value["time"], "2026-11-30T19:00:00Z");
        assert_eq!(value["level"], "info");
        assert_eq!(value["event"], "request");
        assert_eq!(value["path"], "/v1/x\n\u{1b}[31m");
        assert_eq!(value["status"], 200);
        assert_eq!(value["decision_id"], Value::Null);
        assert_eq!(value["token"], "ci\r");
    }

    #[test]
    fn the_format_is_text_or_json() {
        assert_eq!("json".parse::<LogFormat>(), Ok(LogFormat::Json));
        assert_eq!("text".parse::<LogFormat>(), Ok(LogFormat::Text));
        let error = "yaml".parse::<LogFormat>().expect_err("refused");
        assert!(error.contains("use text or json"), "{error}");
    }

    #[tokio::test]
    async fn notes_are_kept_per_request_and_ignored_outside_one() {
        note_token("outside");
        let notes = NOTES
            .scope(RefCell::new(Notes::default()), async {
                note_token("ci");
                note_decision("d-1");
                NOTES.with(|n| std::mem::take(&mut *n.borrow_mut()))
            })
            .await;
        assert_eq!(notes.token.as_deref(), Some("ci"));
        assert_eq!(notes.decision_id.as_deref(), Some("d-1"));
    }
}
