//! The command line: the global flags, the subcommands, and the argument
//! sets several subcommands share (the release a command reads, report
//! formats). Each subcommand's own arguments live with its logic in
//! [`crate::commands`].

use crate::commands::audit::{self, AuditArgs};
use crate::commands::{approve, bench, cache, digest, inspect, new, serve, test};
use clap::{Parser, Subcommand, ValueEnum};
use gatehouse_core::error::Error;
use gatehouse_core::input::{DEFAULT_MAX_INPUT_MIB, LoadedInput, ReleaseRequest};
use gatehouse_core::release::Format;
use std::path::PathBuf;

/// Exit codes, shown in `--help`: the Facets pre-release hook's 0 and 2, with 1
/// and 3 added so CI can tell "the policy said no" from "the gate is broken".
pub const EXIT_CODES_HELP: &str = "\
Exit codes:
  0  auto-approve: the release proceeds
  2  require approval: the release waits for a human decision
  1  fail: a policy decided the release must not proceed
  3  error: no decision could be made (bad input, bad or tampered policy,
     sandbox limit hit, usage error)";

/// Gatehouse: release-approval policies as sandboxed WebAssembly components.
#[derive(Debug, Parser)]
#[command(name = "gatehouse", version, about, after_help = EXIT_CODES_HELP)]
pub struct Cli {
    /// What to do.
    #[command(subcommand)]
    pub command: Command,

    /// Where compiled policies are cached (default: $XDG_CACHE_HOME/gatehouse,
    /// else ~/.cache/gatehouse). Must belong to you and be writable by nobody else.
    #[arg(long, global = true, value_name = "DIR")]
    pub cache_dir: Option<PathBuf>,

    /// Compile every policy afresh: read and write no compile cache.
    #[arg(long, global = true, conflicts_with = "cache_dir")]
    pub no_cache: bool,

    /// The key that authenticates compile cache entries: a file of 64 hex digits,
    /// yours, mode 0600 (default: $GATEHOUSE_CACHE_KEY_FILE, else
    /// $XDG_CONFIG_HOME/gatehouse/cache-key, else ~/.config/gatehouse/cache-key,
    /// created on first use). A named file must exist; `gatehouse cache key` creates it.
    #[arg(long, global = true, value_name = "FILE")]
    pub cache_key_file: Option<PathBuf>,
}

impl Cli {
    /// The compile cache the flags ask for.
    pub fn cache_setting(&self) -> gatehouse_core::runtime::cache::CacheSetting {
        use gatehouse_core::runtime::cache::CacheSetting;
        match (&self.cache_dir, self.no_cache) {
            (_, true) => CacheSetting::Disabled,
            (Some(dir), false) => CacheSetting::Dir(dir.clone()),
            (None, false) => CacheSetting::default_location(),
        }
    }

    /// The compile cache key the flag or `GATEHOUSE_CACHE_KEY_FILE` names
    /// (the flag wins), else this user's default key; an error for an empty
    /// name.
    pub fn cache_key_source(&self) -> Result<gatehouse_core::runtime::cache::KeySource, String> {
        use gatehouse_core::runtime::cache::key;
        key::KeySource::from_flag_and_env(
            self.cache_key_file.as_deref(),
            std::env::var_os(key::KEY_FILE_ENV),
        )
    }
}

