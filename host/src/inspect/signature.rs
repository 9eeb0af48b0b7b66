//! WIT-like text for the types of a compiled component's exports and the
//! functions of its imported interfaces, bounded in depth and length so a
//! hostile component cannot make the report unbounded.

use wasmtime::Engine;
use wasmtime::component::types::{ComponentFunc, ComponentItem, Type};

/// Longest signature printed; longer ones end in `…`.
const MAX_SIGNATURE_CHARS: usize = 400;
/// Deepest type nesting printed; deeper types print as `…`.
const MAX_DEPTH: usize = 6;

/// A one-line description of a component item: a function signature, or
/// the kind of item.
pub fn describe_item(engine: &Engine, item: &ComponentItem) -> String {
    let text = match item {
        ComponentItem::ComponentFunc(func) => func_signature(func),
        ComponentItem::CoreFunc(_) => "core func".to_string(),
        ComponentItem::Module(_) => "core module".to_string(),
        ComponentItem::Component(_) => "component".to_string(),
        ComponentItem::ComponentInstance(instance) => {
            format!("instance ({} items)", instance.exports(engine).len())
        }
        ComponentItem::Type(ty) => format!("type {}", render(ty, 0)),
        ComponentItem::Resource(_) => "resource".to_string(),
    };
    truncate(text)
}

/// The names of the functions an imported (or exported) instance holds, in
/// declaration order; empty for other items.
pub fn instance_functions(engine: &Engine, item: &ComponentItem) -> Vec<String> {
    match item {
        ComponentItem::ComponentInstance(instance) => instance
            .exports(engine)
            .filter(|(_, item)| matches!(item.ty, ComponentItem::ComponentFunc(_)))
            .map(|(name, _)| name.to_string())
            .collect(),
        _ => Vec::new(),
    }
}

/// `func(a: string) -> result<string, string>`.
fn func_signature(func: &ComponentFunc) -> String {
    let params: Vec<String> = func
        .params()
        .map(|(name, ty)| format!("{name}: {}", render(&ty, 1)))
        .collect();
    let results: Vec<String> = func.results().map(|ty| render(&ty, 1)).collect();
    let prefix = if func.async_() { "async func" } else { "func" };
    match results.as_slice() {
        [] => format!("{prefix}({})", params.join(", ")),
        [one] => format!("{prefix}({}) -> {one}", params.join(", ")),
        many => format!("{prefix}({}) -> ({})", params.join(", "), many.join(", ")),
    }
}

/// A type as WIT writes it; records, variants, enums and flags are spelled
/// out (the binary does not keep their WIT names).
fn render(ty: &Type, depth: usize) -> String {
    if depth > MAX_DEPTH {
        return "…".to_string();
    }
    let inner = |ty: &Type| render(ty, depth + 1);
    match ty {
        Type::Bool => "bool".into(),
        Type::S8 => "s8".into(),
        Type::U8 => "u8".into(),
        Type::S16 => "s16".into(),
        Type::U16 => "u16".into(),
        Type::S32 => "s32".into(),
        Type::U32 => "u32".into(),
        Type::S64 => "s64".into(),
        Type::U64 => "u64".into(),
        Type::Float32 => "f32".into(),
        Type::Float64 => "f64".into(),
        Type::Char => "char".into(),
        Type::String => "string".into(),
        Type::List(list) => format!("list<{}>", inner(&list.ty())),
        Type::Map(map) => format!("map<{}, {}>", inner(&map.key()), inner(&map.value())),
        Type::FixedLengthList(_) => "list<…; N>".into(),
        Type::Record(record) => {
            let fields: Vec<String> = record
                .fields()
                .map(|f| format!("{}: {}", f.name, inner(&f.ty)))
                .collect();
            format!("record {{ {} }}", fields.join(", "))
        }
        Type::Tuple(tuple) => {
            let types: Vec<String> = tuple.types().map(|t| inner(&t)).collect();
            format!("tuple<{}>", types.join(", "))
        }
        Type::Variant(variant) => {
            let cases: Vec<String> = variant
                .cases()
                .map(|c| match c.ty {
                    Some(ty) => format!("{}({})", c.name, inner(&ty)),
                    None => c.name.to_string(),
                })
                .collect();
            format!("variant {{ {} }}", cases.join(", "))
        }
        Type::Enum(e) => format!("enum {{ {} }}", e.names().collect::<Vec<_>>().join(", ")),
        Type::Flags(f) => format!("flags {{ {} }}", f.names().collect::<Vec<_>>().join(", ")),
        Type::Option(option) => format!("option<{}>", inner(&option.ty())),
        Type::Result(result) => {
            let side = |t: Option<Type>| t.map_or_else(|| "_".to_string(), |t| inner(&t));
            match (result.ok(), result.err()) {
                (None, None) => "result".into(),
                (ok, err) => format!("result<{}, {}>", side(ok), side(err)),
            }
        }
        Type::Own(_) => "own<resource>".into(),
        Type::Borrow(_) => "borrow<resource>".into(),
        Type::Future(_) => "future".into(),
        Type::Stream(_) => "stream".into(),
        Type::ErrorContext => "error-context".into(),
    }
}

/// Cuts `text` to [`MAX_SIGNATURE_CHARS`] characters, marking the cut.
fn truncate(text: String) -> String {
    if text.chars().count() <= MAX_SIGNATURE_CHARS {
        return text;
    }
    let mut cut: String = text.chars().take(MAX_SIGNATURE_CHARS).collect();
    cut.push('…');
    cut
}

#[cfg(test)]
mod tests {
    use super::truncate;

    #[test]
    fn long_signatures_are_cut() {
        assert_eq!(truncate("func()".into()), "func()");
        let long = truncate("x".repeat(1000));
        assert_eq!(long.chars().count(), super::MAX_SIGNATURE_CHARS + 1);
        assert!(long.ends_with('…'));
    }
}
