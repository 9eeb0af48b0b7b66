//! A throwaway PostgreSQL cluster for the server tests: Debian's `initdb`
//! and `pg_ctl` (from `/usr/lib/postgresql/*/bin`, installed by
//! scripts/install-tools.sh) in a temporary directory, listening only on
//! 127.0.0.1 on a free port (its unix socket inside the directory), trust
//! authentication for that loopback, stopped (`pg_ctl stop -m immediate`)
//! when dropped, also when the test panics.
//!
//! PostgreSQL refuses to run as root: when the tests run as root, the
//! cluster's directory belongs to the `postgres` user and `initdb`,
//! `pg_ctl` and so the server run as that user (`runuser -u postgres --`).
//!
//! [`cluster_or_skip`] gives every test of one test binary the same cluster
//! (each test makes its own database in it, [`fresh_database_or_skip`]): a
//! guard process stops it and removes its directory when the test binary
//! exits, however it exits.
//!
//! Without `initdb` a test skips, saying why (see [`start_or_skip`]); under
//! `CI=true` a missing PostgreSQL fails it instead, so CI cannot pass by
//! skipping.

use std::io::Write;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

/// The user the cluster runs as when the tests run as root.
const SERVICE_USER: &str = "postgres";

/// The directory holding `initdb`, `pg_ctl` and `psql`: `GATEHOUSE_PG_BIN`
/// when set, else the newest `/usr/lib/postgresql/N/bin` that has `initdb`.
pub fn bin_dir() -> Option<PathBuf> {
    if let Some(dir) = std::env::var_os("GATEHOUSE_PG_BIN") {
        return Some(PathBuf::from(dir));
    }
    let mut found: Vec<(u32, PathBuf)> = std::fs::read_dir("/usr/lib/postgresql")
        .ok()?
        .filter_map(Result::ok)
        .filter_map(|entry| {
            let version: u32 = entry.file_name().to_str()?.parse().ok()?;
            let bin = entry.path().join("bin");
            bin.join("initdb").is_file().then_some((version, bin))
        })
        .collect();
    found.sort();
    found.pop().map(|(_, bin)| bin)
}

/// A running cluster, stopped when dropped.
pub struct Postgres {
    dir: tempfile::TempDir,
    bin: PathBuf,
    port: u16,
    as_user: Option<&'static str>,
}

/// Starts a cluster, or `None` after one `skipped: ...` line naming `test`
/// when no PostgreSQL is installed (a failure instead under `CI=true`).
pub fn start_or_skip(test: &str) -> Option<Postgres> {
    let Some(bin) = bin_dir() else {
        let why = "PostgreSQL's initdb not found in /usr/lib/postgresql/*/bin (set GATEHOUSE_PG_BIN, or run scripts/install-tools.sh, which installs Debian's postgresql)";
        assert!(
            std::env::var("CI").as_deref() != Ok("true"),
            "{why}; CI must run {test}"
        );
        let _ = writeln!(std::io::stderr().lock(), "skipped: {why}; {test} needs it");
        return None;
    };
    Some(Postgres::start(&bin))
}

/// The one cluster of this test binary, started on first use, or `None`
/// (after a `skipped: ...` line) without PostgreSQL, as [`start_or_skip`].
/// It is stopped, and its directory removed, by a guard process once this
/// process has exited.
pub fn cluster_or_skip(test: &str) -> Option<&'static Postgres> {
    static SHARED: std::sync::OnceLock<Postgres> = std::sync::OnceLock::new();
    static START: std::sync::Mutex<()> = std::sync::Mutex::new(());
    if let Some(cluster) = SHARED.get() {
        return Some(cluster);
    }
    // One start at a time; a start that panics leaves the cell empty.
    let _starting = START.lock().unwrap_or_else(|e| e.into_inner());
    if let Some(cluster) = SHARED.get() {
        return Some(cluster);
    }
    let cluster = start_or_skip(test)?;
    cluster.guard();
    Some(SHARED.get_or_init(|| cluster))
}

/// A new, empty database in this test binary's cluster, for one test: its
/// URL, or `None` without PostgreSQL (see [`cluster_or_skip`]).
pub fn fresh_database_or_skip(test: &str) -> Option<String> {
    static NEXT: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
    let cluster = cluster_or_skip(test)?;
    let n = NEXT.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
    Some(cluster.create_database(&format!("test_{n}")))
}

fn running_as_root() -> bool {
    std::fs::metadata("/proc/self").is_ok_and(|m| m.uid() == 0)
}

fn output(command: &mut Command, what: &str) -> Output {
    command
        .stdin(Stdio::null())
        .output()
        .unwrap_or_else(|e| panic!("cannot run {what}: {e}"))
}

