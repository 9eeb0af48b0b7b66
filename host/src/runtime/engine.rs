//! One wasmtime engine per process and the linker every policy is
//! instantiated against: our host interface plus WASI with nothing granted.

use super::bindings::{Policy, PolicyPre, REQUIRED_EXPORTS, WORLD, v0_2};
use super::cache::{CacheSetting, CompileCache, KeySource};
use super::errors::first_line;
use super::limits::{Limits, MAX_WASM_STACK};
use super::policy::{CompileInfo, LoadedPolicy, WorldPre};
use super::sandbox::SandboxState;
use crate::error::{LoadError, LoadErrorKind};
use sha2::{Digest, Sha256};
use std::path::Path;
use std::sync::Arc;
use wasmtime::component::{Component, HasSelf, Linker};
use wasmtime::{Config, Engine, PoolingAllocationConfig};

/// Where a runtime reports warnings (a compile cache it cannot use, an
/// entry it refused and replaced): a function of the warning's text.
pub type WarningSink = Arc<dyn Fn(&str) + Send + Sync>;

/// Components at least this large (1 MiB) get a progress notice before they
/// are compiled: compiling takes about a second per few MiB (a Python or
/// JavaScript policy, 12 to 18 MiB, takes seconds), a Rust policy of a few
/// hundred KiB well under one.
pub const SLOW_COMPILE_BYTES: usize = 1 << 20;

/// The progress notice shown before a slow compile of the policy at `path`:
/// `compiling policy PATH (first run; cached afterwards)…` with a compile
/// cache, `compiling policy PATH (no compile cache)…` without one.
pub fn compile_notice(path: &Path, cached: bool) -> String {
    let why = if cached {
        "first run; cached afterwards"
    } else {
        "no compile cache"
    };
    format!("compiling policy {} ({why})…", path.display())
}

/// The compiler and linker shared by every policy in a run, and the
/// compile cache they share. Made by [`Runtime::builder`]; one runtime
/// serves any number of policies and evaluations, on any threads.
///
/// # Example
///
/// ```no_run
/// use gatehouse_core::runtime::{Limits, Runtime};
/// use std::path::Path;
///
/// # fn main() -> Result<(), Box<dyn std::error::Error>> {
/// let runtime = Runtime::builder().limits(&Limits::default()).build()?;
/// let policy = runtime.load(Path::new("policy.wasm"))?;
/// println!("{} sha256:{}", policy.path().display(), policy.sha256());
/// # Ok(())
/// # }
/// ```
pub struct Runtime {
    engine: Engine,
    linker: Linker<SandboxState>,
    cache: Option<CompileCache>,
    cache_warning: Option<String>,
    on_warning: Option<WarningSink>,
    on_notice: Option<WarningSink>,
    slots: super::slots::Slots,
}

impl Runtime {
    /// Sends a warning to the builder's sink, if it was given one.
    pub(super) fn warn(&self, warning: &str) {
        if let Some(sink) = &self.on_warning {
            sink(warning);
        }
    }

    /// Sends a progress notice to the builder's sink, if it was given one.
    fn notice(&self, notice: &str) {
        if let Some(sink) = &self.on_notice {
            sink(notice);
        }
    }

    /// Builds the engine (fuel metering and epoch interruption on, the
    /// pooling allocator sized from `limits`, which must be the largest limits
    /// any policy of the run gets), starts the epoch ticker, builds the
    /// linker and opens the compile cache. A cache that cannot be used is
    /// not an error: policies are compiled, and [`Runtime::cache_warning`]
    /// says why.
    pub(super) fn start(
        limits: &Limits,
        cache: &CacheSetting,
        key: &KeySource,
        on_warning: Option<WarningSink>,
        on_notice: Option<WarningSink>,
    ) -> wasmtime::Result<Self> {
        let concurrency = concurrent_evaluations();
        let engine = Engine::new(&engine_config(limits, concurrency))?;
        super::ticker::start(&engine)
            .map_err(|e| wasmtime::format_err!("cannot start the epoch ticker thread: {e}"))?;
        let mut linker = Linker::new(&engine);
        wasmtime_wasi::p2::add_to_linker_sync(&mut linker)?;
        super::clock_imports::shadow_wasi(&mut linker)?;
        Policy::add_to_linker::<_, HasSelf<_>>(&mut linker, |state| state)?;
        v0_2::Policy::add_to_linker::<_, HasSelf<_>>(&mut linker, |state| state)?;
        let (cache, cache_warning) = match cache {
            CacheSetting::Disabled => (None, None),
            CacheSetting::Dir(dir) => match CompileCache::open(dir, &engine, key) {
                Ok(cache) => (Some(cache), None),
                Err(e) => (None, Some(format!("{e}; compiling without a cache"))),
            },
        };
        Ok(Runtime {
            engine,
            linker,
            cache,
            cache_warning,
            on_warning,
            on_notice,
            slots: super::slots::Slots::new(concurrency as usize),
        })
    }