/// The subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Evaluate a release change with one or more policies and exit with the verdict.
    #[command(after_help = EXIT_CODES_HELP)]
    Eval(EvalArgs),
    /// Print the release a policy would see: the input (release, Terraform plan or
    /// Pulumi preview) converted to the native release JSON.
    #[command(after_help = CONVERT_HELP)]
    Convert(ConvertArgs),
    /// Print the release digest (sha256:...) that approvals sign: a canonical hash of
    /// the normalised release (environment, stream, resources, metadata; not
    /// approvals), the same whatever the input's format, whitespace or key order.
    #[command(after_help = digest::DIGEST_HELP)]
    Digest(digest::DigestArgs),
    /// Check a policy set (gatehouse.toml) without a release: the config, every
    /// policy's digest pin, imports and exports, and its settings (validate-settings).
    #[command(after_help = CHECK_HELP)]
    Check(CheckArgs),
    /// Check (`verify`) or re-evaluate (`replay`) an audit log written by
    /// `eval --audit-log`, or check or export (`export`) the audit chain of
    /// a `gatehouse serve` store with `--store URL` (docs/audit.md).
    #[command(after_help = audit::AUDIT_HELP)]
    Audit(AuditArgs),
    /// Compile policies into the compile cache ahead of time (e.g. in a policy
    /// repository's CI), checking each loads as a Gatehouse policy.
    #[command(after_help = cache::COMPILE_HELP)]
    Compile(cache::CompileArgs),
    /// Manage the compile cache (`prune`, `dir`, `key`).
    Cache(cache::CacheArgs),
    /// Measure where the time of a decision goes: input read, compile, cache
    /// load, instantiation and the policy's calls (min / median / p99).
    #[command(after_help = bench::BENCH_HELP)]
    Bench(bench::BenchArgs),
    /// Show what a policy module is and can do, for a reviewer deciding whether to
    /// allow it: digest, world, exports, imports and what the sandbox does with each,
    /// describe(), producers, sizes and limits (docs/inspect.md).
    #[command(after_help = inspect::INSPECT_HELP)]
    Inspect(inspect::InspectArgs),
    /// Run policy test suites (*.test.toml): each case's release through its policy,
    /// checked against the expected verdict, reasons and approver groups
    /// (docs/testing-policies.md).
    #[command(after_help = test::TEST_HELP)]
    Test(test::TestArgs),
    /// Approve a release: write a signed approval statement (JSON and its SSH
    /// signature, as ssh-keygen -Y sign -n gatehouse-approval makes) for one
    /// release digest and environment.
    #[command(after_help = approve::APPROVE_HELP)]
    Approve(approve::ApproveArgs),
    /// Create a policy project (Rust, Python or JavaScript): a sample policy, its
    /// test suite, the WIT it targets and a README with the build command.
    #[command(after_help = new::NEW_HELP)]
    New(new::NewArgs),
    /// Run the approval loop as a service: evaluations, approval requests and
    /// the audit trail over HTTP, kept in a store (docs/api.md); `serve token add`
    /// makes a bearer token.
    #[command(after_help = serve::SERVE_HELP)]
    Serve(serve::ServeArgs),
}

/// Exit codes of `gatehouse check`.
pub const CHECK_HELP: &str = "\
Exit codes:
  0  every policy of the set loads and accepts its settings (and, with --input,
     eval could decide on that release: a policy applies, or the set's
     when-nothing-applies says what to do)
  3  one or more problems, each listed on stderr (with --input: also a release
     no policy applies to, or one a policy matches only when case is ignored)";

/// Arguments of `gatehouse check`.
#[derive(Debug, clap::Args)]
#[command(
    mut_arg("environment", |a| a.requires("input")),
    mut_arg("release_stream", |a| a.requires("input"))
)]
pub struct CheckArgs {
    /// The policy set to check (docs/policy-sets.md).
    #[arg(long, value_name = "FILE", default_value = gatehouse_core::config::DEFAULT_CONFIG)]
    pub config: PathBuf,

    /// Report format.
    #[arg(long, value_enum, default_value_t = OutputFormat::Text)]
    pub output: OutputFormat,

    /// A release (or Terraform plan, Pulumi preview; - for stdin): also show which
    /// policies of the set apply to it and why, and what eval would do if none does.
    #[arg(long, value_name = "FILE|-")]
    pub input: Option<String>,

    /// How --input is read.
    #[command(flatten)]
    pub release: ReleaseFlags,

    /// Unsigned approvals lists for --input.
    #[command(flatten)]
    pub approvals: ApprovalsArg,
}

/// Exit codes of `gatehouse convert`.
pub const CONVERT_HELP: &str = "\
Exit codes:
  0  converted: the release JSON is on stdout
  3  error: the input could not be read or converted (the reason is on stderr)";

/// Input formats (`--format`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum InputFormat {
    /// Tell the format from the input's top-level keys (see --help).
    Auto,
    /// The native (Facets) release JSON.
    Release,
    /// A Terraform / OpenTofu plan: `terraform show -json PLANFILE`.
    Terraform,
    /// A Pulumi preview: `pulumi preview --json`.
    Pulumi,
}

