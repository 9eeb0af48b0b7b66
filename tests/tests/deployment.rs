//! docs/deploy/ kept honest: the command lines of the systemd unit
//! (`ExecStart=`) and of the Kubernetes Deployment (`command` + `args`) are
//! run through the real binary's argument parser (`gatehouse serve ARGS...
//! --help`, which parses every argument before the `--help` and refuses an
//! unknown flag or a bad value), and each flag they use is one
//! `gatehouse serve --help` lists. The probes name endpoints that exist.

#![forbid(unsafe_code)]

use gatehouse_e2e::{Run, gatehouse_command, workspace_root};
use std::process::Stdio;

fn read(name: &str) -> String {
    let path = workspace_root().join("docs/deploy").join(name);
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// The real parser accepts `args` (everything after `gatehouse`), and the
/// help lists every flag in them.
fn parser_accepts(args: &[String], whence: &str) {
    assert_eq!(
        args.first().map(String::as_str),
        Some("serve"),
        "{whence}: {args:?}"
    );
    let run: Run = gatehouse_command()
        .args(args)
        .arg("--help")
        .stdin(Stdio::null())
        .output()
        .expect("run gatehouse")
        .into();
    assert_eq!(
        run.code, 0,
        "{whence}: the parser refused {args:?}: {run:#?}"
    );
    assert!(run.stdout.contains("Usage"), "{whence}: {run:#?}");
    for flag in args.iter().filter(|a| a.starts_with("--")) {
        assert!(
            run.stdout.contains(&format!("{flag} ")) || run.stdout.contains(&format!("{flag}\n")),
            "{whence}: {flag} is not in gatehouse serve --help"
        );
    }
}

#[test]
fn the_systemd_unit_runs_a_command_line_the_binary_accepts() {
    let unit = read("gatehouse.service");
    let exec = unit
        .lines()
        .find_map(|l| l.strip_prefix("ExecStart="))
        .expect("an ExecStart= line");
    let mut words = exec.split_whitespace().map(str::to_string);
    assert_eq!(words.next().as_deref(), Some("/usr/local/bin/gatehouse"));
    let args: Vec<String> = words.collect();
    parser_accepts(&args, "gatehouse.service");
    // The service stops on SIGTERM, after --shutdown-timeout.
    assert!(unit.contains("KillSignal=SIGTERM"), "{unit}");
    let shutdown: u64 = flag_value(&args, "--shutdown-timeout")
        .parse()
        .expect("seconds");
    let stop: u64 = unit
        .lines()
        .find_map(|l| l.strip_prefix("TimeoutStopSec="))
        .expect("TimeoutStopSec=")
        .parse()
        .expect("seconds");
    assert!(
        shutdown < stop,
        "--shutdown-timeout {shutdown} must be below TimeoutStopSec {stop}"
    );
    for hardening in [
        "NoNewPrivileges=yes",
        "ProtectSystem=strict",
        "DynamicUser=yes",
        "StateDirectory=gatehouse",
    ] {
        assert!(unit.contains(hardening), "{hardening} missing");
    }
    assert!(flag_value(&args, "--store").starts_with("sqlite:///var/lib/gatehouse/"));
}

fn flag_value<'a>(args: &'a [String], flag: &str) -> &'a str {
    let i = args
        .iter()
        .position(|a| a == flag)
        .unwrap_or_else(|| panic!("no {flag}"));
    args.get(i + 1)
        .map(String::as_str)
        .unwrap_or_else(|| panic!("{flag} without a value"))
}

/// The list items (`- x`) right under `key:` in a YAML block.
fn yaml_list(yaml: &str, key: &str) -> Vec<String> {
    let mut lines = yaml.lines().skip_while(|l| l.trim() != key);
    let header = lines.next().unwrap_or_else(|| panic!("no {key}"));
    let indent = header.len() - header.trim_start().len();
    lines
        .take_while(|l| l.trim().is_empty() || l.len() - l.trim_start().len() > indent)
        .filter_map(|l| l.trim().strip_prefix("- "))
        .map(|v| v.trim_matches('"').to_string())
        .collect()
}

#[test]
fn the_kubernetes_deployment_runs_a_command_line_the_binary_accepts() {
    let yaml = read("kubernetes.yaml");
    assert!(
        yaml.contains(r#"command: ["/usr/local/bin/gatehouse"]"#),
        "{yaml}"
    );
    let args = yaml_list(&yaml, "args:");
    parser_accepts(&args, "kubernetes.yaml");
    assert!(flag_value(&args, "--store").contains("GATEHOUSE_STORE_URL"));
    assert!(
        yaml.contains("secretKeyRef"),
        "the store URL comes from a Secret"
    );
    assert!(yaml.contains("path: /readyz") && yaml.contains("path: /healthz"));
    let grace: u64 = yaml
        .lines()
        .find_map(|l| l.trim().strip_prefix("terminationGracePeriodSeconds:"))
        .expect("terminationGracePeriodSeconds")
        .trim()
        .parse()
        .expect("seconds");
    let shutdown: u64 = flag_value(&args, "--shutdown-timeout")
        .parse()
        .expect("seconds");
    assert!(
        shutdown < grace,
        "--shutdown-timeout {shutdown} must be below the grace period {grace}"
    );
    let replicas: u32 = yaml
        .lines()
        .find_map(|l| l.trim().strip_prefix("replicas:"))
        .expect("replicas")
        .trim()
        .parse()
        .expect("a number");
    assert!(replicas > 1, "several replicas on PostgreSQL");
}

#[test]
fn the_checks_refuse_a_flag_the_binary_does_not_have() {
    let result = std::panic::catch_unwind(|| {
        parser_accepts(
            &["serve".into(), "--no-such-flag".into(), "1".into()],
            "test",
        )
    });
    assert!(result.is_err(), "an unknown flag passed the check");
}
