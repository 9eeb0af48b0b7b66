//! The `serve` section: real `gatehouse serve` processes (the binary the
//! bench measures) on a SQLite file and on a PostgreSQL cluster started for
//! the run (gatehouse-e2e's helpers: keys, tokens, the cluster), one and two
//! replicas on the same store, and clients on loopback keep-alive
//! connections posting `POST /v1/evaluations` as fast as answers come.
//! Every answered decision was recorded (audited) before it was answered.

use crate::report::{Table, heading};
use crate::stats::{Summary, fmt};
use crate::{Bench, generate, size_label};
use gatehouse_e2e::postgres;
use gatehouse_e2e::serve::{Server, World};
use serde_json::{Value, json};
use std::time::{Duration, Instant};

/// Concurrent clients measured.
const CLIENTS: [usize; 3] = [1, 8, 32];

/// Release sizes measured.
const SIZES: [usize; 2] = [10, 1_000];

/// Policies measured, each alone in its policy set.
const POLICIES: [&str; 2] = ["stream-approval", "destructive-changes"];

/// The values of `env` (a comma-separated list) when it is set, else `all`:
/// lets a profiling run measure one row, e.g.
/// `GATEHOUSE_BENCH_SERVE_CLIENTS=32 GATEHOUSE_BENCH_SERVE_STORES=sqlite`.
fn chosen<T: Copy + ToString>(env: &str, all: &[T]) -> Vec<T> {
    match std::env::var(env) {
        Ok(list) => all
            .iter()
            .copied()
            .filter(|v| list.split(',').any(|w| w.trim() == v.to_string()))
            .collect(),
        Err(_) => all.to_vec(),
    }
}

/// CPU time (user + system, every thread) the processes `pids` have used
/// so far, from /proc (Linux; `None` elsewhere). Clock ticks are 1/100 s on
/// Linux, fine over a run of seconds.
fn cpu_seconds(pids: &[u32]) -> Option<f64> {
    let mut ticks = 0u64;
    for pid in pids {
        let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
        // Fields after the command name (which may hold spaces) in parentheses.
        let rest = &stat[stat.rfind(')')? + 2..];
        let fields: Vec<&str> = rest.split(' ').collect();
        // utime and stime are fields 14 and 15 of the line, 12 and 13 here.
        ticks += fields.get(11)?.parse::<u64>().ok()?;
        ticks += fields.get(12)?.parse::<u64>().ok()?;
    }
    Some(ticks as f64 / 100.0)
}

/// What one load run measured.
struct Load {
    ok: usize,
    other: usize,
    elapsed: Duration,
    latencies: Vec<Duration>,
}

/// `clients` threads, each with its own keep-alive connection, posting
/// `body` to the servers in turn for `seconds`.
fn load(servers: &[String], token: &str, body: &str, clients: usize, seconds: f64) -> Load {
    let started = Instant::now();
    let until = started + Duration::from_secs_f64(seconds);
    let threads: Vec<_> = (0..clients)
        .map(|i| {
            let url = format!("{}/v1/evaluations", servers[i % servers.len()]);
            let auth = format!("Bearer {token}");
            let body = body.to_string();
            std::thread::spawn(move || {
                let agent = gatehouse_e2e::serve::agent();
                let (mut ok, mut other, mut latencies) = (0, 0, Vec::new());
                while Instant::now() < until {
                    let sent = Instant::now();
                    let answer = gatehouse_e2e::serve::answer(
                        agent
                            .post(&url)
                            .header("Content-Type", "application/json")
                            .header("Authorization", &auth)
                            .send(body.as_bytes()),
                    );
                    if answer.status == 200 && answer.body["decision_id"].is_string() {
                        ok += 1;
                        latencies.push(sent.elapsed());
                    } else {
                        other += 1;
                    }
                }
                (ok, other, latencies)
            })
        })
        .collect();
    let mut all = Load {
        ok: 0,
        other: 0,
        elapsed: Duration::ZERO,
        latencies: Vec::new(),
    };
    for thread in threads {
        if let Ok((ok, other, latencies)) = thread.join() {
            all.ok += ok;
            all.other += other;
            all.latencies.extend(latencies);
        }
    }
    all.elapsed = started.elapsed();
    all
}

/// A policy set of `policy` alone, in the world's directory.
fn policy_set(world: &World, bench: &Bench, policy: &str) -> String {
    let name = format!("bench-{policy}.toml");
    let text = format!(
        "[[policy]]\nname = \"{policy}\"\npath = \"{}\"\n",
        bench.policy(policy).display()
    );
    if let Err(e) = std::fs::write(world.path(&name), text) {
        eprintln!("gatehouse-bench: {name}: {e}");
    }
    name
}

