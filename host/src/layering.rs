//! The layering rule, checked: imports between modules flow one way. For
//! every module, its submodules' uses of one another (collapsed to the
//! submodule they lie in: `runtime::cache::key` counts as `runtime::cache`)
//! form no cycle; the same holds for the crate's top-level modules. A module
//! and its own submodules are one unit (a `mod.rs` re-exporting its
//! children, and children using their parent's items, is not a cycle).
//! docs/architecture.md describes the resulting layers.
//!
//! The check reads the sources: every `crate::`, `super::` and `self::`
//! path outside comments, string literals and `#[cfg(test)]` items (tests
//! may reach anywhere), resolved through `pub use` re-exports to the module
//! that defines the item.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// A module path inside the crate: `["runtime", "cache"]`; the root is `[]`.
type ModPath = Vec<String>;

/// One use of another module, for the failure message.
#[derive(Debug, Clone)]
struct Use {
    from: ModPath,
    to: ModPath,
    text: String,
}

/// Every module of the crate, by path, with its file.
fn modules(src: &Path) -> BTreeMap<ModPath, PathBuf> {
    let mut found = BTreeMap::new();
    let mut stack = vec![src.to_path_buf()];
    while let Some(dir) = stack.pop() {
        let entries = std::fs::read_dir(&dir).expect("read the source directory");
        for entry in entries {
            let path = entry.expect("directory entry").path();
            if path.is_dir() {
                stack.push(path);
                continue;
            }
            if path.extension().is_none_or(|e| e != "rs") {
                continue;
            }
            let relative = path.strip_prefix(src).expect("inside src");
            let mut parts: ModPath = relative
                .with_extension("")
                .iter()
                .map(|p| p.to_string_lossy().into_owned())
                .collect();
            if matches!(parts.last().map(String::as_str), Some("mod" | "lib")) {
                parts.pop();
            }
            found.insert(parts, path);
        }
    }
    found
}

/// The source without comments, with string and char literals emptied (so
/// braces and `crate::` inside them do not count).
fn strip(source: &str) -> String {
    let bytes = source.as_bytes();
    let mut out = String::with_capacity(source.len());
    let mut i = 0;
    while i < bytes.len() {
        let rest = &source[i..];
        if rest.starts_with("//") {
            i += rest.find('\n').unwrap_or(rest.len());
        } else if rest.starts_with("/*") {
            i += rest.find("*/").map_or(rest.len(), |end| end + 2);
        } else if let Some(len) = raw_string_len(rest, i == 0 || !is_ident(bytes[i - 1])) {
            out.push_str("\"\"");
            i += len;
        } else if bytes[i] == b'"' {
            let mut j = i + 1;
            while j < bytes.len() && bytes[j] != b'"' {
                j += if bytes[j] == b'\\' { 2 } else { 1 };
            }
            out.push_str("\"\"");
            i = j + 1;
        } else if let Some(len) = char_literal_len(rest) {
            out.push_str("' '");
            i += len;
        } else {
            let c = rest.chars().next().expect("not at the end");
            out.push(c);
            i += c.len_utf8();
        }
    }
    out
}

fn is_ident(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'_'
}

/// The length of a raw string literal (`r"…"`, `r#"…"#`, `br"…"`) at the
/// start of `text`, if there is one.
fn raw_string_len(text: &str, at_token_start: bool) -> Option<usize> {
    if !at_token_start {
        return None;
    }
    let after_b = text.strip_prefix('b').unwrap_or(text);
    let after_r = after_b.strip_prefix('r')?;
    let hashes = after_r.len() - after_r.trim_start_matches('#').len();
    let body = after_r[hashes..].strip_prefix('"')?;
    let closing = format!("\"{}", "#".repeat(hashes));
    let end = body.find(&closing)?;
    Some(text.len() - body.len() + end + closing.len())
}

/// The length of a char literal (`'a'`, `'\n'`, `'{'`, `'\u{7b}'`) at the
/// start of `text`; `None` for a lifetime.
fn char_literal_len(text: &str) -> Option<usize> {
    let body = text.strip_prefix('\'')?;
    if let Some(escaped) = body.strip_prefix('\\') {
        let end = escaped.find('\'')?;
        return (end <= 10).then_some(end + 3);
    }
    let c = body.chars().next()?;
    body[c.len_utf8()..]
        .starts_with('\'')
        .then_some(c.len_utf8() + 2)
}

