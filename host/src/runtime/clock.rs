//! The virtual monotonic clock a policy sees, and the part of the time
//! budget it enforces.
//!
//! wasmtime-wasi's `wasi:clocks/monotonic-clock` reads the host's real clock,
//! and its clock pollables wait in real time inside a host call, where the
//! epoch deadline cannot interrupt them: `std::thread::sleep` for an hour, or
//! a pollable at `u64::MAX`, held the gate forever. Here every evaluation
//! gets its own clock instead:
//!
//! - it starts at [`START_NS`] and advances only when the policy waits (a
//!   `block` or `poll` on a clock pollable), by exactly the time waited, so
//!   what a policy measures is the same on every run;
//! - clock pollables are ready at once: the clock jumps to their instant; in
//!   a `poll` that also lists other pollables, a clock pollable fires only
//!   when none of the others is ready, and only the earliest one;
//! - virtual time waited counts toward the evaluation's `timeout_ms` together
//!   with the real time spent since the store was created: a wait that would
//!   pass the budget ends the call at once with [`VirtualTimeout`], which the
//!   caller reports as the same timeout the epoch deadline gives; after a
//!   wait that fits, the epoch deadline is moved earlier by the time waited.
//!
//! The functions are installed by shadowing wasmtime-wasi's definitions in the
//! linker ([`super::clock_imports`]): `monotonic-clock.{now, resolution,
//! subscribe-duration, subscribe-instant}`, and `poll.poll` and
//! `pollable.block` (which run wasmtime-wasi's own implementation and then
//! check the budget). Imports of any WASI 0.2.x version resolve to them: the
//! linker answers `@0.2.0` .. `@0.2.N` with the newest `0.2` definition, and
//! the shadowing replaces the functions inside that very instance.

use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex, PoisonError};
use std::task::{Context, Poll};
use std::time::{Duration, Instant};
use wasmtime::component::{Resource, ResourceTable};
use wasmtime_wasi::p2::{DynPollable, Pollable, subscribe};

/// What `monotonic-clock.now` returns before the policy has waited, in
/// nanoseconds: one second, so code that treats zero as "unset" still works.
pub const START_NS: u64 = 1_000_000_000;

/// What `monotonic-clock.resolution` returns, in nanoseconds: the clock
/// moves by exactly the durations waited.
pub const RESOLUTION_NS: u64 = 1;

/// The WASI 0.2 version wasmtime-wasi 48 registers its interfaces under; the
/// shadowing must name exactly this instance. An upgrade that changes it
/// makes the clock tests fail (they see the real clock again).
pub(crate) const WASI_VERSION: &str = "0.2.12";

/// The error a wait that would pass the budget ends the call with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct VirtualTimeout;

impl std::fmt::Display for VirtualTimeout {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("the policy waited past its time budget")
    }
}

impl std::error::Error for VirtualTimeout {}

/// One evaluation's clock, shared by its store and its clock pollables.
#[derive(Debug)]
pub(crate) struct VirtualClock {
    state: Mutex<ClockState>,
}

#[derive(Debug)]
struct ClockState {
    /// The current virtual time, nanoseconds.
    now: u64,
    /// The evaluation's whole budget (`timeout_ms`).
    budget: Duration,
    /// When the evaluation started (the store was created), real time.
    started: Instant,
    /// The earliest instant among the clock pollables of the `poll` (or
    /// `block`) in progress that were not ready on their first look.
    earliest: Option<u64>,
    /// Set when a wait would have passed the budget.
    overrun: bool,
}

