//! `gatehouse cache prune`: removes what this engine will never read.

use super::store::{CacheDirs, CacheError, LAYOUT_DIR};
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};
use wasmtime::Engine;

/// Temporary files younger than this may belong to a write in progress.
const TEMP_FILE_AGE: Duration = Duration::from_secs(3600);

/// What `prune` removed and kept.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct PruneSummary {
    /// Files removed.
    pub removed_files: u64,
    /// Bytes freed.
    pub removed_bytes: u64,
    /// Entries kept.
    pub kept: u64,
}

impl PruneSummary {
    fn add_file(&mut self, path: &Path) -> std::io::Result<()> {
        let size = std::fs::symlink_metadata(path)
            .map(|m| m.len())
            .unwrap_or(0);
        std::fs::remove_file(path)?;
        self.removed_files += 1;
        self.removed_bytes += size;
        Ok(())
    }

    fn add_tree(&mut self, dir: &Path) -> std::io::Result<()> {
        for entry in read_dir_entries(dir)? {
            let meta = std::fs::symlink_metadata(&entry)?;
            if meta.is_dir() {
                self.add_tree(&entry)?;
            } else {
                self.add_file(&entry)?;
            }
        }
        std::fs::remove_dir(dir)
    }
}

/// Removes from the cache in `root` what `engine` will never read: entries
/// of other engine configurations or layouts (older gatehouse or wasmtime
/// versions, unauthenticated format 1 entries), this engine's entries not
/// used for `max_age`, and temporary files of interrupted writes. Needs no
/// key: it reads no entry. The directory is checked like [`CompileCache::open`].
pub fn prune(root: &Path, engine: &Engine, max_age: Duration) -> Result<PruneSummary, CacheError> {
    let dirs = CacheDirs::open(root, engine)?;
    remove_unused(&dirs.root, LAYOUT_DIR, &dirs.engine_dir, max_age).map_err(|e| {
        CacheError::Directory {
            dir: root.to_path_buf(),
            message: format!("cannot prune it: {e}"),
        }
    })
}

/// Removes, under the cache `root`: other layouts (`v<N>` directories other
/// than `layout_dir`, e.g. the unauthenticated format 1), other engines'
/// directories of this layout, entries of `engine_dir` not used for
/// `max_age`, and temporary files of interrupted writes. Files it does not
/// recognise are left alone.
fn remove_unused(
    root: &Path,
    layout_dir: &str,
    engine_dir: &Path,
    max_age: Duration,
) -> std::io::Result<PruneSummary> {
    let mut summary = PruneSummary::default();
    let now = SystemTime::now();
    let older_than = |path: &Path, age: Duration| {
        std::fs::metadata(path)
            .and_then(|m| m.modified())
            .map(|t| now.duration_since(t).unwrap_or_default() > age)
            .unwrap_or(true)
    };
    for layout in read_dir_entries(root)? {
        if !layout.is_dir() {
            continue;
        }
        let name = layout.file_name().and_then(|n| n.to_str()).unwrap_or("");
        if name != layout_dir {
            // Only remove directories that look like ours (`v<N>`).
            if is_layout_name(name) {
                summary.add_tree(&layout)?;
            }
            continue;
        }
        for engine in read_dir_entries(&layout)? {
            if !engine.is_dir() {
                continue;
            }
            if engine != engine_dir {
                summary.add_tree(&engine)?;
                continue;
            }
            for entry in read_dir_entries(&engine)? {
                let temporary = entry
                    .file_name()
                    .and_then(|n| n.to_str())
                    .is_some_and(|n| n.starts_with(".tmp-"));
                let remove = if temporary {
                    older_than(&entry, TEMP_FILE_AGE)
                } else {
                    older_than(&entry, max_age)
                };
                if remove {
                    summary.add_file(&entry)?;
                } else {
                    summary.kept += 1;
                }
            }
        }
    }
    Ok(summary)
}

fn is_layout_name(name: &str) -> bool {
    name.strip_prefix('v')
        .is_some_and(|n| !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()))
}

/// The paths in `dir`, sorted.
pub fn read_dir_entries(dir: &Path) -> std::io::Result<Vec<PathBuf>> {
    let mut paths = Vec::new();
    for entry in std::fs::read_dir(dir)? {
        paths.push(entry?.path());
    }
    paths.sort();
    Ok(paths)
}