    /// Why the configured compile cache is not in use, if it is not.
    pub fn cache_warning(&self) -> Option<&str> {
        self.cache_warning.as_deref()
    }

    /// The compile cache in use, if any.
    pub fn cache(&self) -> Option<&CompileCache> {
        self.cache.as_ref()
    }

    /// The wasmtime engine.
    pub fn engine(&self) -> &Engine {
        &self.engine
    }

    /// Reads, checks and compiles a policy file.
    pub fn load(&self, path: &Path) -> Result<LoadedPolicy, LoadError> {
        let bytes = std::fs::read(path).map_err(|e| LoadError {
            path: path.to_path_buf(),
            kind: LoadErrorKind::Io(e),
        })?;
        self.load_bytes(path, &bytes)
    }

    /// Checks and compiles a policy from bytes; `path` names it in reports.
    pub fn load_bytes(&self, path: &Path, bytes: &[u8]) -> Result<LoadedPolicy, LoadError> {
        let fail = |kind| LoadError {
            path: path.to_path_buf(),
            kind,
        };
        check_header(bytes).map_err(fail)?;
        let sha256 = hex::encode(Sha256::digest(bytes));
        let started = std::time::Instant::now();
        let compile = || {
            // The size check guards compilation, the one cost fuel and
            // timeouts do not cover; a cache hit skips both.
            check_code_size(bytes).map_err(|kind| wasmtime::Error::new(SizeRefused(kind)))?;
            if bytes.len() >= SLOW_COMPILE_BYTES {
                self.notice(&compile_notice(path, self.cache.is_some()));
            }
            Component::new(&self.engine, bytes)
        };
        let (component, cache, warning) =
            super::cache::compile_cached(self.cache.as_ref(), &self.engine, &sha256, compile)
                .map_err(|e| match e.downcast::<SizeRefused>() {
                    Ok(SizeRefused(kind)) => fail(kind),
                    Err(e) => fail(LoadErrorKind::Compile(first_line(&e))),
                })?;
        if let Some(warning) = &warning {
            self.warn(&format!("{}: {warning}", path.display()));
        }
        let compile_info = CompileInfo {
            cache,
            duration: started.elapsed(),
            warning,
        };
        check_exports(&self.engine, &component).map_err(fail)?;
        if let Some(forbidden) = super::imports::forbidden_imports(&self.engine, &component) {
            return Err(fail(LoadErrorKind::ForbiddenImports(forbidden.join(", "))));
        }
        let instance_pre = self
            .linker
            .instantiate_pre(&component)
            .map_err(|e| fail(LoadErrorKind::Link(first_line(&e))))?;
        let pre = if imports_world_0_2(&self.engine, &component) {
            WorldPre::V0_2(
                v0_2::PolicyPre::new(instance_pre)
                    .map_err(|e| fail(LoadErrorKind::Link(format!("{e:#}"))))?,
            )
        } else {
            WorldPre::V0_1(
                PolicyPre::new(instance_pre)
                    .map_err(|e| fail(LoadErrorKind::Link(format!("{e:#}"))))?,
            )
        };
        Ok(LoadedPolicy::new(
            path,
            sha256,
            bytes.len(),
            pre,
            compile_info,
            self.slots.clone(),
        ))
    }
}

/// The size pre-check's refusal, carried through the compile closure.
#[derive(Debug)]
struct SizeRefused(LoadErrorKind);

impl std::fmt::Display for SizeRefused {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{:?}", self.0)
    }
}

impl std::error::Error for SizeRefused {}

/// The engine configuration: fuel and epochs for the sandbox limits, the
/// pooling allocator sized from `limits`, and no component-model
/// concurrency (policies are synchronous; its per-store state costs time).
fn engine_config(limits: &Limits, concurrency: u32) -> Config {
    let mut config = Config::new();
    config
        .consume_fuel(true)
        .epoch_interruption(true)
        .max_wasm_stack(MAX_WASM_STACK)
        .concurrency_support(false)
        .allocation_strategy(pooling_config(limits, concurrency));
    config
}