impl InputFormat {
    /// The format to read, `None` to detect it.
    pub fn format(self) -> Option<Format> {
        match self {
            InputFormat::Auto => None,
            InputFormat::Release => Some(Format::Release),
            InputFormat::Terraform => Some(Format::Terraform),
            InputFormat::Pulumi => Some(Format::Pulumi),
        }
    }
}

/// Every flag that shapes the release read from `--input`, all but
/// `--input` itself and `--approvals`: one set, flattened into every command
/// that reads a release, through [`ReleaseArgs`] or, where `--input` is
/// optional (`check`, `approve`), on its own.
#[derive(Debug, Clone, clap::Args)]
pub struct ReleaseFlags {
    /// The environment, overriding the input's environmentName (or supplying
    /// it: plans and previews name none).
    #[arg(long, value_name = "E")]
    pub environment: Option<String>,

    /// The release stream, overriding the input's releaseStream (or supplying
    /// it: plans and previews name none).
    #[arg(long, value_name = "S")]
    pub release_stream: Option<String>,

    /// The input format; auto tells a release, a Terraform plan and a Pulumi preview
    /// apart by their top-level keys (details in --help).
    ///
    /// auto decides from the input's top-level keys: `resources`, `environmentName` or
    /// `releaseStream` make a release; `format_version` together with `terraform_version`,
    /// `resource_changes` or `planned_values` makes a Terraform / OpenTofu plan
    /// (terraform show -json PLANFILE); `steps` or `changeSummary` makes a Pulumi preview
    /// (pulumi preview --json). Exactly one must match: an object that fits none or several
    /// is an error naming the keys looked for. Input that is not a JSON object is read as a
    /// release, whose parser reports the problem. Plans and previews name no environment or
    /// stream: pass --environment and --release-stream. See docs/input-formats.md.
    #[arg(long, value_enum, value_name = "FORMAT", default_value_t = InputFormat::Auto)]
    pub format: InputFormat,

    /// Add KEY=VALUE to the release's metadata (repeatable; each key once). Keys use
    /// letters, digits, '-', '_' and '.'. Overrides a release's own entry; cannot override
    /// the terraform.* / pulumi.* keys an adapter derives from a plan or preview.
    #[arg(long = "meta", value_name = "KEY=VALUE")]
    pub meta: Vec<String>,

    /// Largest accepted input (and approvals file), in MiB.
    #[arg(long, value_name = "MiB", default_value_t = DEFAULT_MAX_INPUT_MIB)]
    pub max_input_mib: u64,
}

impl ReleaseFlags {
    /// The core's request to read `input` with these flags and the unsigned
    /// approvals lists `approvals`; an error for a malformed `--meta`.
    pub fn request(&self, input: &str, approvals: &[PathBuf]) -> Result<ReleaseRequest, Error> {
        Ok(ReleaseRequest {
            input: input.to_string(),
            format: self.format.format(),
            environment: self.environment.clone(),
            release_stream: self.release_stream.clone(),
            meta: parse_meta(&self.meta).map_err(Error::Usage)?,
            approvals: approvals.to_vec(),
            max_input_mib: self.max_input_mib,
        })
    }
}

/// `--approvals`: approvals already given.
#[derive(Debug, Clone, clap::Args)]
pub struct ApprovalsArg {
    /// Approvals already given (repeatable). For eval: signed approvals
    /// (NAME.approval.json with NAME.approval.json.sig beside it, as `gatehouse
    /// approve` writes them) or directories of them, verified under the trust
    /// section (docs/approvals.md); or, without a trust section only, a JSON list of
    /// unsigned approvals, reported as unverified: [{"approver": "asmith", "groups":
    /// ["dba"], "at": "2026-11-20T10:00:00Z"}]. Other commands read only such lists.
    #[arg(long, value_name = "PATH")]
    pub approvals: Vec<PathBuf>,
}

/// The release a command reads: `--input`, every flag that shapes it
/// ([`ReleaseFlags`]) and `--approvals`. Flattened into `eval`, `convert`,
/// `digest` and `bench`.
#[derive(Debug, Clone, clap::Args)]
pub struct ReleaseArgs {
    /// The input: a release JSON, a Terraform plan JSON or a Pulumi preview JSON
    /// (see --format), or - for stdin.
    #[arg(long, value_name = "FILE|-")]
    pub input: String,