/// The index just past the brace group that opens at `open`.
fn matching_brace(text: &[u8], open: usize) -> usize {
    let mut depth = 0usize;
    for (i, b) in text.iter().enumerate().skip(open) {
        match b {
            b'{' => depth += 1,
            b'}' => {
                depth -= 1;
                if depth == 0 {
                    return i + 1;
                }
            }
            _ => {}
        }
    }
    text.len()
}

/// The stripped source without its `#[cfg(test)]` items.
fn without_tests(mut text: String) -> String {
    const ATTR: &str = "#[cfg(test)]";
    while let Some(at) = text.find(ATTR) {
        let after = at + ATTR.len();
        let brace = text[after..].find('{').map(|i| after + i);
        let semi = text[after..].find(';').map(|i| after + i);
        let end = match (brace, semi) {
            (Some(b), Some(s)) if s < b => s + 1,
            (Some(b), _) => matching_brace(text.as_bytes(), b),
            (None, Some(s)) => s + 1,
            (None, None) => text.len(),
        };
        text.replace_range(at..end, "");
    }
    text
}

/// Every `crate::…`, `super::…` or `self::…` path in `text`, with `use`
/// groups (`super::{a, b::c}`) expanded.
fn paths(text: &str) -> Vec<String> {
    let bytes = text.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        let starts = ["crate::", "super::", "self::"]
            .iter()
            .any(|p| text[i..].starts_with(p));
        if !starts || (i > 0 && (is_ident(bytes[i - 1]) || bytes[i - 1] == b':')) {
            i += 1;
            continue;
        }
        let mut end = i;
        while end < bytes.len() && (is_ident(bytes[end]) || bytes[end] == b':') {
            end += 1;
        }
        let prefix = text[i..end].trim_end_matches(':').to_string();
        if end < bytes.len() && bytes[end] == b'{' && text[i..end].ends_with("::") {
            let close = matching_brace(bytes, end);
            for item in split_group(&text[end + 1..close - 1]) {
                out.push(format!("{prefix}::{item}"));
            }
            i = close;
        } else {
            out.push(prefix);
            i = end;
        }
    }
    out
}

/// The items of a `use` group, one level deep: `a, b::c, d::{e, f}` gives
/// `a`, `b::c`, `d::e`, `d::f`; `self` and `*` are dropped.
fn split_group(group: &str) -> Vec<String> {
    let mut items = Vec::new();
    let (mut depth, mut start) = (0usize, 0usize);
    let bytes = group.as_bytes();
    for i in 0..=bytes.len() {
        match bytes.get(i) {
            Some(b'{') => depth += 1,
            Some(b'}') => depth -= 1,
            Some(b',') | None if depth == 0 => {
                let item = group[start..i].trim();
                start = i + 1;
                if let Some((head, inner)) = item.split_once('{') {
                    let head = head.trim().trim_end_matches(':');
                    for sub in split_group(inner.trim_end_matches('}')) {
                        items.push(format!("{head}::{sub}"));
                    }
                } else if !item.is_empty() {
                    items.push(item.split_whitespace().next().unwrap_or("").to_string());
                }
            }
            _ => {}
        }
    }
    items.retain(|i| !i.is_empty() && i != "self" && i != "*");
    items
}

/// `path` made absolute from module `at`; `None` for paths outside the crate.
fn absolute(at: &ModPath, path: &str) -> Option<ModPath> {
    let mut parts = path.split("::").filter(|p| !p.is_empty());
    let mut base = match parts.next()? {
        "crate" => Vec::new(),
        "self" => at.clone(),
        "super" => at[..at.len().checked_sub(1)?].to_vec(),
        _ => return None,
    };
    for part in parts {
        if part == "super" {
            base.pop();
        } else {
            base.push(part.to_string());
        }
    }
    Some(base)
}