/// Most evaluations one runtime runs at once.
const MAX_CONCURRENT_EVALUATIONS: u32 = 16;

/// Evaluations that may be alive at once in one runtime: one per core (they
/// are CPU-bound, so more would not finish sooner), at most
/// [`MAX_CONCURRENT_EVALUATIONS`]. More callers wait for a slot. The pool is
/// sized for exactly this many: setting up a pool for 16 evaluations of 100
/// memories and tables each took longer than a whole CLI evaluation.
fn concurrent_evaluations() -> u32 {
    std::thread::available_parallelism()
        .map(|n| u32::try_from(n.get()).unwrap_or(u32::MAX))
        .unwrap_or(1)
        .clamp(1, MAX_CONCURRENT_EVALUATIONS)
}

/// Pooling-allocator caps that match the per-store limits, so the pool never
/// refuses what the limiter would allow, and never allows more.
fn pooling_config(limits: &Limits, concurrency: u32) -> PoolingAllocationConfig {
    let clamp = |n: usize| u32::try_from(n).unwrap_or(u32::MAX);
    let per_evaluation_memories = clamp(limits.memories);
    let per_evaluation_tables = clamp(limits.tables);
    let per_evaluation_instances = clamp(limits.instances);
    let mut pool = PoolingAllocationConfig::new();
    pool.total_component_instances(concurrency)
        .total_core_instances(concurrency.saturating_mul(per_evaluation_instances))
        .total_memories(concurrency.saturating_mul(per_evaluation_memories))
        .total_tables(concurrency.saturating_mul(per_evaluation_tables))
        .max_core_instances_per_component(per_evaluation_instances)
        .max_memories_per_component(per_evaluation_memories)
        .max_tables_per_component(per_evaluation_tables)
        .max_memories_per_module(per_evaluation_memories)
        .max_tables_per_module(per_evaluation_tables)
        .max_memory_size(limits.memory_bytes.max(MIN_POOL_MEMORY))
        .table_elements(limits.table_elements)
        // Guests run synchronously on the calling thread's stack: no pooled
        // async stacks (the default reserves 1,000 of 2 MiB, each with a
        // guard page set up at start-up, longer than a whole evaluation).
        .total_stacks(0)
        .max_component_instance_size(16 << 20)
        .max_core_instance_size(16 << 20)
        // A slot's memory and tables go back to their initial contents when an
        // evaluation ends, either way (no guest state outlives its instance).
        // Resetting the pages a guest touched with `memset` (found with the
        // PAGEMAP_SCAN ioctl where the kernel has it, Linux 6.7+) instead of
        // `madvise` keeps them resident: no system call, no TLB shootdown of
        // every core, and no copy-on-write page faults in the next instance.
        .linear_memory_keep_resident(KEEP_RESIDENT)
        .table_keep_resident(KEEP_RESIDENT)
        .pagemap_scan(wasmtime::Enabled::Auto);
    pool
}

/// Bytes of each pooled memory and table reset in place rather than
/// returned to the kernel after an evaluation (per slot; the pool has
/// [`concurrent_evaluations`] × the per-evaluation memories).
const KEEP_RESIDENT: usize = 4 << 20;

/// Pool slots are at least this large, so that a tiny `--memory-mib` is
/// reported by the limiter (naming the limit) rather than by the pool.
const MIN_POOL_MEMORY: usize = 64 << 20;

/// Tells a component from a core module, WebAssembly text and other files,
/// so the user learns what they have and how to get what is needed.
pub(crate) fn check_header(bytes: &[u8]) -> Result<(), LoadErrorKind> {
    if bytes.is_empty() {
        return Err(LoadErrorKind::Empty);
    }
    if !bytes.starts_with(b"\0asm") {
        let text = String::from_utf8_lossy(&bytes[..bytes.len().min(256)]);
        let trimmed = text.trim_start();
        if trimmed.starts_with("(module") || trimmed.starts_with("(component") {
            return Err(LoadErrorKind::WasmText);
        }
        return Err(LoadErrorKind::NotWasm);
    }
    let Some(version) = bytes.get(4..8) else {
        return Err(LoadErrorKind::Compile(
            "the file ends inside the 8-byte header (truncated)".into(),
        ));
    };
    match version {
        [1, 0, 0, 0] => Err(LoadErrorKind::CoreModule),
        [0x0d, 0, 1, 0] => Ok(()),
        other => Err(LoadErrorKind::UnknownVersion(u32::from_le_bytes([
            other[0], other[1], other[2], other[3],
        ]))),
    }
}

