//! Samples of wall time, their summary (min / median / p99), and time-boxed loops.

use serde_json::{Value, json};
use std::time::{Duration, Instant};

/// How long, and how often, to repeat one measurement.
#[derive(Debug, Clone, Copy)]
pub struct Budget {
    /// Stop starting new iterations after this much time...
    pub time: Duration,
    /// ...but run at least this many...
    pub min_iterations: usize,
    /// ...and never more than this many.
    pub max_iterations: usize,
}

impl Budget {
    /// The budget for one measurement: `quick` runs are about a tenth as long.
    pub fn new(quick: bool, seconds: f64) -> Self {
        let time = if quick { seconds / 10.0 } else { seconds };
        Budget {
            time: Duration::from_secs_f64(time),
            min_iterations: if quick { 2 } else { 5 },
            max_iterations: if quick { 2_000 } else { 20_000 },
        }
    }

    /// Whether a loop that started at `started` and ran `done` iterations goes on.
    pub fn more(&self, started: Instant, done: usize) -> bool {
        done < self.min_iterations || (done < self.max_iterations && started.elapsed() < self.time)
    }
}

/// A summary of samples.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Summary {
    /// Fastest sample.
    pub min: Duration,
    /// Median sample.
    pub median: Duration,
    /// 99th percentile (nearest rank); the maximum under 100 samples.
    pub p99: Duration,
    /// How many samples.
    pub iterations: usize,
}

impl Summary {
    /// Summarises samples; `None` when there are none.
    pub fn of(samples: &[Duration]) -> Option<Summary> {
        if samples.is_empty() {
            return None;
        }
        let mut sorted = samples.to_vec();
        sorted.sort();
        let rank = |q: f64| {
            let index = (q * sorted.len() as f64).ceil() as usize;
            sorted[index.clamp(1, sorted.len()) - 1]
        };
        Some(Summary {
            min: sorted[0],
            median: median(&sorted),
            p99: rank(0.99),
            iterations: sorted.len(),
        })
    }

    /// The summary as JSON, in microseconds.
    pub fn to_json(self) -> Value {
        json!({
            "min_us": micros(self.min),
            "median_us": micros(self.median),
            "p99_us": micros(self.p99),
            "iterations": self.iterations,
        })
    }
}

fn median(sorted: &[Duration]) -> Duration {
    let mid = sorted.len() / 2;
    if sorted.len() % 2 == 1 {
        sorted[mid]
    } else {
        (sorted[mid - 1] + sorted[mid]) / 2
    }
}

/// A duration in microseconds, with a fraction.
pub fn micros(d: Duration) -> f64 {
    d.as_secs_f64() * 1e6
}

/// A duration for a table: `12.3 µs`, `4.56 ms`, `1.23 s`.
pub fn fmt(d: Duration) -> String {
    let us = micros(d);
    if us < 1_000.0 {
        format!("{us:.1} µs")
    } else if us < 1_000_000.0 {
        format!("{:.2} ms", us / 1e3)
    } else {
        format!("{:.2} s", us / 1e6)
    }
}

/// A ratio for a table: `0.42×`.
pub fn ratio(a: Duration, b: Duration) -> f64 {
    a.as_secs_f64() / b.as_secs_f64().max(1e-12)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn summary_ranks() {
        let samples: Vec<Duration> = (1..=200).rev().map(Duration::from_micros).collect();
        let s = Summary::of(&samples).expect("samples");
        assert_eq!(s.min, Duration::from_micros(1));
        assert_eq!(s.median, Duration::from_nanos(100_500));
        assert_eq!(s.p99, Duration::from_micros(198));
        assert_eq!(s.iterations, 200);
        let few = Summary::of(&[Duration::from_micros(3), Duration::from_micros(1)]);
        assert_eq!(few.map(|s| s.p99), Some(Duration::from_micros(3)));
        assert!(Summary::of(&[]).is_none());
        assert_eq!(fmt(Duration::from_micros(1500)), "1.50 ms");
    }
}
