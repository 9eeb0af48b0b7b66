//! `gatehouse serve` in a binary built without the `serve` feature (the
//! quick start's: `cargo build --no-default-features -p gatehouse` leaves out
//! the HTTP server and its database drivers, a third of a cold build). The
//! subcommand stays, so that `serve` says how to get it instead of being an
//! unknown word.

use crate::engines::EngineSettings;
use crate::output::{EXIT_ERROR, print_error};

/// What `gatehouse serve --help` adds.
pub const SERVE_HELP: &str = "\
This gatehouse was built without the `serve` feature. Build the full binary with
`cargo build -p gatehouse` (default features) to run the service (docs/api.md).";

/// Arguments of `gatehouse serve`: taken as they come, since nothing here
/// runs them.
#[derive(Debug, clap::Args)]
pub struct ServeArgs {
    /// Whatever followed `serve`.
    #[arg(trailing_var_arg = true, allow_hyphen_values = true, hide = true)]
    pub args: Vec<String>,
}

/// Says that this binary cannot serve, and how to build one that can; exit 3.
pub fn run(_args: &ServeArgs, _engines: &EngineSettings) -> i32 {
    print_error(&no_serve_message());
    EXIT_ERROR
}

/// The message of [`run`].
fn no_serve_message() -> String {
    "this gatehouse was built without the `serve` feature (the quick start builds it so); \
     build the full binary with `cargo build -p gatehouse` (default features) to run \
     `gatehouse serve`"
        .to_string()
}
