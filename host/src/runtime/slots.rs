//! Evaluation slots: how many stores may be alive at once in one
//! [`super::Runtime`]. The pooling allocator preallocates room for a fixed
//! number of instances, memories and tables; more concurrent evaluations
//! than that would fail to instantiate, so they wait for a slot instead.
//!
//! Waiting is bounded. An evaluation the caller abandoned after its deadline
//! ([`super::worker`]) keeps its slot until its thread ends, which may be
//! never: a waiter gives up after its `max_wait`, and at once when every slot
//! is held by an abandoned evaluation.

use std::sync::atomic::{AtomicU8, Ordering};
use std::sync::{Arc, Condvar, Mutex, PoisonError};
use std::time::{Duration, Instant};

/// A counting semaphore shared by a runtime and its policies.
#[derive(Debug, Clone)]
pub(crate) struct Slots {
    inner: Arc<Shared>,
}

#[derive(Debug)]
struct Shared {
    counts: Mutex<Counts>,
    freed: Condvar,
    capacity: usize,
}

#[derive(Debug)]
struct Counts {
    free: usize,
    abandoned: usize,
}

/// A held slot's state, changed only with the counts locked.
const HELD: u8 = 0;
const ABANDONED: u8 = 1;
const RELEASED: u8 = 2;

/// A held slot; dropping it frees the slot. Declare it before the store it
/// guards, so the store (and its pooled instances) is dropped first.
#[derive(Debug)]
pub(crate) struct Slot {
    inner: Arc<Shared>,
    state: Arc<AtomicU8>,
}

/// Lets the caller mark a slot abandoned after the slot moved to its job.
#[derive(Debug, Clone)]
pub(crate) struct SlotTicket {
    state: Arc<AtomicU8>,
}

/// Why no slot was had.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum SlotError {
    /// Every slot was busy for the whole wait.
    Busy {
        /// How long the caller waited.
        waited: Duration,
        /// How many slots there are.
        capacity: usize,
    },
    /// Every slot is held by an evaluation abandoned after its deadline.
    AllAbandoned {
        /// How many slots there are.
        capacity: usize,
    },
}

impl std::fmt::Display for SlotError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            SlotError::Busy { waited, capacity } => write!(
                f,
                "no evaluation slot became free within {} ms (all {capacity} were busy); run fewer evaluations at once in this process",
                waited.as_millis()
            ),
            SlotError::AllAbandoned { capacity } => write!(
                f,
                "all {capacity} evaluation slots are held by evaluations abandoned after their timeout (blocked in a host call); start a new process"
            ),
        }
    }
}

impl Slots {
    /// `capacity` slots (at least one).
    pub(crate) fn new(capacity: usize) -> Slots {
        let capacity = capacity.max(1);
        Slots {
            inner: Arc::new(Shared {
                counts: Mutex::new(Counts {
                    free: capacity,
                    abandoned: 0,
                }),
                freed: Condvar::new(),
                capacity,
            }),
        }
    }

    /// Takes a slot, waiting at most `max_wait` for one to be free.
    pub(crate) fn acquire(&self, max_wait: Duration) -> Result<Slot, SlotError> {
        let started = Instant::now();
        let deadline = started.checked_add(max_wait);
        let shared = &*self.inner;
        let mut counts = shared.counts.lock().unwrap_or_else(PoisonError::into_inner);
        while counts.free == 0 {
            if counts.abandoned >= shared.capacity {
                return Err(SlotError::AllAbandoned {
                    capacity: shared.capacity,
                });
            }
            counts = match deadline {
                None => shared
                    .freed
                    .wait(counts)
                    .unwrap_or_else(PoisonError::into_inner),
                Some(deadline) => {
                    let left = deadline.saturating_duration_since(Instant::now());
                    if left.is_zero() {
                        return Err(SlotError::Busy {
                            waited: started.elapsed(),
                            capacity: shared.capacity,
                        });
                    }
                    shared
                        .freed
                        .wait_timeout(counts, left)
                        .unwrap_or_else(PoisonError::into_inner)
                        .0
                }
            };
        }
        counts.free -= 1;
        Ok(Slot {
            inner: Arc::clone(&self.inner),
            state: Arc::new(AtomicU8::new(HELD)),
        })
    }

    /// Marks the slot of `ticket` as held by an abandoned evaluation (unless
    /// it was released already).
    pub(crate) fn abandon(&self, ticket: &SlotTicket) {
        let shared = &*self.inner;
        let mut counts = shared.counts.lock().unwrap_or_else(PoisonError::into_inner);
        if ticket.state.load(Ordering::Relaxed) == HELD {
            ticket.state.store(ABANDONED, Ordering::Relaxed);
            counts.abandoned += 1;
            // A waiter may now give up at once.
            shared.freed.notify_all();
        }
    }
}

