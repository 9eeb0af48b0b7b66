//! Evaluation slots: how many stores may be alive at once in one
//! [`super::Runtime`]. The pooling allocator preallocates room for a fixed
//! number of instances, memories and tables; more concurrent evaluations
//! than that would fail to instantiate, so they wait for a slot instead.

use std::sync::{Arc, Condvar, Mutex, PoisonError};

/// A counting semaphore shared by a runtime and its policies.
#[derive(Debug, Clone)]
pub(crate) struct Slots {
    inner: Arc<(Mutex<usize>, Condvar)>,
}

/// A held slot; dropping it frees the slot. Declare it before the store it
/// guards, so the store (and its pooled instances) is dropped first.
#[derive(Debug)]
pub(crate) struct Slot {
    inner: Arc<(Mutex<usize>, Condvar)>,
}

impl Slots {
    /// `capacity` slots (at least one).
    pub(crate) fn new(capacity: usize) -> Slots {
        Slots {
            inner: Arc::new((Mutex::new(capacity.max(1)), Condvar::new())),
        }
    }

    /// Takes a slot, waiting until one is free.
    pub(crate) fn acquire(&self) -> Slot {
        let (free, freed) = &*self.inner;
        let mut free = free.lock().unwrap_or_else(PoisonError::into_inner);
        while *free == 0 {
            free = freed.wait(free).unwrap_or_else(PoisonError::into_inner);
        }
        *free -= 1;
        Slot {
            inner: Arc::clone(&self.inner),
        }
    }
}

impl Drop for Slot {
    fn drop(&mut self) {
        let (free, freed) = &*self.inner;
        let mut free = free.lock().unwrap_or_else(PoisonError::into_inner);
        *free += 1;
        freed.notify_one();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};

    #[test]
    fn never_more_holders_than_slots() {
        let slots = Slots::new(2);
        let holding = AtomicUsize::new(0);
        let most = AtomicUsize::new(0);
        std::thread::scope(|scope| {
            for _ in 0..8 {
                scope.spawn(|| {
                    for _ in 0..50 {
                        let _slot = slots.acquire();
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
        let first = slots.acquire();
        let _second = slots.acquire();
        let (tx, rx) = std::sync::mpsc::channel();
        let waiter = {
            let slots = slots.clone();
            std::thread::spawn(move || {
                let _third = slots.acquire();
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
}
