//! The `gatehouse` binary end to end with a warm compile cache, against the
//! Facets reference hook (`python3 facets_pre_release_hook.py FILE`) on the
//! same file, interleaved; and its peak resident memory on large releases.

use crate::inproc::one_line;
use crate::report::{Table, heading};
use crate::shared;
use crate::stats::{Budget, Summary, fmt, ratio};
use crate::{Bench, size_label};
use serde_json::{Value, json};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// A command to run: program and arguments.
#[derive(Clone)]
struct Cmd {
    program: PathBuf,
    args: Vec<String>,
}

impl Cmd {
    fn command(&self) -> Command {
        let mut command = Command::new(&self.program);
        command
            .args(&self.args)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            // The hook prints resource names; never let the locale make it crash.
            .env("PYTHONIOENCODING", "utf-8")
            .env("PYTHONUTF8", "1");
        command
    }

    /// Runs once; returns the wall time and the exit code. Codes 0, 1 and 2
    /// are verdicts; anything else is an error with stderr.
    fn run(&self) -> Result<(Duration, i32), String> {
        let started = Instant::now();
        let output = self
            .command()
            .output()
            .map_err(|e| format!("cannot run {}: {e}", self.program.display()))?;
        let elapsed = started.elapsed();
        let code = output.status.code().unwrap_or(-1);
        if !(0..=2).contains(&code) {
            return Err(format!(
                "{} exited with {code}: {}",
                self.program.display(),
                one_line(&String::from_utf8_lossy(&output.stderr))
            ));
        }
        Ok((elapsed, code))
    }

    /// Runs once, polling /proc/PID/status for the high-water mark of
    /// resident memory (VmHWM) every millisecond until the process exits.
    /// VmHWM only grows, so at most the last millisecond's growth is missed.
    fn peak_rss(&self) -> Result<u64, String> {
        let mut child = self
            .command()
            .stderr(Stdio::null())
            .spawn()
            .map_err(|e| format!("cannot run {}: {e}", self.program.display()))?;
        let pid = child.id();
        let mut peak = 0;
        loop {
            if let Some(hwm) = vm_hwm(pid) {
                peak = peak.max(hwm);
            }
            match child.try_wait() {
                Ok(Some(_)) => return Ok(peak),
                Ok(None) => std::thread::sleep(Duration::from_millis(1)),
                Err(e) => return Err(format!("waiting for {pid}: {e}")),
            }
        }
    }

    fn display(&self) -> String {
        let mut parts = vec![relative(&self.program)];
        parts.extend(self.args.iter().map(|a| relative(Path::new(a))));
        parts.join(" ")
    }
}

/// A path relative to the current directory where that is shorter.
fn relative(path: &Path) -> String {
    let cwd = std::env::current_dir().unwrap_or_default();
    path.strip_prefix(&cwd)
        .unwrap_or(path)
        .display()
        .to_string()
}

/// VmHWM of a process in bytes, while it runs.
fn vm_hwm(pid: u32) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kib: u64 = line
        .trim_start_matches("VmHWM:")
        .trim()
        .trim_end_matches("kB")
        .trim()
        .parse()
        .ok()?;
    Some(kib * 1024)
}

/// The `gatehouse eval` command for `policies` on `input`, with the bench's cache.
fn gatehouse_eval(bench: &Bench, policies: &[&str], input: &Path) -> Cmd {
    let mut args = vec!["eval".to_string()];
    for policy in policies {
        args.push("--policy".into());
        args.push(bench.policy(policy).display().to_string());
    }
    if policies.contains(&"approval-quorum") {
        args.push("--set".into());
        args.push("approval-quorum:required-groups=tech-lead,on-call".into());
    }
    args.extend([
        "--input".into(),
        input.display().to_string(),
        "--now".into(),
        crate::NOW.into(),
        "--cache-dir".into(),
        bench.cache_dir.display().to_string(),
    ]);
    Cmd {
        program: bench.gatehouse_bin.clone(),
        args,
    }
}

/// `python3 SCRIPT INPUT`: the Facets reference hook on a release file.
fn hook(script: &Path, input: &Path) -> Cmd {
    Cmd {
        program: PathBuf::from("python3"),
        args: vec![script.display().to_string(), input.display().to_string()],
    }
}

/// Section 4: `gatehouse eval` (stream-approval, warm cache) against the hook.
pub fn versus_hook(bench: &Bench, sizes: &[usize], seconds: f64) -> Value {
    let load = heading("CLI end to end (warm compile cache) against the Facets Python hook");
    let mut out = Vec::new();
    if let Some(problem) = missing_binary(bench) {
        println!("{problem}\n");
        return json!({"load_average": load, "error": problem});
    }
    let script = match shared::file_or_skip(
        &bench.shared,
        shared::HOOK,
        "section cli (gatehouse eval against the Facets hook)",
    ) {
        Ok(script) => script,
        Err(mut unavailable) => {
            unavailable["load_average"] = json!(load);
            return unavailable;
        }
    };
    println!(
        "Wall time per process, A and B interleaved (A, B, A, B, ...), stdout to /dev/null. A = `{}`; B = `{}`. Time-boxed to {seconds} s per row{}.\n",
        gatehouse_eval(bench, &["stream-approval"], Path::new("FILE")).display(),
        hook(&script, Path::new("FILE")).display(),
        if bench.quick { " (÷10, --quick)" } else { "" }
    );
    let mut table = Table::new(&[
        "resources",
        "gatehouse eval: min",
        "median",
        "p99",
        "python3 hook: min",
        "median",
        "p99",
        "gatehouse / hook (median)",
        "pairs",
        "exit codes",
    ]);
    for &n in sizes {
        match hook_row(bench, &script, n, seconds) {
            Ok((ours, theirs, codes)) => {
                let r = ratio(ours.median, theirs.median);
                table.row(vec![
                    size_label(n),
                    fmt(ours.min),
                    fmt(ours.median),
                    fmt(ours.p99),
                    fmt(theirs.min),
                    fmt(theirs.median),
                    fmt(theirs.p99),
                    format!("{r:.3}"),
                    ours.iterations.to_string(),
                    codes.clone(),
                ]);
                out.push(json!({
                    "resources": n,
                    "gatehouse": ours.to_json(),
                    "hook": theirs.to_json(),
                    "ratio_median": r,
                    "exit_codes": codes,
                }));
            }
            Err(error) => {
                println!("{}: error: {error}", size_label(n));
                out.push(json!({"resources": n, "error": error}));
            }
        }
    }
    table.print();
    json!({"load_average": load, "rows": out})
}

