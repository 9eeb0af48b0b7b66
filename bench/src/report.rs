//! Markdown tables on stdout, and the machine the numbers were taken on.

use serde_json::{Value, json};

/// One Markdown table.
pub struct Table {
    headers: Vec<String>,
    rows: Vec<Vec<String>>,
}

impl Table {
    /// A table with these column headers.
    pub fn new(headers: &[&str]) -> Self {
        Table {
            headers: headers.iter().map(|h| h.to_string()).collect(),
            rows: Vec::new(),
        }
    }

    /// Adds a row (as many cells as headers).
    pub fn row(&mut self, cells: Vec<String>) {
        self.rows.push(cells);
    }

    /// Prints the table, then a blank line.
    pub fn print(&self) {
        println!("| {} |", self.headers.join(" | "));
        println!(
            "|{}",
            self.headers
                .iter()
                .map(|_| "---|")
                .collect::<Vec<_>>()
                .join("")
        );
        for row in &self.rows {
            println!("| {} |", row.join(" | "));
        }
        println!();
    }
}

/// A section heading, with the load average at its start (the machine is shared).
pub fn heading(title: &str) -> String {
    let load = load_average();
    println!("### {title}\n");
    println!("_load average at start: {load}_\n");
    load
}

/// The 1, 5 and 15-minute load averages from /proc/loadavg.
pub fn load_average() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .map(|text| {
            text.split_whitespace()
                .take(3)
                .collect::<Vec<_>>()
                .join(" ")
        })
        .unwrap_or_else(|_| "unknown".into())
}

/// CPUs, CPU model, memory and kernel, from /proc.
pub fn machine() -> Value {
    let cpuinfo = std::fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
    let model = cpuinfo
        .lines()
        .find(|l| l.starts_with("model name"))
        .and_then(|l| l.split_once(':'))
        .map(|(_, v)| v.trim().to_string())
        .unwrap_or_else(|| "unknown".into());
    let cpus = std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(0);
    let meminfo = std::fs::read_to_string("/proc/meminfo").unwrap_or_default();
    let mem_kib: u64 = meminfo
        .lines()
        .find(|l| l.starts_with("MemTotal:"))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|v| v.parse().ok())
        .unwrap_or(0);
    let kernel = std::fs::read_to_string("/proc/sys/kernel/osrelease")
        .map(|s| s.trim().to_string())
        .unwrap_or_default();
    json!({
        "cpus": cpus,
        "cpu_model": model,
        "memory_gib": (mem_kib as f64 / (1024.0 * 1024.0) * 10.0).round() / 10.0,
        "kernel": kernel,
        "load_average": load_average(),
    })
}