/// Measures one store (`url` `None`: a SQLite file in a temporary directory).
fn store_rows(bench: &Bench, store: &str, url: Option<String>, seconds: f64) -> Vec<Value> {
    let world = World::with_store(url);
    let mut rows = Vec::new();
    for policy in chosen("GATEHOUSE_BENCH_SERVE_POLICIES", &POLICIES) {
        let set = policy_set(&world, bench, policy);
        for replicas in chosen("GATEHOUSE_BENCH_SERVE_REPLICAS", &[1, 2]) {
            let servers: Vec<Server> = (0..replicas).map(|_| world.serve_set(&set, &[])).collect();
            let bases: Vec<String> = servers.iter().map(|s| s.base.clone()).collect();
            for n in chosen("GATEHOUSE_BENCH_SERVE_SIZES", &SIZES) {
                let body = format!("{{\"release\":{}}}", generate::release_json(n));
                // Warm-up: connections, the store's caches, the first instances.
                load(&bases, &world.evaluate, &body, 2, seconds / 5.0);
                let pids: Vec<u32> = servers.iter().map(Server::pid).collect();
                for clients in chosen("GATEHOUSE_BENCH_SERVE_CLIENTS", &CLIENTS) {
                    let cpu_before = cpu_seconds(&pids);
                    let run = load(&bases, &world.evaluate, &body, clients, seconds);
                    let server_cpu_us = match (cpu_before, cpu_seconds(&pids)) {
                        (Some(before), Some(after)) if run.ok > 0 => {
                            Some((after - before) * 1e6 / run.ok as f64)
                        }
                        _ => None,
                    };
                    let rate = run.ok as f64 / run.elapsed.as_secs_f64();
                    let summary = Summary::of(&run.latencies);
                    rows.push(json!({
                        "store": store,
                        "policy": policy,
                        "replicas": replicas,
                        "resources": n,
                        "clients": clients,
                        "decisions": run.ok,
                        "not_decided": run.other,
                        "server_cpu_us_per_decision": server_cpu_us,
                        "per_second": rate,
                        "p50_us": summary.map(|s| crate::stats::micros(s.median)),
                        "p99_us": summary.map(|s| crate::stats::micros(s.p99)),
                        "p50": summary.map(|s| fmt(s.median)).unwrap_or_default(),
                        "p99": summary.map(|s| fmt(s.p99)).unwrap_or_default(),
                    }));
                }
            }
            for server in servers {
                server.stop();
            }
        }
    }
    rows
}

/// Runs the section and prints its table.
pub fn run(bench: &Bench, seconds: f64) -> Value {
    let stores = chosen("GATEHOUSE_BENCH_SERVE_STORES", &["sqlite", "postgresql"]);
    let mut rows = Vec::new();
    if stores.contains(&"sqlite") {
        rows = store_rows(bench, "sqlite", None, seconds);
    }
    let cluster = if stores.contains(&"postgresql") {
        postgres::start_or_skip("gatehouse-bench serve")
    } else {
        None
    };
    if let Some(cluster) = &cluster {
        let url = cluster.create_database("bench");
        rows.extend(store_rows(bench, "postgresql", Some(url), seconds));
    }
    heading("The service: audited decisions per second over HTTP");
    let mut table = Table::new(&[
        "store",
        "policy",
        "replicas",
        "resources",
        "clients",
        "decisions/s",
        "p50",
        "p99",
        "not decided",
        "server CPU / decision",
    ]);
    for row in &rows {
        table.row(vec![
            row["store"].as_str().unwrap_or_default().to_string(),
            row["policy"].as_str().unwrap_or_default().to_string(),
            row["replicas"].to_string(),
            size_label(row["resources"].as_u64().unwrap_or_default() as usize),
            row["clients"].to_string(),
            format!("{:.0}", row["per_second"].as_f64().unwrap_or_default()),
            row["p50"].as_str().unwrap_or_default().to_string(),
            row["p99"].as_str().unwrap_or_default().to_string(),
            row["not_decided"].to_string(),
            row["server_cpu_us_per_decision"]
                .as_f64()
                .map(|us| format!("{us:.0} µs"))
                .unwrap_or_default(),
        ]);
    }
    table.print();
    json!({ "rows": rows, "seconds": seconds, "postgresql": cluster.is_some() })
}
