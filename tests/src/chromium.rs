//! Headless Chromium (Debian's `chromium` package) for the approvers' page
//! tests: the rendered DOM (`--dump-dom`) and screenshots, each run in a
//! new profile directory, so that no cookie outlives one run.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

/// Where Debian installs it (`GATEHOUSE_CHROMIUM` overrides).
fn binary() -> Option<PathBuf> {
    let path = std::env::var_os("GATEHOUSE_CHROMIUM")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("/usr/bin/chromium"));
    path.is_file().then_some(path)
}

/// Headless Chromium.
pub struct Chromium {
    bin: PathBuf,
}

/// Chromium, or `None` after one `skipped: ...` line naming `test` when it
/// is not installed (a failure instead under `CI=true`).
pub fn find_or_skip(test: &str) -> Option<Chromium> {
    let Some(bin) = binary() else {
        let why = "chromium not found at /usr/bin/chromium (set GATEHOUSE_CHROMIUM, or run scripts/install-tools.sh, which installs Debian's chromium)";
        assert!(
            std::env::var("CI").as_deref() != Ok("true"),
            "{why}; CI must run {test}"
        );
        let _ = writeln!(std::io::stderr().lock(), "skipped: {why}; {test} needs it");
        return None;
    };
    Some(Chromium { bin })
}

impl Chromium {
    fn command(&self, profile: &Path) -> Command {
        let mut command = Command::new(&self.bin);
        command
            .args([
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--disable-quic",
                "--no-first-run",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--hide-scrollbars",
            ])
            .arg(format!("--user-data-dir={}", profile.display()))
            .stdin(Stdio::null());
        command
    }

    /// Opens `url` (following redirects, keeping the cookies they set) and
    /// returns the DOM as rendered.
    pub fn dump_dom(&self, url: &str) -> String {
        let profile = tempfile::tempdir().expect("profile dir");
        let out = self
            .command(profile.path())
            .arg("--dump-dom")
            .arg(url)
            .output()
            .expect("run chromium");
        assert!(out.status.success(), "chromium --dump-dom {url}: {out:?}");
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    /// Opens `url` in a `width`×`height` window and writes a PNG to `file`.
    pub fn screenshot(&self, url: &str, width: u32, height: u32, file: &Path) {
        let profile = tempfile::tempdir().expect("profile dir");
        let out = self
            .command(profile.path())
            .arg(format!("--screenshot={}", file.display()))
            .arg(format!("--window-size={width},{height}"))
            .arg(url)
            .output()
            .expect("run chromium");
        assert!(out.status.success(), "chromium --screenshot {url}: {out:?}");
        let png = std::fs::read(file).expect("the screenshot");
        assert!(png.starts_with(b"\x89PNG"), "not a PNG: {}", file.display());
    }
}