impl Slot {
    /// A ticket to mark this slot abandoned later.
    pub(crate) fn ticket(&self) -> SlotTicket {
        SlotTicket {
            state: Arc::clone(&self.state),
        }
    }
}

impl Drop for Slot {
    fn drop(&mut self) {
        let shared = &*self.inner;
        let mut counts = shared.counts.lock().unwrap_or_else(PoisonError::into_inner);
        if self.state.load(Ordering::Relaxed) == ABANDONED {
            counts.abandoned -= 1;
        }
        self.state.store(RELEASED, Ordering::Relaxed);
        counts.free += 1;
        shared.freed.notify_one();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::AtomicUsize;

    const AMPLE: Duration = Duration::from_secs(600);

    #[test]
    fn never_more_holders_than_slots() {
        let slots = Slots::new(2);
        let holding = AtomicUsize::new(0);
        let most = AtomicUsize::new(0);
        std::thread::scope(|scope| {
            for _ in 0..8 {
                scope.spawn(|| {
                    for _ in 0..50 {
                        let _slot = slots.acquire(AMPLE).expect("a slot");
                        let now = holding.fetch_add(1, Ordering::SeqCst) + 1;
                        most.fetch_max(now, Ordering::SeqCst);
                        std::thread::yield_now();
                        holding.fetch_sub(1, Ordering::SeqCst);
                    }
                });
            }
        });
        assert!(most.load(Ordering::SeqCst) <= 2);
    }

    #[test]
    fn a_waiter_gets_the_slot_that_is_freed() {
        let slots = Slots::new(2);
        let first = slots.acquire(AMPLE).expect("first");
        let _second = slots.acquire(AMPLE).expect("second");
        let (tx, rx) = std::sync::mpsc::channel();
        let waiter = {
            let slots = slots.clone();
            std::thread::spawn(move || {
                let _third = slots.acquire(AMPLE).expect("third");
                tx.send(()).expect("send");
            })
        };
        assert!(
            rx.recv_timeout(std::time::Duration::from_millis(50))
                .is_err(),
            "no third slot while two are held"
        );
        drop(first);
        rx.recv().expect("the waiter got the freed slot");
        waiter.join().expect("waiter");
    }

    #[test]
    fn waiting_for_a_slot_times_out() {
        let slots = Slots::new(1);
        let _held = slots.acquire(AMPLE).expect("first");
        let max_wait = Duration::from_millis(100);
        let started = Instant::now();
        let err = slots.acquire(max_wait).expect_err("no second slot");
        assert!(started.elapsed() >= max_wait, "{:?}", started.elapsed());
        assert!(
            matches!(err, SlotError::Busy { capacity: 1, .. }),
            "{err:?}"
        );
        assert!(
            err.to_string().contains("no evaluation slot became free"),
            "{err}"
        );
    }

    #[test]
    fn every_slot_abandoned_fails_at_once_and_a_released_one_comes_back() {
        let slots = Slots::new(2);
        let first = slots.acquire(AMPLE).expect("first");
        let second = slots.acquire(AMPLE).expect("second");
        slots.abandon(&first.ticket());
        // One abandoned, one busy: a waiter still waits (and times out).
        assert!(matches!(
            slots.acquire(Duration::from_millis(20)),
            Err(SlotError::Busy { .. })
        ));
        slots.abandon(&second.ticket());
        let started = Instant::now();
        let err = slots.acquire(AMPLE).expect_err("all abandoned");
        assert_eq!(err, SlotError::AllAbandoned { capacity: 2 });
        assert!(started.elapsed() < AMPLE);
        assert!(err.to_string().contains("abandoned"), "{err}");

        // An abandoned evaluation that ends after all gives its slot back.
        drop(first);
        let again = slots.acquire(AMPLE).expect("the released slot");
        // Abandoning a released slot changes nothing.
        let ticket = again.ticket();
        drop(again);
        slots.abandon(&ticket);
        let _one = slots.acquire(AMPLE).expect("free again");
    }

    #[test]
    fn a_waiter_gives_up_when_the_last_slot_is_abandoned() {
        let slots = Slots::new(1);
        let held = slots.acquire(AMPLE).expect("first");
        let ticket = held.ticket();
        let waiter = {
            let slots = slots.clone();
            std::thread::spawn(move || slots.acquire(AMPLE).map(drop))
        };
        std::thread::sleep(Duration::from_millis(20));
        slots.abandon(&ticket);
        assert_eq!(
            waiter.join().expect("waiter"),
            Err(SlotError::AllAbandoned { capacity: 1 })
        );
        drop(held);
    }
}
