//! The `gatehouse` binary: parse arguments, run, exit with the verdict's code.
//! Usage errors exit 3, never clap's default 2 (which means "require approval").

#![forbid(unsafe_code)]

use clap::Parser;
use gatehouse::cli::{Cli, EXIT_ERROR, run};

fn main() {
    let code = match Cli::try_parse() {
        Ok(cli) => run(cli),
        Err(err) => {
            let exit = if err.use_stderr() { EXIT_ERROR } else { 0 };
            let _ = err.print();
            exit
        }
    };
    std::process::exit(code);
}