/// Most functions a policy may define. The 18 MB componentize-py policy has
/// about 13,400; Cranelift needs seconds and hundreds of MiB per ten thousand.
pub const MAX_FUNCTIONS: u64 = 50_000;
/// Most bytes of code a policy may carry (the Python example has 6.5 MB).
pub const MAX_CODE_BYTES: u64 = 64 << 20;

/// Counts functions and code bytes with one pass of the parser, before any
/// compilation: compiling is the one cost that fuel and timeouts do not cover.
/// Malformed binaries pass here and are reported by the compiler.
fn check_code_size(bytes: &[u8]) -> Result<(), LoadErrorKind> {
    let (mut functions, mut code) = (0u64, 0u64);
    for payload in wasmparser::Parser::new(0).parse_all(bytes) {
        match payload {
            Ok(wasmparser::Payload::FunctionSection(reader)) => {
                functions += u64::from(reader.count());
            }
            Ok(wasmparser::Payload::CodeSectionStart { size, .. }) => code += u64::from(size),
            Ok(_) => {}
            Err(_) => return Ok(()),
        }
    }
    if functions > MAX_FUNCTIONS || code > MAX_CODE_BYTES {
        return Err(LoadErrorKind::TooLarge(format!(
            "{functions} functions and {code} bytes of code; a policy may have at most {MAX_FUNCTIONS} functions and {} MiB of code",
            MAX_CODE_BYTES >> 20
        )));
    }
    Ok(())
}

/// True when the component imports an interface of `gatehouse:policy@0.2.0`
/// (every 0.2.0 policy does: its `evaluate` borrows `input.release`), so it
/// is run as that world; every other component as 0.1.0.
fn imports_world_0_2(engine: &Engine, component: &Component) -> bool {
    component
        .component_type()
        .imports(engine)
        .any(|(name, _)| name.starts_with("gatehouse:policy/") && name.ends_with("@0.2.0"))
}