fn hook_row(
    bench: &Bench,
    script: &Path,
    n: usize,
    seconds: f64,
) -> Result<(Summary, Summary, String), String> {
    let input = bench.input_file(n)?;
    let ours = gatehouse_eval(bench, &["stream-approval"], &input);
    let theirs = hook(script, &input);
    // Warm-up: fills the compile cache, and the page cache for both.
    let (_, our_code) = ours.run()?;
    let (_, their_code) = theirs.run()?;
    let codes = if our_code == their_code {
        format!("both {our_code}")
    } else {
        eprintln!(
            "\n!!!!! exit codes differ at {n} resources: gatehouse {our_code}, hook {their_code} !!!!!\n"
        );
        format!("**differ: {our_code} vs {their_code}**")
    };
    let mut budget = Budget::new(bench.quick, seconds);
    budget.min_iterations = if bench.quick { 3 } else { 10 };
    let (mut a, mut b) = (Vec::new(), Vec::new());
    let started = Instant::now();
    while budget.more(started, a.len()) {
        a.push(ours.run()?.0);
        b.push(theirs.run()?.0);
    }
    let summary = |s: &[Duration]| Summary::of(s).ok_or_else(|| "no samples".to_string());
    Ok((summary(&a)?, summary(&b)?, codes))
}

/// Section 5: wall time and peak RSS of `gatehouse eval` on the largest release.
pub fn large(bench: &Bench, n: usize, runs: usize) -> Value {
    let load = heading(&format!(
        "CLI on a {} release: wall time and peak RSS",
        size_label(n)
    ));
    let mut out = Vec::new();
    if let Some(problem) = missing_binary(bench) {
        println!("{problem}\n");
        return json!({"load_average": load, "error": problem});
    }
    let input = match bench.input_file(n) {
        Ok(input) => input,
        Err(error) => {
            println!("{error}\n");
            return json!({"load_average": load, "error": error});
        }
    };
    let size_mib = std::fs::metadata(&input)
        .map(|m| m.len() as f64 / (1 << 20) as f64)
        .unwrap_or(0.0);
    println!(
        "`gatehouse eval ... --input FILE` ({size_mib:.1} MiB of JSON), warm compile cache, {runs} timed runs each (median wall), then one run polling /proc/PID/status for VmHWM (peak resident memory).\n"
    );
    let mut rows: Vec<(String, Cmd)> = crate::RUST_POLICIES
        .iter()
        .map(|p| (p.to_string(), gatehouse_eval(bench, &[p], &input)))
        .collect();
    rows.push((
        "all five Rust examples".into(),
        gatehouse_eval(bench, &crate::RUST_POLICIES, &input),
    ));
    let hook_row = "python3 Facets hook";
    match shared::file_or_skip(
        &bench.shared,
        shared::HOOK,
        &format!("the {hook_row:?} row of section rss"),
    ) {
        Ok(script) => rows.push((hook_row.into(), hook(&script, &input))),
        Err(mut unavailable) => {
            unavailable["command"] = json!(hook_row);
            out.push(unavailable);
        }
    }
    let mut table = Table::new(&["command", "wall: min", "median", "max", "peak RSS", "exit"]);
    for (name, cmd) in rows {
        let measured = (|| -> Result<(Summary, u64, i32), String> {
            let (_, code) = cmd.run()?;
            let mut samples = Vec::new();
            for _ in 0..runs {
                samples.push(cmd.run()?.0);
            }
            let rss = cmd.peak_rss()?;
            let summary = Summary::of(&samples).ok_or("no samples")?;
            Ok((summary, rss, code))
        })();
        match measured {
            Ok((wall, rss, code)) => {
                let max = samples_max(&wall);
                table.row(vec![
                    name.clone(),
                    fmt(wall.min),
                    fmt(wall.median),
                    fmt(max),
                    format!("{:.0} MiB", rss as f64 / (1 << 20) as f64),
                    code.to_string(),
                ]);
                out.push(json!({
                    "command": name,
                    "resources": n,
                    "wall": wall.to_json(),
                    "peak_rss_bytes": rss,
                    "exit_code": code,
                }));
            }
            Err(error) => {
                println!("{name}: error: {error}");
                out.push(json!({"command": name, "error": error}));
            }
        }
    }
    table.print();
    json!({"load_average": load, "input_mib": size_mib, "rows": out})
}

/// With under 100 samples the p99 is the maximum.
fn samples_max(summary: &Summary) -> Duration {
    summary.p99
}

fn missing_binary(bench: &Bench) -> Option<String> {
    (!bench.gatehouse_bin.exists()).then(|| {
        format!(
            "**skipped: {} is missing; run `cargo build --release -p gatehouse`**",
            bench.gatehouse_bin.display()
        )
    })
}
