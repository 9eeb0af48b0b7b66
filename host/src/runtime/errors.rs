//! Wasmtime errors as one-line messages. A leaf module: every other part of
//! the runtime (the engine, the compile cache, a policy's calls) reports
//! wasmtime errors through it, so none of them imports another for it.

/// A wasmtime error chain on one line, without the multi-line wasm backtrace
/// wrapper that would otherwise hide the cause.
pub(crate) fn first_line(err: &wasmtime::Error) -> String {
    err.chain()
        .map(|e| e.to_string())
        .filter(|m| !m.starts_with("error while executing at wasm backtrace"))
        .filter_map(|m| m.lines().next().map(str::to_string))
        .collect::<Vec<_>>()
        .join(": ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_chain_is_joined_on_one_line_without_the_backtrace_wrapper() {
        let err = wasmtime::Error::msg("root cause\nsecond line")
            .context("error while executing at wasm backtrace:\n    0: f")
            .context("calling evaluate");
        assert_eq!(first_line(&err), "calling evaluate: root cause");
    }
}