/// The re-exports of each module: (module, name) → the absolute path it
/// names.
fn reexports(sources: &BTreeMap<ModPath, String>) -> BTreeMap<(ModPath, String), ModPath> {
    let mut out = BTreeMap::new();
    for (module, text) in sources {
        let mut rest = text.as_str();
        while let Some(at) = rest.find("use ") {
            let before = rest[..at].trim_end();
            let public = ["pub", "pub(crate)", "pub(super)"]
                .iter()
                .any(|p| before.ends_with(p));
            let end = rest[at..].find(';').map_or(rest.len(), |e| at + e);
            let statement = rest[at + 4..end].trim().to_string();
            rest = &rest[end.min(rest.len())..];
            if !public {
                continue;
            }
            let statement = if statement.starts_with("crate::")
                || statement.starts_with("super::")
                || statement.starts_with("self::")
            {
                statement
            } else {
                format!("self::{statement}")
            };
            for path in paths(&statement) {
                let Some(target) = absolute(module, &path) else {
                    continue;
                };
                if let Some(name) = target.last() {
                    out.insert((module.clone(), name.clone()), target);
                }
            }
            for (original, alias) in renamed(&statement) {
                if let Some(target) = absolute(module, &original) {
                    out.insert((module.clone(), alias), target);
                }
            }
        }
    }
    out
}

/// `a::b as c` inside a `use` statement: (`prefix::a::b`, `c`).
fn renamed(statement: &str) -> Vec<(String, String)> {
    let mut out = Vec::new();
    let prefix = statement.split('{').next().unwrap_or("");
    let inner = statement
        .split_once('{')
        .map_or(statement, |(_, rest)| rest.trim_end_matches('}'));
    for item in inner.split(',') {
        if let Some((original, alias)) = item.split_once(" as ") {
            let original = original.trim();
            let path = if prefix.ends_with("::") {
                format!("{prefix}{original}")
            } else {
                original.to_string()
            };
            out.push((path, alias.trim().to_string()));
        }
    }
    out
}

/// The module that defines what `path` names: the longest prefix that is
/// a module, following re-exports.
fn defining_module(
    path: &ModPath,
    modules: &BTreeMap<ModPath, PathBuf>,
    reexports: &BTreeMap<(ModPath, String), ModPath>,
) -> ModPath {
    let mut path = path.clone();
    for _ in 0..16 {
        let mut module = path.clone();
        while !modules.contains_key(&module) {
            module.pop();
        }
        let Some(next) = path.get(module.len()) else {
            return module;
        };
        match reexports.get(&(module.clone(), next.clone())) {
            Some(target) if target != &path[..=module.len()] => {
                let mut followed = target.clone();
                followed.extend_from_slice(&path[module.len() + 1..]);
                path = followed;
            }
            _ => return module,
        }
    }
    path
}

/// Every use of one module by another that is neither its ancestor nor
/// its descendant.
fn uses() -> Vec<Use> {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let modules = modules(&src);
    let sources: BTreeMap<ModPath, String> = modules
        .iter()
        .map(|(m, file)| {
            let text = std::fs::read_to_string(file).expect("read a source file");
            (m.clone(), without_tests(strip(&text)))
        })
        .collect();
    let reexports = reexports(&sources);
    let mut out = Vec::new();
    for (module, text) in &sources {
        for path in paths(text) {
            let Some(target) = absolute(module, &path) else {
                continue;
            };
            let to = defining_module(&target, &modules, &reexports);
            if to.starts_with(module) || module.starts_with(&to) {
                continue;
            }
            out.push(Use {
                from: module.clone(),
                to,
                text: path,
            });
        }
    }
    out
}

/// The cycles among the children of each module: (parent, the cycle's
/// members, the uses that make it).
fn cycles(uses: &[Use]) -> Vec<(ModPath, Vec<ModPath>, Vec<Use>)> {
    // parent → child → children it uses, with the uses behind each edge.
    let mut graphs: BTreeMap<ModPath, BTreeMap<ModPath, BTreeSet<ModPath>>> = BTreeMap::new();
    let mut behind: BTreeMap<(ModPath, ModPath), Vec<Use>> = BTreeMap::new();
    for u in uses {
        let common = u.from.iter().zip(&u.to).take_while(|(a, b)| a == b).count();
        let parent = u.from[..common].to_vec();
        let (a, b) = (u.from[..=common].to_vec(), u.to[..=common].to_vec());
        graphs
            .entry(parent)
            .or_default()
            .entry(a.clone())
            .or_default()
            .insert(b.clone());
        behind.entry((a, b)).or_default().push(u.clone());
    }
    let mut found = Vec::new();
    for (parent, graph) in &graphs {
        for component in strongly_connected(graph) {
            let members: BTreeSet<&ModPath> = component.iter().collect();
            let edges = component
                .iter()
                .flat_map(|a| graph.get(a).into_iter().flatten().map(move |b| (a, b)))
                .filter(|(_, b)| members.contains(b))
                .flat_map(|(a, b)| behind[&(a.clone(), b.clone())].clone())
                .collect();
            found.push((parent.clone(), component, edges));
        }
    }
    found
}

