//! `wasm-c-build`: the two steps of building a C policy that need the
//! component-model tooling, at versions pinned by this crate (Cargo.lock):
//!
//! - `bindgen WIT_DIR WORLD OUT_DIR` writes wit-bindgen's C bindings for the
//!   world (`<world>.c`, `<world>.h` and `<world>_component_type.o`, which
//!   carries the component type for the linker to keep in the module);
//! - `componentize CORE_WASM OUT_WASM` turns a `wasm32-wasi` (preview 1) core
//!   module, as clang and wasi-libc build it, into a component by embedding the
//!   WASI preview-1 "reactor" adapter of wasmtime 48.
//!
//! clang itself (Debian's clang 14, which has no wasip2 target) compiles and
//! links; see `scripts/build-policies.sh` and `docs/writing-policies.md`.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{Context, Result, bail};
use wasi_preview1_component_adapter_provider::{
    WASI_SNAPSHOT_PREVIEW1_ADAPTER_NAME, WASI_SNAPSHOT_PREVIEW1_REACTOR_ADAPTER,
};
use wit_bindgen_core::Files;
use wit_bindgen_core::wit_parser::Resolve;
use wit_component::ComponentEncoder;

const USAGE: &str = "usage:
  wasm-c-build bindgen WIT_DIR WORLD OUT_DIR
      write wit-bindgen's C bindings for WORLD (of the WIT package in WIT_DIR) into OUT_DIR
  wasm-c-build componentize CORE_WASM OUT_WASM
      turn a wasm32-wasi (preview 1) core module into a component with the WASI preview-1 adapter";

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let result = match args.as_slice() {
        ["bindgen", wit, world, out] => bindgen(Path::new(wit), world, Path::new(out)),
        ["componentize", core, out] => componentize(Path::new(core), Path::new(out)),
        ["-h" | "--help" | "help"] => {
            println!("{USAGE}");
            return ExitCode::SUCCESS;
        }
        _ => {
            eprintln!("wasm-c-build: unexpected arguments {args:?}\n{USAGE}");
            return ExitCode::from(2);
        }
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("wasm-c-build: error: {error:#}");
            ExitCode::FAILURE
        }
    }
}

/// Generates the C bindings of `world` from the WIT package in `wit_dir`.
fn bindgen(wit_dir: &Path, world: &str, out_dir: &Path) -> Result<()> {
    let mut resolve = Resolve::default();
    let (package, _) = resolve
        .push_path(wit_dir)
        .with_context(|| format!("cannot read the WIT package in {}", wit_dir.display()))?;
    let world_id = resolve
        .select_world(&[package], Some(world))
        .with_context(|| format!("no world `{world}` in {}", wit_dir.display()))?;
    let mut files = Files::default();
    wit_bindgen_c::Opts::default()
        .build()
        .generate(&mut resolve, world_id, &mut files)
        .context("wit-bindgen's C generator failed")?;
    std::fs::create_dir_all(out_dir)
        .with_context(|| format!("cannot create {}", out_dir.display()))?;
    for (name, contents) in files.iter() {
        let path = out_dir.join(name);
        write_atomically(&path, contents)?;
    }
    Ok(())
}

/// Wraps a preview-1 core module (with its embedded component type) into a component.
fn componentize(core: &Path, out: &Path) -> Result<()> {
    let module = std::fs::read(core).with_context(|| format!("cannot read {}", core.display()))?;
    let component = ComponentEncoder::default()
        .validate(true)
        .module(&module)
        .with_context(|| {
            format!(
                "{} is not a core module with a component type (link it with the \
                 `*_component_type.o` from `bindgen`)",
                core.display()
            )
        })?
        .adapter(
            WASI_SNAPSHOT_PREVIEW1_ADAPTER_NAME,
            WASI_SNAPSHOT_PREVIEW1_REACTOR_ADAPTER,
        )
        .context("cannot load the WASI preview-1 adapter")?
        .encode()
        .with_context(|| format!("cannot turn {} into a component", core.display()))?;
    write_atomically(out, &component)
}

/// Writes through a temporary file and a rename, so an interrupted run never
/// leaves a truncated file that looks up to date.
fn write_atomically(path: &Path, contents: &[u8]) -> Result<()> {
    let Some(name) = path.file_name() else {
        bail!("{} is not a file path", path.display());
    };
    let mut tmp_name = name.to_os_string();
    tmp_name.push(".tmp");
    let tmp: PathBuf = path.with_file_name(tmp_name);
    std::fs::write(&tmp, contents).with_context(|| format!("cannot write {}", tmp.display()))?;
    std::fs::rename(&tmp, path)
        .with_context(|| format!("cannot rename {} to {}", tmp.display(), path.display()))
}