    /// How --input is read.
    #[command(flatten)]
    pub flags: ReleaseFlags,

    /// Approvals already given.
    #[command(flatten)]
    pub approvals: ApprovalsArg,
}

impl ReleaseArgs {
    /// The core's request for this release, `--approvals` lists included.
    pub fn request(&self) -> Result<ReleaseRequest, Error> {
        self.flags.request(&self.input, &self.approvals.approvals)
    }

    /// Reads and converts the release ([`ReleaseRequest::load`]).
    pub fn load(&self) -> Result<LoadedInput, Error> {
        self.request()?.load()
    }
}

/// Arguments of `gatehouse convert`.
#[derive(Debug, clap::Args)]
pub struct ConvertArgs {
    /// The release to convert.
    #[command(flatten)]
    pub release: ReleaseArgs,
}

/// Report formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum OutputFormat {
    /// Human-readable report.
    Text,
    /// The versioned JSON report (docs/report-json.md).
    Json,
    /// GitHub Actions: the text report plus workflow-command annotations; a
    /// Markdown summary to $GITHUB_STEP_SUMMARY and `verdict=` / `exit-code=`
    /// to $GITHUB_OUTPUT when those are set.
    Github,
}

/// Arguments of `gatehouse eval`.
#[derive(Debug, clap::Args)]
#[command(group(clap::ArgGroup::new("policy-source").required(true).args(["policies", "config", "server"])))]
pub struct EvalArgs {
    /// A policy component (.wasm). Repeat for several; the most restrictive verdict wins.
    #[arg(long = "policy", value_name = "P.wasm")]
    pub policies: Vec<PathBuf>,

    /// A policy set (gatehouse.toml) instead of --policy: each policy with its conditions,
    /// settings, limits, grants and optional sha256 pin (docs/policy-sets.md).
    #[arg(
        long,
        value_name = "FILE",
        conflicts_with_all = ["policies", "settings", "fuel", "timeout_ms", "memory_mib", "allow_read", "allow_env", "allow_random"]
    )]
    pub config: Option<PathBuf>,

    /// A policy setting, KEY=VALUE for every policy or POLICY:KEY=VALUE for the
    /// policy file POLICY.wasm. Repeatable; lists are comma-separated.
    #[arg(long = "set", value_name = "KEY=VALUE")]
    pub settings: Vec<String>,

    /// The release change and the flags that shape it.
    #[command(flatten)]
    pub release: ReleaseArgs,

    /// The evaluation time (RFC 3339, e.g. 2026-11-22T10:00:00Z) instead of the clock.
    #[arg(long, value_name = "RFC3339")]
    pub now: Option<String>,

    /// Report format.
    #[arg(long, value_enum, default_value_t = OutputFormat::Text)]
    pub output: OutputFormat,

    /// Fuel (instruction budget) per policy call.
    #[arg(long, value_name = "N", default_value_t = gatehouse_core::runtime::Limits::DEFAULT_FUEL)]
    pub fuel: u64,

    /// Time budget per policy evaluation, in milliseconds: real time plus the time the
    /// policy spends sleeping or waiting on its (virtual) clock.
    #[arg(long, value_name = "MS", default_value_t = gatehouse_core::runtime::Limits::DEFAULT_TIMEOUT_MS)]
    pub timeout_ms: u64,

    /// Linear memory limit per policy, in MiB.
    #[arg(long, value_name = "MiB", default_value_t = (gatehouse_core::runtime::Limits::DEFAULT_MEMORY_BYTES >> 20) as u64)]
    pub memory_mib: u64,

    /// Let every policy read this directory (read-only; `..` and symlinks cannot
    /// leave it). The policy sees it at the same absolute path. Repeatable.
    #[arg(long = "allow-read", value_name = "DIR")]
    pub allow_read: Vec<PathBuf>,

    /// Pass this host environment variable to every policy. Repeatable.
    #[arg(long = "allow-env", value_name = "NAME")]
    pub allow_env: Vec<String>,

    /// Give every policy the host's real randomness from wasi:random. Without it a
    /// policy gets a deterministic stream seeded from the release and the policy,
    /// so the same inputs always give the same verdict.
    #[arg(long = "allow-random")]
    pub allow_random: bool,

    /// Append one JSON line recording this evaluation (input, policies and their
    /// digests, settings, grants, verdicts; errors too) to FILE, hash-chained to
    /// the previous line, under a file lock (docs/audit.md). If the line cannot
    /// be written, eval exits 3.
    #[arg(long, value_name = "FILE")]
    pub audit_log: Option<PathBuf>,

    /// Sign the audit log: after each line this run appends, append a checkpoint
    /// signed with this SSH key (namespace gatehouse-audit), so that rewriting the
    /// log needs the key; `audit verify --allowed-signers` checks them. KEY: an
    /// OpenSSH private key file, or a public key whose private half is in
    /// ssh-agent ($SSH_AUTH_SOCK), as `approve --key`. If it cannot sign, eval
    /// exits 3 and the log says so.
    #[arg(long, value_name = "KEY", requires = "audit_log")]
    pub audit_key: Option<PathBuf>,

    /// Who may approve, for runs without a policy set (with --config, its [trust]
    /// section says): the OpenSSH allowed_signers file listing whose keys may sign
    /// approvals. With it, only signed approvals count (docs/approvals.md).
    #[arg(long, value_name = "FILE", conflicts_with = "config")]
    pub allowed_signers: Option<PathBuf>,

    /// An approver group and its members, GROUP=P1,P2 (principals as the
    /// allowed_signers file names them). Repeatable, each group once.
    #[arg(
        long = "group",
        value_name = "GROUP=P1,P2",
        requires = "allowed_signers"
    )]
    pub trust_groups: Vec<String>,

    /// Let a release's author approve it (by default they cannot).
    #[arg(long, requires = "allowed_signers")]
    pub allow_self_approval: bool,

    /// The metadata key naming the release's author (default: author).
    #[arg(long, value_name = "KEY", requires = "allowed_signers")]
    pub author_key: Option<String>,

    /// Submit to a `gatehouse serve` instead of evaluating here.
    #[command(flatten)]
    pub server: ServerArgs,
}