/// The strongly connected components of more than one node (Tarjan).
fn strongly_connected(graph: &BTreeMap<ModPath, BTreeSet<ModPath>>) -> Vec<Vec<ModPath>> {
    struct State<'a> {
        graph: &'a BTreeMap<ModPath, BTreeSet<ModPath>>,
        index: BTreeMap<&'a ModPath, usize>,
        low: BTreeMap<&'a ModPath, usize>,
        stack: Vec<&'a ModPath>,
        out: Vec<Vec<ModPath>>,
    }
    fn visit<'a>(s: &mut State<'a>, v: &'a ModPath) {
        let n = s.index.len();
        s.index.insert(v, n);
        s.low.insert(v, n);
        s.stack.push(v);
        for w in s.graph.get(v).into_iter().flatten() {
            if !s.index.contains_key(w) {
                visit(s, w);
                let low = s.low[v].min(s.low[w]);
                s.low.insert(v, low);
            } else if s.stack.contains(&w) {
                let low = s.low[v].min(s.index[w]);
                s.low.insert(v, low);
            }
        }
        if s.low[v] == s.index[v] {
            let mut component = Vec::new();
            while let Some(w) = s.stack.pop() {
                component.push(w.clone());
                if w == v {
                    break;
                }
            }
            if component.len() > 1 {
                component.sort();
                s.out.push(component);
            }
        }
    }
    let mut state = State {
        graph,
        index: BTreeMap::new(),
        low: BTreeMap::new(),
        stack: Vec::new(),
        out: Vec::new(),
    };
    let nodes: BTreeSet<&ModPath> = graph.keys().chain(graph.values().flatten()).collect();
    for v in nodes {
        if !state.index.contains_key(v) {
            visit(&mut state, v);
        }
    }
    state.out
}

fn show(path: &ModPath) -> String {
    if path.is_empty() {
        "the crate".to_string()
    } else {
        path.join("::")
    }
}

#[test]
fn imports_between_modules_flow_one_way() {
    let uses = uses();
    assert!(
        uses.len() > 100,
        "only {} uses between modules found: the source scan is broken",
        uses.len()
    );
    let problems: Vec<String> = cycles(&uses)
        .into_iter()
        .map(|(parent, members, edges)| {
            let names: Vec<String> = members.iter().map(show).collect();
            let edges: Vec<String> = edges
                .iter()
                .map(|u| format!("  {} uses {} ({})", show(&u.from), show(&u.to), u.text))
                .collect();
            format!(
                "in {}: {} import each other:\n{}",
                show(&parent),
                names.join(", "),
                edges.join("\n")
            )
        })
        .collect();
    assert!(
        problems.is_empty(),
        "modules that import one another (move the shared item down a layer; docs/architecture.md):\n{}",
        problems.join("\n")
    );
}

#[test]
fn the_scan_sees_uses_and_cycles() {
    // The scanner on known text: a cycle between two siblings is found,
    // whatever form the paths take; tests, comments and strings do not count.
    let a: ModPath = vec!["m".into(), "a".into()];
    let b: ModPath = vec!["m".into(), "b".into()];
    let text = without_tests(strip(
        "use super::{b::{X, Y as Z}, c};\n// crate::m::d\nlet s = \"crate::m::e\";\nlet c = '{';\n#[cfg(test)]\nmod tests { use crate::m::f; }\nfn g() { crate::h::i(); }",
    ));
    assert_eq!(
        paths(&text),
        ["super::b::X", "super::b::Y", "super::c", "crate::h::i"]
    );
    assert_eq!(
        absolute(&a, "super::b::X"),
        Some(vec!["m".into(), "b".into(), "X".into()])
    );
    let uses = vec![
        Use {
            from: a.clone(),
            to: b.clone(),
            text: "super::b::X".into(),
        },
        Use {
            from: vec!["m".into(), "b".into(), "inner".into()],
            to: a.clone(),
            text: "crate::m::a::Y".into(),
        },
    ];
    let found = cycles(&uses);
    assert_eq!(found.len(), 1, "{found:?}");
    assert_eq!(found[0].0, vec!["m".to_string()]);
    assert_eq!(found[0].1, vec![a, b]);
    assert!(cycles(&uses[..1]).is_empty());
}
