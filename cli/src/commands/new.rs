//! `gatehouse new`: create a policy project (Rust, Python or JavaScript) with a
//! sample policy, its test suite, the WIT it targets and a README.

use crate::output::EXIT_ERROR;
use clap::ValueEnum;
use gatehouse_core::scaffold::{self, Lang, Options};
use std::path::PathBuf;

/// Exit codes and layout of `gatehouse new`.
pub const NEW_HELP: &str = "\
The project holds a sample policy (changes to protected environments need
approval from a configurable group), its test suite tests/NAME.test.toml, the
WIT it was generated against (wit/policy.wit) and a README with the build and
test commands. Build it, then run `gatehouse test` in it.

Exit codes:
  0  the project was created
  3  error: an invalid NAME, a target directory that exists and is not empty,
     or a file that could not be written";

/// Languages of `gatehouse new --lang`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum NewLang {
    /// Rust with the Gatehouse SDK (cargo, wasm32-wasip2).
    Rust,
    /// Python, built with componentize-py.
    Python,
    /// JavaScript, built with componentize-js.
    Js,
}

impl From<NewLang> for Lang {
    fn from(lang: NewLang) -> Self {
        match lang {
            NewLang::Rust => Lang::Rust,
            NewLang::Python => Lang::Python,
            NewLang::Js => Lang::Js,
        }
    }
}

/// Arguments of `gatehouse new`.
#[derive(Debug, clap::Args)]
pub struct NewArgs {
    /// The policy's name: lower-case letters, digits and '-', starting with a letter.
    #[arg(value_name = "NAME")]
    pub name: String,

    /// The language of the policy.
    #[arg(long, value_enum)]
    pub lang: NewLang,

    /// Where to create the project (default: ./NAME). It must not exist or be empty.
    #[arg(long, value_name = "PATH")]
    pub dir: Option<PathBuf>,
}

/// Runs `gatehouse new` and returns the exit code.
pub fn run(args: &NewArgs) -> i32 {
    let options = Options {
        name: args.name.clone(),
        lang: args.lang.into(),
        dir: args
            .dir
            .clone()
            .unwrap_or_else(|| PathBuf::from(&args.name)),
    };
    match scaffold::create(&options) {
        Ok(project) => {
            let dir = project.dir.display();
            println!(
                "Created the {} policy project {} in {dir}:",
                options.lang, options.name
            );
            for file in &project.files {
                println!("  {}", file.display());
            }
            println!();
            println!("Next steps (see {dir}/README.md):");
            println!("  cd {dir}");
            if options.lang == Lang::Rust {
                println!("  rustup target add wasm32-wasip2    # once");
            }
            match options.lang {
                Lang::Python => println!(
                    "  export PATH=\"/path/to/gatehouse/target/tools/venv/bin:$PATH\"    # componentize-py: a checkout's scripts/install-tools.sh, or pip install -r requirements.txt"
                ),
                Lang::Js => println!(
                    "  export PATH=\"/path/to/gatehouse/target/tools/js/node_modules/.bin:$PATH\"    # componentize-js: a checkout's scripts/install-tools.sh, or npm ci"
                ),
                Lang::Rust => {}
            }
            for command in &project.build_commands {
                println!("  {command}");
            }
            println!(
                "  gatehouse test                     # runs tests/{}.test.toml",
                options.name
            );
            println!("  gatehouse inspect {}", project.wasm_path);
            0
        }
        Err(e) => {
            crate::output::print_error(&e.to_string());
            EXIT_ERROR
        }
    }
}