/// `eval --server`: the release goes to a `gatehouse serve`, whose policy
/// set decides and records the decision (docs/api.md).
#[derive(Debug, Clone, clap::Args)]
pub struct ServerArgs {
    /// Submit the release to this `gatehouse serve` (http://HOST:PORT, or
    /// https:// behind a TLS reverse proxy) instead of evaluating it here: the
    /// server's policy set decides, records the decision and answers it, and
    /// a require-approval verdict opens an approval request there.
    #[arg(
        long,
        value_name = "URL",
        conflicts_with_all = ["settings", "fuel", "timeout_ms", "memory_mib", "allow_read", "allow_env", "allow_random", "audit_log", "allowed_signers", "now"]
    )]
    pub server: Option<String>,

    /// The file holding the bearer token (scope evaluate; with --wait also
    /// read), as `gatehouse serve token add` printed it (default:
    /// $GATEHOUSE_TOKEN_FILE). Never on the command line; never printed.
    #[arg(long, value_name = "FILE", requires = "server")]
    pub token_file: Option<PathBuf>,

    /// On require-approval, wait until the approval request is decided: exit
    /// 0 approved, 1 rejected, 2 still pending at --wait-timeout (or expired).
    #[arg(long, requires = "server")]
    pub wait: bool,

    /// How long --wait waits: 30s, 10m, 2h, 1d (at most 30d).
    #[arg(long, value_name = "DURATION", default_value = "2h", requires = "wait")]
    pub wait_timeout: String,

    /// How often --wait asks the server: 5s, 1m (at least 1s).
    #[arg(long, value_name = "DURATION", default_value = "5s", requires = "wait")]
    pub poll_interval: String,
}