impl VirtualClock {
    /// A clock at [`START_NS`] for an evaluation with `budget`, starting now.
    pub fn new(budget: Duration) -> Arc<VirtualClock> {
        Arc::new(VirtualClock {
            state: Mutex::new(ClockState {
                now: START_NS,
                budget,
                started: Instant::now(),
                earliest: None,
                overrun: false,
            }),
        })
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, ClockState> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// The current virtual time, nanoseconds.
    pub fn now(&self) -> u64 {
        self.lock().now
    }

    /// Virtual time waited so far.
    pub fn waited(&self) -> Duration {
        Duration::from_nanos(self.lock().now - START_NS)
    }

    /// True once a wait would have passed the budget.
    pub fn overrun(&self) -> bool {
        self.lock().overrun
    }

    /// What is left of the budget after the real time spent and the virtual
    /// time waited; zero when nothing is.
    pub fn remaining(&self) -> Duration {
        let state = self.lock();
        state
            .budget
            .saturating_sub(state.started.elapsed())
            .saturating_sub(Duration::from_nanos(state.now - START_NS))
    }
}

impl ClockState {
    /// Moves the clock to `at`, unless that passes the budget: then the
    /// clock stays and the overrun is recorded.
    fn advance_to(&mut self, at: u64) {
        if at <= self.now {
            return;
        }
        let waited = Duration::from_nanos(at - START_NS);
        let total = waited.saturating_add(self.started.elapsed());
        if total > self.budget {
            self.overrun = true;
        } else {
            self.now = at;
        }
    }
}

/// A clock pollable: ready when the virtual clock reaches `at`.
struct ClockWait {
    clock: Arc<VirtualClock>,
    at: u64,
}

#[wasmtime_wasi::async_trait]
impl Pollable for ClockWait {
    async fn ready(&mut self) {
        Wait {
            clock: &self.clock,
            at: self.at,
            registered: false,
        }
        .await;
    }
}

/// One look at a clock pollable. The first poll answers whether the clock
/// has already reached the instant; if not, the wait registers its instant
/// and asks to be polled again, which gives every other pollable of the same
/// `poll` a turn. Polled again (nothing else was ready), the earliest
/// registered wait moves the clock and is ready.
struct Wait<'a> {
    clock: &'a VirtualClock,
    at: u64,
    registered: bool,
}

impl Future for Wait<'_> {
    type Output = ();

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        let (clock, at) = (self.clock, self.at);
        let mut state = clock.lock();
        if at <= state.now {
            return Poll::Ready(());
        }
        if !self.registered {
            state.earliest = Some(state.earliest.map_or(at, |e| e.min(at)));
            drop(state);
            self.registered = true;
            cx.waker().wake_by_ref();
            return Poll::Pending;
        }
        if at <= state.earliest.unwrap_or(at) {
            state.advance_to(at);
            return Poll::Ready(());
        }
        // A wait for a later instant: the earliest one in this poll is ready
        // in this same round, and the poll returns with it.
        Poll::Pending
    }
}

impl Drop for Wait<'_> {
    fn drop(&mut self) {
        // The poll that registered this wait is over (the waits of one poll
        // are dropped together when it returns).
        if self.registered {
            self.clock.lock().earliest = None;
        }
    }
}

