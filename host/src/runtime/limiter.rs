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
}