/// Names every required export the component lacks.
fn check_exports(engine: &Engine, component: &Component) -> Result<(), LoadErrorKind> {
    let ty = component.component_type();
    let exported: Vec<&str> = ty.exports(engine).map(|(name, _)| name).collect();
    let missing: Vec<String> = REQUIRED_EXPORTS
        .iter()
        .filter(|name| !exported.contains(name))
        .map(|name| format!("`{name}`"))
        .collect();
    if missing.is_empty() {
        return Ok(());
    }
    Err(LoadErrorKind::WrongWorld {
        missing: missing.join(", "),
        world: WORLD,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A component that imports `wasi:clocks/monotonic-clock@VERSION` and
    /// exports `run: func() -> u64` returning its `now`.
    fn clock_reader(version: &str) -> Vec<u8> {
        use wasm_encoder::{
            CodeSection, ComponentBuilder, ComponentExportKind, ComponentTypeRef, ComponentValType,
            EntityType, ExportKind, ExportSection, Function, FunctionSection, ImportSection,
            InstanceType, Module, ModuleArg, PrimitiveValType, TypeSection, ValType,
        };
        let no_params = || std::iter::empty::<(&str, ComponentValType)>();
        let u64_result = Some(ComponentValType::Primitive(PrimitiveValType::U64));

        let mut module = Module::new();
        let mut types = TypeSection::new();
        types.ty().function([], [ValType::I64]);
        let mut imports = ImportSection::new();
        imports.import("host", "now", EntityType::Function(0));
        let mut funcs = FunctionSection::new();
        funcs.function(0);
        let mut exports = ExportSection::new();
        exports.export("run", ExportKind::Func, 1);
        let mut code = CodeSection::new();
        let mut body = Function::new([]);
        body.instructions().call(0).end();
        code.function(&body);
        module
            .section(&types)
            .section(&imports)
            .section(&funcs)
            .section(&exports)
            .section(&code);

        let mut component = ComponentBuilder::default();
        let mut clock_type = InstanceType::new();
        clock_type
            .ty()
            .function()
            .params(no_params())
            .result(u64_result);
        clock_type.export("now", ComponentTypeRef::Func(0));
        let clock_type = component.type_instance(None, &clock_type);
        let clock = component.import(
            format!("wasi:clocks/monotonic-clock@{version}").as_str(),
            ComponentTypeRef::Instance(clock_type),
        );
        let now = component.alias_export(clock, "now", ComponentExportKind::Func);
        let core_now = component.lower_func(None, now, []);
        let host = component.core_instantiate_exports(None, [("now", ExportKind::Func, core_now)]);
        let module = component.core_module(None, &module);
        let instance =
            component.core_instantiate(None, module, [("host", ModuleArg::Instance(host))]);
        let run = component.core_alias_export(None, instance, "run", ExportKind::Func);
        let (run_type, mut encoder) = component.type_function(None);
        encoder.params(no_params()).result(u64_result);
        let run = component.lift_func(None, run, run_type, []);
        component.export("run", ComponentExportKind::Func, run, None);
        component.finish()
    }

    #[test]
    fn every_wasi_0_2_version_of_the_monotonic_clock_is_the_virtual_one() {
        use super::super::random::RandomSource;
        use super::super::sandbox::{StoreConfig, new_store};
        let runtime = Runtime::builder().build().expect("runtime");
        // 0.2.0 and 0.2.9 are what the Python twin imports; 0.2.12 is what
        // wasmtime-wasi 48 registers; 0.2.99 a newer policy.
        for version in ["0.2.0", "0.2.3", "0.2.9", "0.2.12", "0.2.99"] {
            let component =
                Component::new(runtime.engine(), clock_reader(version)).expect("compile");
            let pre = runtime
                .linker
                .instantiate_pre(&component)
                .expect("the import resolves");
            let limits = Limits::default();
            let grants = super::super::Grants::default();
            let mut store = new_store(
                runtime.engine(),
                StoreConfig {
                    limits: &limits,
                    grants: &grants,
                    now: 0,
                    random: RandomSource::Real,
                    progress: std::sync::Arc::default(),
                },
            )
            .expect("store");
            store.set_fuel(1_000_000).expect("fuel");
            std::thread::sleep(std::time::Duration::from_millis(2));
            let instance = pre.instantiate(&mut store).expect("instantiate");
            let run = instance
                .get_typed_func::<(), (u64,)>(&mut store, "run")
                .expect("run");
            let (now,) = run.call(&mut store, ()).expect("call");
            assert_eq!(
                now,
                super::super::clock::START_NS,
                "wasi:clocks/monotonic-clock@{version}"
            );
        }
    }

    // ---- per-evaluation caps: counts, memory together, table elements ----
    //
    // A component's core instances, memories and tables are all known when
    // it is compiled, and the pooling allocator (sized from the same
    // `Limits`) refuses a component over a cap right then: at load time,
    // before it ever runs. A component cannot create core instances later (it
    // cannot import a module: the host provides none), so the limiter's own
    // count caps are unreachable from a policy; they are tested here at the
    // level they are enforced, the evaluation's store, with core modules
    // instantiated into a store made exactly as for an evaluation
    // (`new_store`). Memory and table growth happen at run time, inside that
    // same store, so those caps are tested there too.

    use super::super::limiter::LimitHit;
    use super::super::sandbox::SandboxState;
    use wasm_encoder::{
        CodeSection, ComponentBuilder, ExportKind, ExportSection, Function, FunctionSection,
        HeapType, MemorySection, MemoryType, Module, ModuleArg, RefType, TableSection, TableType,
        TypeSection, ValType,
    };
    use wasmtime::{Instance, Store};

    /// A runtime built exactly as the CLI builds one, with these limits.
    fn runtime_with(limits: &Limits) -> Runtime {
        Runtime::builder().limits(limits).build().expect("runtime")
    }

    /// A fresh store for one evaluation under `limits`, as `LoadedPolicy`
    /// makes it, with fuel to run.
    fn evaluation_store(runtime: &Runtime, limits: &Limits) -> Store<SandboxState> {
        use super::super::random::RandomSource;
        use super::super::sandbox::{StoreConfig, new_store};
        let grants = super::super::Grants::default();
        let mut store = new_store(
            runtime.engine(),
            StoreConfig {
                limits,
                grants: &grants,
                now: 0,
                random: RandomSource::Real,
                progress: std::sync::Arc::default(),
            },
        )
        .expect("store");
        store.set_fuel(10_000_000).expect("fuel");
        store
    }

    /// What a test module holds.
    #[derive(Default)]
    struct Shape {
        /// Memories of this many pages each, with `growN(pages) -> old`
        /// exported for memory N.
        memories: Vec<u64>,
        /// Tables of this many `funcref` elements each, with
        /// `table-growN(elements) -> old` exported for table N.
        tables: Vec<u64>,
    }

    /// A core module of `shape`: no imports, one exported grow function per
    /// memory and per table.
    fn core_module(shape: &Shape) -> Module {
        let mut types = TypeSection::new();
        types.ty().function([ValType::I32], [ValType::I32]);
        let mut funcs = FunctionSection::new();
        let mut code = CodeSection::new();
        let mut exports = ExportSection::new();
        let mut memories = MemorySection::new();
        let mut tables = TableSection::new();
        let mut index = 0u32;
        for (i, pages) in (0u32..).zip(&shape.memories) {
            memories.memory(MemoryType {
                minimum: *pages,
                maximum: None,
                memory64: false,
                shared: false,
                page_size_log2: None,
            });
            funcs.function(0);
            let mut body = Function::new([]);
            body.instructions().local_get(0).memory_grow(i).end();
            code.function(&body);
            exports.export(&format!("grow{i}"), ExportKind::Func, index);
            index += 1;
        }
        for (i, elements) in (0u32..).zip(&shape.tables) {
            tables.table(TableType {
                element_type: RefType::FUNCREF,
                table64: false,
                minimum: *elements,
                maximum: None,
                shared: false,
            });
            funcs.function(0);
            let mut body = Function::new([]);
            body.instructions()
                .ref_null(HeapType::FUNC)
                .local_get(0)
                .table_grow(i)
                .end();
            code.function(&body);
            exports.export(&format!("table-grow{i}"), ExportKind::Func, index);
            index += 1;
        }
        let mut module = Module::new();
        module.section(&types).section(&funcs);
        if !shape.tables.is_empty() {
            module.section(&tables);
        }
        if !shape.memories.is_empty() {
            module.section(&memories);
        }
        module.section(&exports).section(&code);
        module
    }

    /// Instantiates `shape` into `store`.
    fn instantiate(
        runtime: &Runtime,
        store: &mut Store<SandboxState>,
        shape: &Shape,
    ) -> wasmtime::Result<Instance> {
        let module = wasmtime::Module::new(runtime.engine(), core_module(shape).finish())?;
        Instance::new(store, &module, &[])
    }

    /// Calls the exported `name(arg) -> i32`.
    fn call(
        store: &mut Store<SandboxState>,
        instance: &Instance,
        name: &str,
        arg: i32,
    ) -> wasmtime::Result<i32> {
        instance
            .get_typed_func::<i32, i32>(&mut *store, name)?
            .call(&mut *store, arg)
    }

    /// The whole error chain of `result`, which must be an error.
    fn error_text<T>(result: wasmtime::Result<T>) -> String {
        match result {
            Ok(_) => panic!("expected an error"),
            Err(e) => format!("{e:#}"),
        }
    }

    /// 64 KiB wasm pages.
    const PAGE: usize = 64 << 10;

    /// Limits with a 1 MiB (16-page) memory limit.
    fn one_mib() -> Limits {
        Limits {
            memory_bytes: 16 * PAGE,
            ..Limits::default()
        }
    }

    #[test]
    fn two_memories_growing_to_60_percent_each_trap_at_the_second_growth() {
        let limits = one_mib();
        let runtime = runtime_with(&limits);
        let two_memories = Shape {
            memories: vec![0, 0],
            ..Shape::default()
        };

        let mut store = evaluation_store(&runtime, &limits);
        let instance = instantiate(&runtime, &mut store, &two_memories).expect("instantiate");
        // 10 pages are 62.5 % of the limit: fine for one memory ...
        assert_eq!(call(&mut store, &instance, "grow0", 10).expect("grow0"), 0);
        assert_eq!(store.data().limiter.hit, None);
        // ... but not for the second as well: the limit is for both together.
        let error = error_text(call(&mut store, &instance, "grow1", 10));
        assert!(
            error.contains("memory limit of 1048576 bytes exceeded"),
            "{error}"
        );
        assert_eq!(store.data().limiter.hit, Some(LimitHit::Memory(16 * PAGE)));

        // What is left is usable: 10 + 6 pages is exactly the limit.
        let mut store = evaluation_store(&runtime, &limits);
        let instance = instantiate(&runtime, &mut store, &two_memories).expect("instantiate");
        assert_eq!(call(&mut store, &instance, "grow0", 10).expect("grow0"), 0);
        assert_eq!(call(&mut store, &instance, "grow1", 6).expect("grow1"), 0);
        assert_eq!(store.data().limiter.hit, None);
        assert!(call(&mut store, &instance, "grow1", 1).is_err());
        assert_eq!(store.data().limiter.hit, Some(LimitHit::Memory(16 * PAGE)));
    }

    #[test]
    fn memories_of_several_instances_share_the_memory_limit() {
        // The limit is per evaluation (store), not per module or instance:
        // two instances with a 10-page memory each do not fit in 16 pages.
        let limits = one_mib();
        let runtime = runtime_with(&limits);
        let ten_pages = Shape {
            memories: vec![10],
            ..Shape::default()
        };
        let mut store = evaluation_store(&runtime, &limits);
        instantiate(&runtime, &mut store, &ten_pages).expect("the first fits");
        let error = error_text(instantiate(&runtime, &mut store, &ten_pages));
        assert!(
            error.contains("memory limit of 1048576 bytes exceeded"),
            "{error}"
        );
        assert_eq!(store.data().limiter.hit, Some(LimitHit::Memory(16 * PAGE)));
        // A fresh evaluation starts from nothing.
        let mut store = evaluation_store(&runtime, &limits);
        instantiate(&runtime, &mut store, &ten_pages).expect("a new store has room");
    }

    #[test]
    fn a_table_growing_past_its_element_cap_traps() {
        // The default cap, 200,000 elements per table.
        let limits = Limits::default();
        let runtime = runtime_with(&limits);
        let one_table = Shape {
            tables: vec![0],
            ..Shape::default()
        };
        let mut store = evaluation_store(&runtime, &limits);
        let instance = instantiate(&runtime, &mut store, &one_table).expect("instantiate");
        assert_eq!(
            call(&mut store, &instance, "table-grow0", 200_000).expect("up to the cap"),
            0
        );
        assert_eq!(store.data().limiter.hit, None);
        let error = error_text(call(&mut store, &instance, "table-grow0", 1));
        assert!(
            error.contains("table limit of 200000 elements exceeded"),
            "{error}"
        );
        assert_eq!(
            store.data().limiter.hit,
            Some(LimitHit::TableElements(200_000))
        );

        // A table declared larger than the cap is refused outright.
        let mut store = evaluation_store(&runtime, &limits);
        let too_big = Shape {
            tables: vec![200_001],
            ..Shape::default()
        };
        let error = error_text(instantiate(&runtime, &mut store, &too_big));
        assert!(
            error.contains("minimum element size of 200001 which exceeds the limit of 200000"),
            "{error}"
        );
    }

    #[test]
    fn an_evaluation_store_refuses_instances_memories_and_tables_past_its_caps() {
        let limits = Limits {
            instances: 10,
            memories: 3,
            tables: 3,
            ..Limits::default()
        };
        let runtime = runtime_with(&limits);
        let cases = [
            ("instance", Shape::default(), 10),
            (
                "memory",
                Shape {
                    memories: vec![1],
                    ..Shape::default()
                },
                3,
            ),
            (
                "table",
                Shape {
                    tables: vec![1],
                    ..Shape::default()
                },
                3,
            ),
        ];
        for (what, shape, cap) in cases {
            let mut store = evaluation_store(&runtime, &limits);
            for n in 1..=cap {
                instantiate(&runtime, &mut store, &shape)
                    .unwrap_or_else(|e| panic!("{what} {n} of {cap}: {e:#}"));
            }
            let error = error_text(instantiate(&runtime, &mut store, &shape));
            assert!(
                error.contains(&format!("{what} count too high at {}", cap + 1)),
                "{what}: {error}"
            );
        }
    }

    /// A component of `copies` core instances of one module of `shape`,
    /// with no imports or exports.
    fn component_of(shape: &Shape, copies: u32) -> Vec<u8> {
        let mut component = ComponentBuilder::default();
        let module = component.core_module(None, &core_module(shape));
        for _ in 0..copies {
            component.core_instantiate(None, module, std::iter::empty::<(&str, ModuleArg)>());
        }
        component.finish()
    }

    #[test]
    fn a_component_past_the_default_count_caps_is_refused_when_loaded() {
        // The defaults: 100 core instances, 100 memories, 100 tables.
        let runtime = runtime_with(&Limits::default());
        let with_memories = Shape {
            memories: vec![0, 0],
            ..Shape::default()
        };
        let with_tables = Shape {
            tables: vec![0, 0],
            ..Shape::default()
        };
        let cases = [
            (Shape::default(), 100, 101, "101 core module instances"),
            (with_memories, 50, 51, "102 Wasm linear memories"),
            (with_tables, 50, 51, "102 tables"),
        ];
        for (shape, fits, too_many, named) in cases {
            Component::new(runtime.engine(), component_of(&shape, fits))
                .unwrap_or_else(|e| panic!("{fits} copies fit: {e:#}"));
            let err =
                match runtime.load_bytes(Path::new("caps.wasm"), &component_of(&shape, too_many)) {
                    Ok(_) => panic!("{named}: loaded"),
                    Err(err) => err,
                };
            let message = err.to_string();
            assert!(matches!(err.kind, LoadErrorKind::Compile(_)), "{message}");
            assert!(
                message.contains(named)
                    && message.contains("exceeds the configured maximum of 100"),
                "{message}"
            );
        }
    }

    // ---- the code-size pre-check ----

    /// A component wrapping one core module with `size` bytes of code, as
    /// the pre-check counts it (the code section after its function count):
    /// one function of `nop`s.
    fn component_with_code_section(size: u64) -> Vec<u8> {
        // The body's size (a 4-byte LEB128 at these sizes), then the body:
        // no locals (1 byte), the nops, `end` (1 byte).
        let size = usize::try_from(size).expect("fits");
        let mut body = vec![0x00u8];
        body.resize(size - 4 - 1, 0x01);
        body.push(0x0b);
        let mut types = TypeSection::new();
        types.ty().function([], []);
        let mut funcs = FunctionSection::new();
        funcs.function(0);
        let mut code = CodeSection::new();
        code.raw(&body);
        let mut module = Module::new();
        module.section(&types).section(&funcs).section(&code);
        let mut component = wasm_encoder::Component::new();
        component.section(&wasm_encoder::ModuleSection(&module));
        let bytes = component.finish();
        // The construction is what the test claims it is.
        let code_size = wasmparser::Parser::new(0)
            .parse_all(&bytes)
            .find_map(|payload| match payload {
                Ok(wasmparser::Payload::CodeSectionStart { size, .. }) => Some(size),
                _ => None,
            });
        assert_eq!(code_size.map(u64::from), Some(size as u64));
        bytes
    }

    #[test]
    fn code_past_64_mib_is_refused_before_compiling() {
        let over = component_with_code_section(MAX_CODE_BYTES + 1);
        assert!(matches!(
            check_code_size(&over),
            Err(LoadErrorKind::TooLarge(_))
        ));
        // Through the real load path: refused by the pre-check (`TooLarge`),
        // not by the compiler (which would report `Compile` or succeed).
        let runtime = runtime_with(&Limits::default());
        let err = match runtime.load_bytes(Path::new("big.wasm"), &over) {
            Ok(_) => panic!("a module with more than 64 MiB of code loaded"),
            Err(err) => err,
        };
        let message = err.to_string();
        assert!(matches!(err.kind, LoadErrorKind::TooLarge(_)), "{message}");
        assert!(
            message.contains("1 functions and 67108865 bytes of code")
                && message.contains("at most 50000 functions and 64 MiB of code"),
            "{message}"
        );
    }

    #[test]
    fn code_of_exactly_64_mib_passes_the_pre_check() {
        let at_limit = component_with_code_section(MAX_CODE_BYTES);
        assert!(check_code_size(&at_limit).is_ok());
    }

    #[test]
    fn headers_are_classified() {
        assert!(matches!(check_header(b""), Err(LoadErrorKind::Empty)));
        assert!(matches!(
            check_header(b"hello"),
            Err(LoadErrorKind::NotWasm)
        ));
        assert!(matches!(
            check_header(b"  (module)"),
            Err(LoadErrorKind::WasmText)
        ));
        assert!(matches!(
            check_header(b"\0asm\x01\0\0\0"),
            Err(LoadErrorKind::CoreModule)
        ));
        assert!(check_header(b"\0asm\x0d\0\x01\0").is_ok());
        assert!(matches!(
            check_header(b"\0asm\x0d"),
            Err(LoadErrorKind::Compile(_))
        ));
        assert!(matches!(
            check_header(b"\0asm\x02\0\0\0"),
            Err(LoadErrorKind::UnknownVersion(2))
        ));
    }
}