impl Postgres {
    /// `initdb` and `pg_ctl start` in a new temporary directory.
    fn start(bin: &Path) -> Postgres {
        let as_user = running_as_root().then_some(SERVICE_USER);
        let dir = tempfile::Builder::new()
            .prefix("gatehouse-pg-")
            .tempdir()
            .expect("temp dir");
        std::fs::create_dir(dir.path().join("sock")).expect("socket dir");
        if let Some(user) = as_user {
            let out = output(
                Command::new("chown").args(["-R", user]).arg(dir.path()),
                "chown",
            );
            assert!(
                out.status.success(),
                "chown -R {user} {}: {out:?} (PostgreSQL refuses to run as root; the tests run it as the {user} user, which Debian's postgresql package creates)",
                dir.path().display()
            );
        }
        let mut cluster = Postgres {
            dir,
            bin: bin.to_path_buf(),
            port: 0,
            as_user,
        };
        let data = cluster.data();
        let out = output(
            cluster
                .tool("initdb")
                .arg("-D")
                .arg(&data)
                .args(["-U", "postgres", "-A", "trust", "-E", "UTF8"])
                .args(["--locale=C", "--no-sync"]),
            "initdb",
        );
        assert!(out.status.success(), "initdb: {out:?}");
        // A free port: the kernel's pick, released just before the server
        // binds it (another process may take it meanwhile: try again).
        let mut last = None;
        for _ in 0..5 {
            let port = std::net::TcpListener::bind("127.0.0.1:0")
                .and_then(|l| l.local_addr())
                .expect("a free port")
                .port();
            let options = format!(
                "-c listen_addresses=127.0.0.1 -p {port} -k {} -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c shared_buffers=16MB -c max_connections=64",
                cluster.dir.path().join("sock").display()
            );
            let out = output(
                cluster
                    .tool("pg_ctl")
                    .arg("-D")
                    .arg(&data)
                    .arg("-l")
                    .arg(cluster.dir.path().join("server.log"))
                    .args(["-w", "-t", "120", "-o", &options, "start"]),
                "pg_ctl start",
            );
            if out.status.success() {
                cluster.port = port;
                return cluster;
            }
            last = Some(out);
        }
        let log =
            std::fs::read_to_string(cluster.dir.path().join("server.log")).unwrap_or_default();
        panic!("pg_ctl start failed five times: {last:?}\nserver.log:\n{log}");
    }

    /// Starts a process that waits for this one to exit, then stops the
    /// cluster and removes its directory (a `static` is never dropped).
    fn guard(&self) {
        let quote = |p: &Path| format!("'{}'", p.display().to_string().replace('\'', "'\\''"));
        let stop = match self.as_user {
            Some(user) => format!("runuser -u {user} -- "),
            None => String::new(),
        };
        // In the background of a shell that exits at once (and is waited
        // for), so the guard outlives this process without a zombie.
        let script = format!(
            "(while kill -0 {pid} 2>/dev/null; do sleep 1; done; {stop}{pg_ctl} -D {data} -m immediate -w stop; rm -rf {dir}) >/dev/null 2>&1 &",
            pid = std::process::id(),
            pg_ctl = quote(&self.bin.join("pg_ctl")),
            data = quote(&self.data()),
            dir = quote(self.dir.path()),
        );
        let status = Command::new("sh")
            .args(["-c", &script])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .expect("start the cluster's guard process");
        assert!(
            status.success(),
            "the cluster's guard did not start: {status}"
        );
    }

    fn data(&self) -> PathBuf {
        self.dir.path().join("data")
    }

    /// A command for one of the cluster's tools, as the cluster's user.
    fn tool(&self, name: &str) -> Command {
        let program = self.bin.join(name);
        match self.as_user {
            Some(user) => {
                let mut command = Command::new("runuser");
                command.args(["-u", user, "--"]).arg(program);
                command
            }
            None => Command::new(program),
        }
    }

    /// The URL of database `db` as the superuser, over loopback TCP.
    pub fn url_of(&self, db: &str) -> String {
        format!(
            "postgres://postgres@127.0.0.1:{}/{db}?sslmode=disable",
            self.port
        )
    }

    /// The URL of the `postgres` database.
    pub fn url(&self) -> String {
        self.url_of("postgres")
    }

    /// Creates database `name` and answers its URL.
    pub fn create_database(&self, name: &str) -> String {
        self.psql("postgres", &format!("CREATE DATABASE {name}"));
        self.url_of(name)
    }

    /// Runs `sql` with `psql` in database `db`; its output (unaligned,
    /// tuples only). A failed statement fails the test.
    pub fn psql(&self, db: &str, sql: &str) -> String {
        let out = output(
            Command::new(self.bin.join("psql"))
                .args(["-X", "-q", "-A", "-t", "-v", "ON_ERROR_STOP=1"])
                .args(["-h", "127.0.0.1", "-U", "postgres", "-p"])
                .arg(self.port.to_string())
                .args(["-d", db, "-c", sql]),
            "psql",
        );
        assert!(out.status.success(), "psql {sql}: {out:?}");
        String::from_utf8_lossy(&out.stdout).trim().to_string()
    }
}

impl Drop for Postgres {
    fn drop(&mut self) {
        let data = self.data();
        let _ = self
            .tool("pg_ctl")
            .arg("-D")
            .arg(&data)
            .args(["-m", "immediate", "-w", "stop"])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status();
    }
}
