//! The one way to make a [`Runtime`]: [`Runtime::builder`] and
//! [`RuntimeBuilder`]. Every choice is explicit and nothing is read from
//! process-wide state: a runtime has no compile cache unless the builder was
//! given one, and its warnings go only where [`RuntimeBuilder::on_warning`]
//! says (they are also returned: [`Runtime::cache_warning`] and each
//! policy's [`super::CompileInfo::warning`]).

use super::cache::{CacheSetting, KeySource};
use super::engine::{Runtime, WarningSink};
use super::limits::Limits;
use crate::error::EngineError;
use std::sync::Arc;

impl Runtime {
    /// A builder with the defaults: [`Limits::default`], no compile cache,
    /// warnings returned but not sent anywhere ([`RuntimeBuilder`]).
    pub fn builder() -> RuntimeBuilder {
        RuntimeBuilder::default()
    }
}

/// Configures and builds a [`Runtime`]: the sandbox limits its engine is
/// sized for, the compile cache (none by default), the key that
/// authenticates the cache's entries, and where warnings go (nowhere by
/// default). Cheap to clone: a front-end keeps one configured from its own
/// settings and builds a runtime from it per request.
///
/// # Example
///
/// A runtime with the default limits and no compile cache, loading and
/// evaluating a policy (the example is not run: compiling a policy takes
/// seconds):
///
/// ```no_run
/// use gatehouse_core::release::{InputOptions, read_release};
/// use gatehouse_core::runtime::{Grants, Limits, RunOptions, Runtime};
/// use std::path::Path;
///
/// # fn main() -> Result<(), Box<dyn std::error::Error>> {
/// let runtime = Runtime::builder().limits(&Limits::default()).build()?;
/// let policy = runtime.load(Path::new("policy.wasm"))?;
///
/// let input = br#"{"environmentName": "prod", "releaseStream": "main", "resources": []}"#;
/// let (release, _warnings) = read_release(input, "release.json", &InputOptions::default())?;
/// let options = RunOptions::new(0, Limits::default(), Grants::default())
///     .with_release_digest(release.digest());
/// let run = policy.evaluate(&release, &[], &options)?;
/// println!("{}", run.decision.verdict.as_str());
/// # Ok(())
/// # }
/// ```
///
/// With a compile cache in a directory of this user's, the user's default
/// cache key, and warnings on stderr:
///
/// ```no_run
/// use gatehouse_core::runtime::Runtime;
/// use gatehouse_core::runtime::cache::{CacheSetting, KeySource};
///
/// # fn main() -> Result<(), gatehouse_core::error::EngineError> {
/// let runtime = Runtime::builder()
///     .cache(CacheSetting::Dir("/var/cache/gatehouse".into()))
///     .cache_key(KeySource::Default)
///     .on_warning(|warning| eprintln!("warning: {warning}"))
///     .build()?;
/// assert!(runtime.cache().is_some() || runtime.cache_warning().is_some());
/// # Ok(())
/// # }
/// ```
#[derive(Clone, Default)]
pub struct RuntimeBuilder {
    limits: Limits,
    cache: CacheSetting,
    key: KeySource,
    on_warning: Option<WarningSink>,
    on_notice: Option<WarningSink>,
}

impl std::fmt::Debug for RuntimeBuilder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RuntimeBuilder")
            .field("limits", &self.limits)
            .field("cache", &self.cache)
            .field("key", &self.key)
            .field("on_warning", &self.on_warning.is_some())
            .field("on_notice", &self.on_notice.is_some())
            .finish()
    }
}

impl RuntimeBuilder {
    /// The largest limits any policy evaluated by this runtime gets: the
    /// engine's allocation pool is sized from them (default:
    /// [`Limits::default`]). Each evaluation still runs under its own
    /// [`super::RunOptions`] limits.
    pub fn limits(mut self, limits: &Limits) -> Self {
        self.limits = limits.clone();
        self
    }

    /// The compile cache (default: [`CacheSetting::Disabled`]). A cache that
    /// cannot be used is not an error: policies are compiled, and
    /// [`Runtime::cache_warning`] says why.
    pub fn cache(mut self, setting: CacheSetting) -> Self {
        self.cache = setting;
        self
    }

    /// The key that authenticates the compile cache's entries (default:
    /// [`KeySource::Default`], this user's key, created on first use).
    /// Read when the runtime is built, only if there is a cache.
    pub fn cache_key(mut self, source: KeySource) -> Self {
        self.key = source;
        self
    }