/// Parses `--meta KEY=VALUE` flags; a key may be given once.
pub fn parse_meta(items: &[String]) -> Result<Vec<(String, String)>, String> {
    let mut out: Vec<(String, String)> = Vec::with_capacity(items.len());
    for text in items {
        let bad = |why: &str| {
            format!("--meta {text:?}: {why}; expected KEY=VALUE, e.g. --meta commit=9f2c1e7")
        };
        let (key, value) = text.split_once('=').ok_or_else(|| bad("no '='"))?;
        let key = key.trim();
        if key.is_empty() {
            return Err(bad("the key is empty"));
        }
        gatehouse_core::settings::check_key(key).map_err(|why| bad(&why))?;
        if out.iter().any(|(k, _)| k == key) {
            return Err(format!(
                "--meta: key {key:?} is given twice; give each key once"
            ));
        }
        out.push((key.to_string(), value.to_string()));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn meta(items: &[&str]) -> Result<Vec<(String, String)>, String> {
        parse_meta(&items.iter().map(|s| s.to_string()).collect::<Vec<_>>())
    }

    #[test]
    fn meta_flags_parse() {
        assert_eq!(
            meta(&["commit=9f2c1e7", "pipeline=https://ci/run?a=1", "empty="]),
            Ok(vec![
                ("commit".into(), "9f2c1e7".into()),
                ("pipeline".into(), "https://ci/run?a=1".into()),
                ("empty".into(), String::new()),
            ])
        );
        let err = meta(&["commit"]).expect_err("no =");
        assert!(err.starts_with("--meta \"commit\": no '='"), "{err}");
        assert!(
            meta(&["=x"])
                .expect_err("empty key")
                .contains("the key is empty")
        );
        assert!(
            meta(&["a b=x"])
                .expect_err("space")
                .contains("the character ' '")
        );
        let err = meta(&["a=1", "a=2"]).expect_err("duplicate");
        assert!(err.contains("key \"a\" is given twice"), "{err}");
    }

    #[test]
    fn the_command_line_is_consistent() {
        use clap::CommandFactory;
        Cli::command().debug_assert();
    }

    /// Parses a command line that must parse.
    fn parse(args: &[&str]) -> Command {
        match Cli::try_parse_from(args) {
            Ok(cli) => cli.command,
            Err(e) => panic!("{args:?} must parse: {e}"),
        }
    }

    #[test]
    fn eval_defaults_are_the_default_limits() {
        // What `eval` runs with when no limit flag is given: the flags'
        // defaults, turned into limits the way `eval` does, must be
        // `Limits::default()`, and those the documented numbers.
        let Command::Eval(args) = parse(&[
            "gatehouse",
            "eval",
            "--policy",
            "p.wasm",
            "--input",
            "r.json",
        ]) else {
            panic!("not eval");
        };
        let limits = gatehouse_core::runtime::Limits::default();
        let from_flags = gatehouse_core::runtime::Limits {
            fuel: args.fuel,
            memory_bytes: usize::try_from(args.memory_mib << 20).expect("fits"),
            timeout_ms: args.timeout_ms,
            ..gatehouse_core::runtime::Limits::default()
        };
        assert_eq!(from_flags, limits);
        assert_eq!(args.fuel, 2_000_000_000);
        assert_eq!(args.timeout_ms, 10_000);
        assert_eq!(args.memory_mib, 256);
        assert_eq!(args.release.flags.max_input_mib, 256, "256 MiB of input");
        assert!(
            args.allow_read.is_empty() && args.allow_env.is_empty() && !args.allow_random,
            "nothing is granted by default"
        );
    }

    #[test]
    fn every_input_reading_command_defaults_to_256_mib() {
        let max_input_mib = |args: &[&str]| match parse(args) {
            Command::Eval(a) => a.release.flags.max_input_mib,
            Command::Convert(a) => a.release.flags.max_input_mib,
            Command::Digest(a) => a.release.flags.max_input_mib,
            Command::Check(a) => a.release.max_input_mib,
            Command::Bench(a) => a.release.flags.max_input_mib,
            Command::Approve(a) => a.release.max_input_mib,
            other => panic!("not an input-reading command: {other:?}"),
        };
        for args in [
            &["gatehouse", "eval", "--policy", "p.wasm", "--input", "-"][..],
            &["gatehouse", "convert", "--input", "-"],
            &["gatehouse", "digest", "--input", "-"],
            &["gatehouse", "check"],
            &["gatehouse", "bench", "--policy", "p.wasm", "--input", "-"],
            &[
                "gatehouse",
                "approve",
                "--input",
                "-",
                "--environment",
                "prod",
                "--group",
                "dba",
                "--key",
                "k",
            ],
        ] {
            assert_eq!(max_input_mib(args), 256, "{args:?}");
        }
    }
}
