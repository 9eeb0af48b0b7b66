//! Bounded capture of what a policy says: its `log` lines and its stdout /
//! stderr. A chatty or hostile policy cannot grow host memory without bound;
//! what does not fit is counted and reported as dropped.

use bytes::Bytes;
use serde::Serialize;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use wasmtime_wasi::cli::{IsTerminal, StdoutStream};
use wasmtime_wasi::p2::{OutputStream, Pollable, StreamResult};

/// Severity of a captured log line.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum LogLevel {
    /// Detail for policy authors.
    Debug,
    /// Normal progress.
    Info,
    /// Something an approver should notice.
    Warn,
    /// Something went wrong in the policy.
    Error,
}

impl LogLevel {
    /// Lower-case name, as in reports.
    pub fn as_str(self) -> &'static str {
        match self {
            LogLevel::Debug => "debug",
            LogLevel::Info => "info",
            LogLevel::Warn => "warn",
            LogLevel::Error => "error",
        }
    }
}

/// One captured log line.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct LogLine {
    /// Its severity.
    pub level: LogLevel,
    /// Its text (truncated to the per-line cap, with a marker).
    pub message: String,
}

/// Log lines kept within a line count and a byte budget.
#[derive(Debug, Default)]
pub struct LogCapture {
    lines: Vec<LogLine>,
    bytes: usize,
    max_lines: usize,
    max_bytes: usize,
    dropped: u64,
}

/// Marker appended to text cut short by a capture limit.
pub const TRUNCATED: &str = "…[truncated]";

impl LogCapture {
    /// A capture keeping at most `max_lines` lines and `max_bytes` bytes of text.
    pub fn new(max_lines: usize, max_bytes: usize) -> Self {
        LogCapture {
            max_lines,
            max_bytes,
            ..LogCapture::default()
        }
    }

    /// Records a line, or counts it as dropped when a limit is reached.
    pub fn push(&mut self, level: LogLevel, message: &str) {
        let room = self.max_bytes.saturating_sub(self.bytes);
        if self.lines.len() >= self.max_lines || room == 0 {
            self.dropped += 1;
            return;
        }
        let message = truncate(message, room);
        self.bytes += message.len();
        self.lines.push(LogLine { level, message });
    }

    /// The kept lines and how many were dropped.
    pub fn finish(self) -> (Vec<LogLine>, u64) {
        (self.lines, self.dropped)
    }
}

/// Cuts `text` to at most `max` bytes on a character boundary, with a marker.
fn truncate(text: &str, max: usize) -> String {
    if text.len() <= max {
        return text.to_string();
    }
    let mut end = max;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}{TRUNCATED}", &text[..end])
}

#[derive(Debug, Default)]
struct Buffer {
    data: Vec<u8>,
    capacity: usize,
    dropped: u64,
}

/// A stdout / stderr sink that keeps the first `capacity` bytes and counts
/// the rest. Unlike wasmtime-wasi's memory pipe it never fails a write, so a
/// policy that prints a lot is truncated rather than trapped.
#[derive(Debug, Clone, Default)]
pub struct BoundedPipe {
    buffer: Arc<Mutex<Buffer>>,
}

/// What a [`BoundedPipe`] captured.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Captured {
    /// The kept text (lossy UTF-8), with a marker when bytes were dropped.
    pub text: String,
    /// Bytes written beyond the capacity.
    pub dropped_bytes: u64,
}

impl BoundedPipe {
    /// A pipe keeping at most `capacity` bytes.
    pub fn new(capacity: usize) -> Self {
        BoundedPipe {
            buffer: Arc::new(Mutex::new(Buffer {
                capacity,
                ..Buffer::default()
            })),
        }
    }

    fn write_bytes(&self, bytes: &[u8]) {
        let mut buffer = self.buffer.lock().unwrap_or_else(|p| p.into_inner());
        let room = buffer.capacity.saturating_sub(buffer.data.len());
        let kept = bytes.len().min(room);
        buffer.data.extend_from_slice(&bytes[..kept]);
        buffer.dropped += (bytes.len() - kept) as u64;
    }

    /// The text captured so far.
    pub fn contents(&self) -> Captured {
        let buffer = self.buffer.lock().unwrap_or_else(|p| p.into_inner());
        let mut text = String::from_utf8_lossy(&buffer.data).into_owned();
        if buffer.dropped > 0 {
            text.push_str(TRUNCATED);
        }
        Captured {
            text,
            dropped_bytes: buffer.dropped,
        }
    }
}

impl IsTerminal for BoundedPipe {
    fn is_terminal(&self) -> bool {
        false
    }
}

impl StdoutStream for BoundedPipe {
    fn p2_stream(&self) -> Box<dyn OutputStream> {
        Box::new(self.clone())
    }

    fn async_stream(&self) -> Box<dyn tokio::io::AsyncWrite + Send + Sync> {
        Box::new(self.clone())
    }
}

/// How much a guest may write per `check-write` permit.
const WRITE_PERMIT: usize = 64 * 1024;

#[wasmtime_wasi::async_trait]
impl Pollable for BoundedPipe {
    async fn ready(&mut self) {}
}

impl OutputStream for BoundedPipe {
    fn write(&mut self, bytes: Bytes) -> StreamResult<()> {
        self.write_bytes(&bytes);
        Ok(())
    }

    fn flush(&mut self) -> StreamResult<()> {
        Ok(())
    }

    fn check_write(&mut self) -> StreamResult<usize> {
        Ok(WRITE_PERMIT)
    }
}

impl tokio::io::AsyncWrite for BoundedPipe {
    fn poll_write(
        self: Pin<&mut Self>,
        _cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<std::io::Result<usize>> {
        self.write_bytes(buf);
        Poll::Ready(Ok(buf.len()))
    }

    fn poll_flush(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Poll::Ready(Ok(()))
    }

    fn poll_shutdown(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Poll::Ready(Ok(()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn logs_are_bounded_by_lines_and_bytes() {
        let mut logs = LogCapture::new(2, 1000);
        for i in 0..5 {
            logs.push(LogLevel::Info, &format!("line {i}"));
        }
        let (lines, dropped) = logs.finish();
        assert_eq!(lines.len(), 2);
        assert_eq!(dropped, 3);

        let mut logs = LogCapture::new(10, 8);
        logs.push(LogLevel::Warn, "ééééé");
        logs.push(LogLevel::Warn, "more");
        let (lines, dropped) = logs.finish();
        assert_eq!(lines[0].message, format!("éééé{TRUNCATED}"));
        assert_eq!(dropped, 1);
    }

    #[test]
    fn pipe_keeps_the_first_bytes_and_counts_the_rest() {
        let mut pipe = BoundedPipe::new(4);
        assert!(OutputStream::write(&mut pipe, Bytes::from_static(b"abcdef")).is_ok());
        assert!(OutputStream::write(&mut pipe, Bytes::from_static(b"gh")).is_ok());
        let captured = pipe.contents();
        assert_eq!(captured.text, format!("abcd{TRUNCATED}"));
        assert_eq!(captured.dropped_bytes, 4);
    }
}