    /// Sends every warning to `sink` as it happens: a cache that cannot be
    /// used (when the runtime is built), an entry refused and replaced or
    /// not written (when a policy is loaded, prefixed with its path).
    /// Without it, warnings are only returned.
    pub fn on_warning(mut self, sink: impl Fn(&str) + Send + Sync + 'static) -> Self {
        self.on_warning = Some(Arc::new(sink));
        self
    }

    /// Sends a progress notice to `sink` just before a policy of at least
    /// [`super::engine::SLOW_COMPILE_BYTES`] is compiled (a compile cache
    /// miss, or no cache): [`super::engine::compile_notice`]. A cache hit,
    /// or a smaller policy, sends nothing. Without it, nothing is sent.
    pub fn on_notice(mut self, sink: impl Fn(&str) + Send + Sync + 'static) -> Self {
        self.on_notice = Some(Arc::new(sink));
        self
    }

    /// The compile cache this builder was given.
    pub fn cache_setting(&self) -> &CacheSetting {
        &self.cache
    }

    /// The cache key source this builder was given.
    pub fn key_source(&self) -> &KeySource {
        &self.key
    }

    /// Builds the runtime: the engine (fuel metering and epoch interruption
    /// on, the pooling allocator sized from the limits), its epoch ticker
    /// thread, the linker, and the compile cache. Fails only when the
    /// engine cannot start.
    pub fn build(&self) -> Result<Runtime, EngineError> {
        let runtime = Runtime::start(
            &self.limits,
            &self.cache,
            &self.key,
            self.on_warning.clone(),
            self.on_notice.clone(),
        )
        .map_err(|e| EngineError::new(super::errors::first_line(&e)))?;
        if let Some(warning) = runtime.cache_warning() {
            runtime.warn(warning);
        }
        Ok(runtime)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Mutex;

    #[test]
    fn a_runtime_has_no_cache_unless_asked() {
        let runtime = Runtime::builder().build().expect("runtime");
        assert!(runtime.cache().is_none());
        assert_eq!(runtime.cache_warning(), None);
    }

    #[test]
    fn cache_warnings_go_where_the_builder_says() {
        // A directory others may write is refused: the runtime compiles
        // without a cache, returns the warning and sends it to the sink.
        let dir = tempfile::tempdir().expect("dir");
        let keys = tempfile::tempdir().expect("keys");
        let key = keys.path().join("key");
        std::fs::write(&key, format!("{}\n", hex::encode([7u8; 32]))).expect("key");
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(&key, std::fs::Permissions::from_mode(0o600))
                .expect("chmod key");
            std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o777))
                .expect("chmod dir");
        }
        let seen = Arc::new(Mutex::new(Vec::<String>::new()));
        let sink = Arc::clone(&seen);
        let builder = Runtime::builder()
            .cache(CacheSetting::Dir(dir.path().to_path_buf()))
            .cache_key(KeySource::File {
                path: key,
                origin: "a test",
            });
        let quiet = builder.build().expect("runtime");
        assert!(quiet.cache().is_none());
        let warning = quiet.cache_warning().expect("a warning").to_string();
        assert!(warning.contains("compiling without a cache"), "{warning}");

        let loud = builder
            .on_warning(move |w| sink.lock().expect("lock").push(w.to_string()))
            .build()
            .expect("runtime");
        assert_eq!(loud.cache_warning(), Some(warning.as_str()));
        assert_eq!(*seen.lock().expect("lock"), vec![warning]);
    }

    #[test]
    fn a_usable_cache_directory_and_key_give_a_cache() {
        let dir = tempfile::tempdir().expect("dir");
        let keys = tempfile::tempdir().expect("keys");
        let key = keys.path().join("key");
        std::fs::write(&key, format!("{}\n", hex::encode([9u8; 32]))).expect("key");
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(&key, std::fs::Permissions::from_mode(0o600))
                .expect("chmod key");
            std::fs::set_permissions(keys.path(), std::fs::Permissions::from_mode(0o700))
                .expect("chmod keys");
            std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o700))
                .expect("chmod dir");
        }
        let runtime = Runtime::builder()
            .cache(CacheSetting::Dir(dir.path().to_path_buf()))
            .cache_key(KeySource::File {
                path: key.clone(),
                origin: "a test",
            })
            .build()
            .expect("runtime");
        assert_eq!(runtime.cache_warning(), None);
        let cache = runtime.cache().expect("a cache");
        assert_eq!(cache.root(), dir.path());
        assert_eq!(cache.key().path(), key);
    }
}