/// A pollable in `table` for the virtual instant `at` of `clock`: ready
/// at once, the clock jumping to `at` (see the module documentation).
pub(crate) fn subscribe_at(
    clock: &Arc<VirtualClock>,
    table: &mut ResourceTable,
    at: u64,
) -> wasmtime::Result<Resource<DynPollable>> {
    let wait = table.push(ClockWait {
        clock: Arc::clone(clock),
        at,
    })?;
    subscribe(table, wait)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::task::Waker;

    /// Polls `future` until it is ready or has been polled `max` times;
    /// returns how many polls it took.
    fn polls_until_ready(
        future: &mut (impl Future<Output = ()> + Unpin),
        max: usize,
    ) -> Option<usize> {
        let mut cx = Context::from_waker(Waker::noop());
        (1..=max).find(|_| Pin::new(&mut *future).poll(&mut cx).is_ready())
    }

    fn wait(clock: &VirtualClock, at: u64) -> Wait<'_> {
        Wait {
            clock,
            at,
            registered: false,
        }
    }

    #[test]
    fn starts_at_the_fixed_value_and_moves_only_by_waits() {
        let clock = VirtualClock::new(Duration::from_secs(10));
        assert_eq!(clock.now(), START_NS);
        std::thread::sleep(Duration::from_millis(20));
        assert_eq!(clock.now(), START_NS, "real time does not move it");
        let at = START_NS + 5_000_000;
        let mut sleep = wait(&clock, at);
        assert_eq!(polls_until_ready(&mut sleep, 5), Some(2));
        drop(sleep);
        assert_eq!(clock.now(), at, "moved by exactly the time waited");
        assert_eq!(clock.waited(), Duration::from_millis(5));
        assert!(!clock.overrun());
    }

    #[test]
    fn a_past_instant_is_ready_at_once_and_moves_nothing() {
        let clock = VirtualClock::new(Duration::from_secs(10));
        let mut past = wait(&clock, START_NS - 1);
        assert_eq!(polls_until_ready(&mut past, 1), Some(1));
        let mut now = wait(&clock, START_NS);
        assert_eq!(polls_until_ready(&mut now, 1), Some(1));
        assert_eq!(clock.now(), START_NS);
    }

    #[test]
    fn a_wait_past_the_budget_is_an_overrun_and_the_clock_stays() {
        let clock = VirtualClock::new(Duration::from_secs(10));
        let mut hour = wait(&clock, START_NS + 3_600_000_000_000);
        assert_eq!(polls_until_ready(&mut hour, 5), Some(2), "ends at once");
        assert!(clock.overrun());
        assert_eq!(clock.now(), START_NS);

        let clock = VirtualClock::new(Duration::from_secs(10));
        let mut forever = wait(&clock, u64::MAX);
        assert_eq!(polls_until_ready(&mut forever, 5), Some(2));
        assert!(clock.overrun());
    }

    #[test]
    fn real_time_spent_counts_toward_the_budget() {
        let clock = VirtualClock::new(Duration::from_millis(300));
        std::thread::sleep(Duration::from_millis(200));
        // 200 ms real + 200 ms virtual > 300 ms.
        let mut sleep = wait(&clock, START_NS + 200_000_000);
        assert_eq!(polls_until_ready(&mut sleep, 5), Some(2));
        assert!(clock.overrun());
        assert!(clock.remaining() <= Duration::from_millis(100));
    }

    #[test]
    fn only_the_earliest_of_several_waits_fires() {
        let clock = VirtualClock::new(Duration::from_secs(10));
        let (soon, late) = (START_NS + 1_000, START_NS + 2_000_000_000);
        let mut cx = Context::from_waker(Waker::noop());
        // One `poll` of [late, soon]: both register in the first round.
        let mut first = wait(&clock, late);
        let mut second = wait(&clock, soon);
        assert!(Pin::new(&mut first).poll(&mut cx).is_pending());
        assert!(Pin::new(&mut second).poll(&mut cx).is_pending());
        // Second round: the later one stays pending, the earlier one fires.
        assert!(Pin::new(&mut first).poll(&mut cx).is_pending());
        assert!(Pin::new(&mut second).poll(&mut cx).is_ready());
        assert_eq!(clock.now(), soon);
        drop((first, second));
        // The next poll starts afresh: the later wait fires on its own.
        let mut again = wait(&clock, late);
        assert_eq!(polls_until_ready(&mut again, 5), Some(2));
        assert_eq!(clock.now(), late);
        assert!(!clock.overrun());
    }

    #[test]
    fn a_wait_given_up_after_one_look_leaves_no_trace() {
        // `pollable.ready` looks once: a future instant is not ready, and
        // the clock does not move.
        let clock = VirtualClock::new(Duration::from_secs(10));
        let mut look = wait(&clock, START_NS + 1_000);
        assert_eq!(polls_until_ready(&mut look, 1), None);
        drop(look);
        assert_eq!(clock.now(), START_NS);
        assert_eq!(clock.lock().earliest, None);
    }
}
