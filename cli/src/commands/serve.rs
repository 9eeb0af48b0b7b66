//! `gatehouse serve`: the approval loop as a service (crate
//! `gatehouse-server`, docs/api.md), and `gatehouse serve token add`, which
//! makes a bearer token and records its hash in the tokens file, and
//! `gatehouse serve token login`, which prints a one-time link to the
//! approvers' page.

use crate::engines::EngineSettings;
use crate::output::{EXIT_ERROR, print_diagnostic_line, print_error};
use gatehouse_server::tokens::{self, Scope};
use std::io::Write;
use std::path::PathBuf;
use std::sync::Arc;

/// What `gatehouse serve --help` adds.
pub const SERVE_HELP: &str = "\
Endpoints (docs/api.md): POST /v1/evaluations, GET /v1/approval-requests[/{id}],
POST /v1/approval-requests/{id}/approvals, GET /v1/decisions[/{id}], GET /healthz,
GET /readyz. Every /v1 request needs Authorization: Bearer TOKEN with the scope
the endpoint names (evaluate, approve, read); make tokens with
`gatehouse serve token add NAME --scopes ... --tokens-file FILE`.

It listens on loopback unless --listen says otherwise; put TLS in a reverse proxy
in front of it (docs/deployment.md). It prints `gatehouse: listening on
http://ADDR ...` on stderr once it accepts connections (with --log-format json, an
object with \"event\": \"listening\"), logs each request, and stops on SIGINT or
SIGTERM: no new connections, the requests in flight answered and recorded, within
--shutdown-timeout.

Exit codes:
  0  stopped by a signal
  3  could not start (the policy set, a policy, the store, the address) or failed";

/// Arguments of `gatehouse serve`.
#[derive(Debug, clap::Args)]
#[command(args_conflicts_with_subcommands = true)]
pub struct ServeArgs {
    /// The policy set (gatehouse.toml) every evaluation uses.
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,

    /// Where to listen, ADDRESS:PORT (port 0 picks a free one).
    #[arg(long, value_name = "ADDR:PORT", default_value = gatehouse_server::DEFAULT_LISTEN)]
    pub listen: String,

    /// The store: sqlite://FILE (created on first start).
    #[arg(long, value_name = "URL", default_value = gatehouse_server::DEFAULT_STORE)]
    pub store: String,

    /// The tokens file (hashes of bearer tokens and their scopes).
    #[arg(long, value_name = "FILE", default_value = gatehouse_server::DEFAULT_TOKENS_FILE)]
    pub tokens_file: PathBuf,

    /// Largest request body, in MiB (larger: 413).
    #[arg(long, value_name = "MiB", default_value_t = gatehouse_server::DEFAULT_MAX_INPUT_MIB)]
    pub max_input_mib: u64,

    /// Evaluations run at once (default: the number of cores).
    #[arg(long, value_name = "N")]
    pub workers: Option<usize>,

    /// Evaluations that may wait for a worker (default: 16 per worker); beyond
    /// them the server answers 503 with Retry-After.
    #[arg(long, value_name = "N")]
    pub queue: Option<usize>,

    /// How long an approval request waits for a decision before it expires, in hours.
    #[arg(long, value_name = "HOURS", default_value_t = gatehouse_server::DEFAULT_REQUEST_TTL_HOURS)]
    pub request_ttl_hours: u64,

    /// Seconds a client may take to send its request head, and then its body
    /// (a stalled or slow client: connection closed, or 408; nothing recorded).
    #[arg(long, value_name = "SECONDS", default_value_t = gatehouse_server::DEFAULT_REQUEST_TIMEOUT_SECS)]
    pub request_timeout: u64,

    /// Connections served at once; past them new ones wait in the kernel's backlog.
    #[arg(long, value_name = "N", default_value_t = gatehouse_server::DEFAULT_MAX_CONNECTIONS)]
    pub max_connections: usize,

    /// Seconds a shutdown (SIGTERM, SIGINT) waits for the requests in flight.
    #[arg(long, value_name = "SECONDS", default_value_t = gatehouse_server::DEFAULT_SHUTDOWN_TIMEOUT_SECS)]
    pub shutdown_timeout: u64,

    /// The log on stderr: text (`gatehouse: ...` lines) or json (one object per
    /// line: time, level, message; for requests method, path, status,
    /// latency_ms, decision_id, token name).
    #[arg(long, value_name = "FORMAT", default_value = "text", value_parser = ["text", "json"])]
    pub log_format: String,

    /// Serve the approvers' page at `/` (docs/approvers-page.md); without it `/` is 404.
    /// Approvers sign in with a link from `gatehouse serve token login`.
    #[arg(long)]
    pub page: bool,

    /// The URL approvers open the page at (shown in its approve commands; an
    /// https:// URL makes the session cookie Secure). Default: http://LISTEN-ADDRESS.
    #[arg(long, value_name = "URL", requires = "page")]
    pub page_url: Option<String>,

    /// `token add`, `token login`.
    #[command(subcommand)]
    pub command: Option<ServeCommand>,
}

/// Subcommands of `gatehouse serve`.
#[derive(Debug, clap::Subcommand)]
pub enum ServeCommand {
    /// Manage bearer tokens.
    #[command(subcommand)]
    Token(TokenCommand),
}

/// `gatehouse serve token ...`.
#[derive(Debug, clap::Subcommand)]
pub enum TokenCommand {
    /// Make a new random token for NAME with the given scopes, print it once on
    /// stdout, and append its SHA-256 (never the token) to the tokens file.
    Add(TokenAddArgs),
    /// Print a one-time login link for the approvers' page (`serve --page`) for the
    /// token NAME, which needs the read scope: opened once within 15 minutes, it
    /// signs that browser in for 12 hours. Only the link's hash is kept, in the store.
    Login(TokenLoginArgs),
}

/// Arguments of `gatehouse serve token login`.
#[derive(Debug, clap::Args)]
pub struct TokenLoginArgs {
    /// The token (by name) the browser acts as; it needs the read scope.
    pub name: String,

    /// The tokens file the server reads.
    #[arg(long, value_name = "FILE", default_value = gatehouse_server::DEFAULT_TOKENS_FILE)]
    pub tokens_file: PathBuf,

    /// The server's store (the link's hash is recorded there, so every replica
    /// on it accepts the link once).
    #[arg(long, value_name = "URL", default_value = gatehouse_server::DEFAULT_STORE)]
    pub store: String,

    /// The URL the server is reached at (its --page-url).
    #[arg(long, value_name = "URL", default_value = "http://127.0.0.1:8080")]
    pub url: String,
}

/// Arguments of `gatehouse serve token add`.
#[derive(Debug, clap::Args)]
pub struct TokenAddArgs {
    /// Who holds the token (letters, digits, '-', '_', '.', '@'); recorded as who
    /// submitted or uploaded what it sends.
    pub name: String,

    /// What it may do: evaluate, approve and/or read, comma-separated.
    #[arg(long, value_name = "SCOPES", required = true)]
    pub scopes: String,

    /// The tokens file (created, mode 0600, when missing).
    #[arg(long, value_name = "FILE", default_value = gatehouse_server::DEFAULT_TOKENS_FILE)]
    pub tokens_file: PathBuf,
}

/// Runs `gatehouse serve` (or `serve token add`) and returns the exit code.
pub fn run(args: &ServeArgs, engines: &EngineSettings) -> i32 {
    match &args.command {
        Some(ServeCommand::Token(TokenCommand::Add(add))) => return token_add(add),
        Some(ServeCommand::Token(TokenCommand::Login(login))) => return token_login(login),
        None => {}
    }
    let Some(config) = &args.config else {
        print_error(
            "serve needs --config FILE: the policy set every evaluation uses (e.g. --config example-policies/gatehouse.toml)",
        );
        return EXIT_ERROR;
    };
    let options = gatehouse_server::ServeOptions {
        config: config.clone(),
        listen: args.listen.clone(),
        store: args.store.clone(),
        tokens_file: args.tokens_file.clone(),
        max_input_mib: args.max_input_mib,
        workers: args.workers,
        queue: args.queue,
        request_ttl_hours: args.request_ttl_hours,
        request_timeout_secs: args.request_timeout,
        max_connections: args.max_connections,
        shutdown_timeout_secs: args.shutdown_timeout,
        log_format: match args.log_format.parse() {
            Ok(format) => format,
            Err(e) => {
                print_error(&e);
                return EXIT_ERROR;
            }
        },
        page: args.page.then(|| gatehouse_server::page::PageOptions {
            public_url: args.page_url.clone(),
        }),
    };
    let settings = engines.clone();
    let source = move |cache_dir: Option<&std::path::Path>| settings.for_policy_set(cache_dir);
    match gatehouse_server::serve(options, Arc::new(source), log_line) {
        Ok(()) => 0,
        Err(e) => {
            print_error(&e);
            EXIT_ERROR
        }
    }
}

/// One line of the service on stderr, `gatehouse: ...`, escaped.
fn log_line(message: &str) {
    print_diagnostic_line(message);
}

fn token_add(args: &TokenAddArgs) -> i32 {
    let result = Scope::parse_list(&args.scopes)
        .and_then(|scopes| tokens::add(&args.tokens_file, &args.name, &scopes));
    match result {
        Ok(token) => {
            let mut out = std::io::stdout().lock();
            if writeln!(out, "{token}").and_then(|()| out.flush()).is_err() {
                print_error(
                    "cannot write the token to stdout; its hash is in the tokens file, so remove that line and add the token again",
                );
                return EXIT_ERROR;
            }
            0
        }
        Err(e) => {
            print_error(&e);
            EXIT_ERROR
        }
    }
}

/// `gatehouse serve token login`: the one-time link on stdout.
fn token_login(args: &TokenLoginArgs) -> i32 {
    match gatehouse_server::page::login::issue(
        &args.store,
        &args.tokens_file,
        &args.name,
        &args.url,
    ) {
        Ok(link) => {
            let mut out = std::io::stdout().lock();
            if writeln!(out, "{link}").and_then(|()| out.flush()).is_err() {
                print_error("cannot write the login link to stdout; make another one");
                return EXIT_ERROR;
            }
            0
        }
        Err(e) => {
            print_error(&e);
            EXIT_ERROR
        }
    }
}
