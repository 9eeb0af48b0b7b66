//! The per-store resource limiter. Unlike wasmtime's `StoreLimits` it records
//! which limit a policy hit, so the error and the report can name it.

use wasmtime::ResourceLimiter;

/// A limit a policy can hit, with its configured value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LimitHit {
    /// Linear memory would exceed this many bytes.
    Memory(usize),
    /// A table would exceed this many elements.
    TableElements(usize),
}

/// Caps linear memory and table growth for one store, trapping on excess.
#[derive(Debug)]
pub struct PolicyLimiter {
    memory_bytes: usize,
    table_elements: usize,
    instances: usize,
    tables: usize,
    memories: usize,
    /// Bytes of linear memory the store holds across all its memories.
    memory_total: usize,
    /// The first limit hit, if any.
    pub hit: Option<LimitHit>,
}

impl PolicyLimiter {
    /// A limiter with the given caps.
    pub fn new(
        memory_bytes: usize,
        table_elements: usize,
        instances: usize,
        tables: usize,
        memories: usize,
    ) -> Self {
        PolicyLimiter {
            memory_bytes,
            table_elements,
            instances,
            tables,
            memories,
            memory_total: 0,
            hit: None,
        }
    }
}

impl ResourceLimiter for PolicyLimiter {
    /// The memory limit covers all memories of the evaluation together, so a
    /// component with many memories cannot multiply it.
    fn memory_growing(
        &mut self,
        current: usize,
        desired: usize,
        _maximum: Option<usize>,
    ) -> wasmtime::Result<bool> {
        let total = self
            .memory_total
            .saturating_sub(current)
            .saturating_add(desired);
        if total > self.memory_bytes {
            self.hit.get_or_insert(LimitHit::Memory(self.memory_bytes));
            wasmtime::bail!("memory limit of {} bytes exceeded", self.memory_bytes);
        }
        self.memory_total = total;
        Ok(true)
    }

    fn table_growing(
        &mut self,
        _current: usize,
        desired: usize,
        _maximum: Option<usize>,
    ) -> wasmtime::Result<bool> {
        if desired > self.table_elements {
            self.hit
                .get_or_insert(LimitHit::TableElements(self.table_elements));
            wasmtime::bail!("table limit of {} elements exceeded", self.table_elements);
        }
        Ok(true)
    }

    fn instances(&self) -> usize {
        self.instances
    }

    fn tables(&self) -> usize {
        self.tables
    }

    fn memories(&self) -> usize {
        self.memories
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn growth_past_a_cap_traps_and_is_recorded() {
        let mut limiter = PolicyLimiter::new(1 << 20, 100, 10, 10, 10);
        assert!(matches!(limiter.memory_growing(0, 1 << 20, None), Ok(true)));
        assert!(limiter.memory_growing(0, (1 << 20) + 65536, None).is_err());
        assert_eq!(limiter.hit, Some(LimitHit::Memory(1 << 20)));
        assert!(limiter.table_growing(0, 101, None).is_err());
        assert_eq!(
            limiter.hit,
            Some(LimitHit::Memory(1 << 20)),
            "the first hit is kept"
        );
    }

    const KIB: usize = 1 << 10;

    #[test]
    fn the_memory_limit_covers_every_memory_together() {
        let mut limiter = PolicyLimiter::new(1024 * KIB, 100, 10, 10, 10);
        // Memory A: created at 640 KiB, grown by 64 KiB (only the growth counts).
        assert!(matches!(
            limiter.memory_growing(0, 640 * KIB, None),
            Ok(true)
        ));
        assert!(matches!(
            limiter.memory_growing(640 * KIB, 704 * KIB, None),
            Ok(true)
        ));
        // Memory B: 320 KiB fits exactly beside A's 704 KiB ...
        assert!(matches!(
            limiter.memory_growing(0, 320 * KIB, None),
            Ok(true)
        ));
        assert_eq!(limiter.hit, None);
        // ... one more page of B does not, although B alone is far below it.
        let error = limiter
            .memory_growing(320 * KIB, 384 * KIB, None)
            .expect_err("past the limit");
        assert!(error.to_string().contains("1048576 bytes"), "{error}");
        assert_eq!(limiter.hit, Some(LimitHit::Memory(1024 * KIB)));
    }

    #[test]
    fn a_table_may_grow_to_its_cap_and_no_further() {
        let mut limiter = PolicyLimiter::new(1 << 20, 200_000, 10, 10, 10);
        assert!(matches!(limiter.table_growing(0, 200_000, None), Ok(true)));
        assert_eq!(limiter.hit, None);
        let error = limiter
            .table_growing(200_000, 200_001, None)
            .expect_err("past the cap");
        assert!(error.to_string().contains("200000 elements"), "{error}");
        assert_eq!(limiter.hit, Some(LimitHit::TableElements(200_000)));
    }

    #[test]
    fn the_count_caps_are_what_wasmtime_is_told() {
        let limiter = PolicyLimiter::new(1 << 20, 100, 7, 8, 9);
        assert_eq!(
            (limiter.instances(), limiter.tables(), limiter.memories()),
            (7, 8, 9)
        );
    }
}
