//! The epoch ticker: a background thread that advances the engine's epoch at
//! a fixed interval, so a store's epoch deadline interrupts a policy after a
//! wall-clock budget. It holds only a weak reference and stops once the
//! engine is dropped, so it never keeps the engine (or the process) alive.

use std::time::Duration;
use wasmtime::Engine;

/// How often the epoch advances: the resolution of timeouts.
pub const TICK: Duration = Duration::from_millis(10);

/// Starts the ticker for `engine`.
pub fn start(engine: &Engine) -> std::io::Result<()> {
    let weak = engine.weak();
    std::thread::Builder::new()
        .name("gatehouse-epoch".into())
        .spawn(move || {
            loop {
                std::thread::sleep(TICK);
                match weak.upgrade() {
                    Some(engine) => engine.increment_epoch(),
                    None => break,
                }
            }
        })
        .map(|_| ())
}

/// The epoch deadline, in ticks, for a timeout: rounded up, plus one tick
/// because the first tick may come at once.
pub fn deadline_ticks(timeout_ms: u64) -> u64 {
    let tick_ms = TICK.as_millis() as u64;
    timeout_ms.div_ceil(tick_ms).saturating_add(1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn deadlines_round_up() {
        assert_eq!(deadline_ticks(0), 1);
        assert_eq!(deadline_ticks(1), 2);
        assert_eq!(deadline_ticks(10), 2);
        assert_eq!(deadline_ticks(2000), 201);
        assert_eq!(deadline_ticks(u64::MAX), u64::MAX.div_ceil(10) + 1);
    }
}
