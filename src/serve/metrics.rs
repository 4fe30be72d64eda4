//! `GET /metrics`: decisions by outcome, a decision latency histogram, reloads, and the
//! inventory served (digest, age), in the Prometheus text format.

use std::fmt::Write as _;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

/// Upper bounds of the latency buckets, in seconds.
const BOUNDS: [f64; 11] = [
    0.000_05, 0.000_1, 0.000_25, 0.000_5, 0.001, 0.002, 0.005, 0.01, 0.05, 0.25, 1.0,
];

/// Counters, updated without locks.
#[derive(Debug, Default)]
pub struct Metrics {
    allow: AtomicU64,
    deny: AtomicU64,
    /// Requests answered 4xx (bad input, unknown ids, no token).
    rejected: AtomicU64,
    /// Requests that failed 5xx (evaluation error, the decision log could not be written).
    failed: AtomicU64,
    buckets: [AtomicU64; BOUNDS.len()],
    count: AtomicU64,
    sum_nanos: AtomicU64,
}

/// How a request ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    Allow,
    Deny,
    Rejected,
    Failed,
}

impl Metrics {
    /// Counts one decision request and its latency.
    pub fn record(&self, outcome: Outcome, took: Duration) {
        let counter = match outcome {
            Outcome::Allow => &self.allow,
            Outcome::Deny => &self.deny,
            Outcome::Rejected => &self.rejected,
            Outcome::Failed => &self.failed,
        };
        counter.fetch_add(1, Ordering::Relaxed);
        let secs = took.as_secs_f64();
        if let Some(i) = BOUNDS.iter().position(|b| secs <= *b) {
            self.buckets[i].fetch_add(1, Ordering::Relaxed);
        }
        self.count.fetch_add(1, Ordering::Relaxed);
        self.sum_nanos.fetch_add(
            u64::try_from(took.as_nanos()).unwrap_or(u64::MAX),
            Ordering::Relaxed,
        );
    }

    /// The exposition text. `served` = (inventory digest, library digest, loaded at, as of).
    pub fn render(
        &self,
        served: (&str, &str, u64, &str),
        now: u64,
        ready: bool,
        reloads: (u64, u64),
    ) -> String {
        let mut out = String::new();
        let get = |c: &AtomicU64| c.load(Ordering::Relaxed);
        let _ = writeln!(
            out,
            "# HELP vouch_access_decisions_total Access check requests by outcome (allow, deny, rejected: 4xx, failed: 5xx).\n# TYPE vouch_access_decisions_total counter"
        );
        for (name, c) in [
            ("allow", &self.allow),
            ("deny", &self.deny),
            ("rejected", &self.rejected),
            ("failed", &self.failed),
        ] {
            let _ = writeln!(
                out,
                "vouch_access_decisions_total{{outcome=\"{name}\"}} {}",
                get(c)
            );
        }
        let _ = writeln!(
            out,
            "# HELP vouch_access_decision_duration_seconds Time to answer an access check request (body read to response).\n# TYPE vouch_access_decision_duration_seconds histogram"
        );
        let mut cumulative = 0;
        for (bound, c) in BOUNDS.iter().zip(&self.buckets) {
            cumulative += get(c);
            let _ = writeln!(
                out,
                "vouch_access_decision_duration_seconds_bucket{{le=\"{bound}\"}} {cumulative}"
            );
        }
        let count = get(&self.count);
        #[expect(
            clippy::cast_precision_loss,
            reason = "a sum of latencies in seconds, as Prometheus reads it"
        )]
        let sum = get(&self.sum_nanos) as f64 / 1e9;
        let _ = writeln!(
            out,
            "vouch_access_decision_duration_seconds_bucket{{le=\"+Inf\"}} {count}\nvouch_access_decision_duration_seconds_sum {sum}\nvouch_access_decision_duration_seconds_count {count}"
        );
        let (digest, library, loaded_at, as_of) = served;
        let _ = writeln!(
            out,
            "# HELP vouch_inventory_info The inventory served: digest of every file read, library digest and evaluation date.\n# TYPE vouch_inventory_info gauge\nvouch_inventory_info{{digest=\"{digest}\",library=\"{library}\",as_of=\"{as_of}\"}} 1"
        );
        let _ = writeln!(
            out,
            "# HELP vouch_inventory_loaded_timestamp_seconds When the inventory served was loaded.\n# TYPE vouch_inventory_loaded_timestamp_seconds gauge\nvouch_inventory_loaded_timestamp_seconds {loaded_at}"
        );
        let _ = writeln!(
            out,
            "# HELP vouch_inventory_age_seconds Seconds since the inventory served was loaded.\n# TYPE vouch_inventory_age_seconds gauge\nvouch_inventory_age_seconds {}",
            now.saturating_sub(loaded_at)
        );
        let _ = writeln!(
            out,
            "# HELP vouch_reloads_total Reloads of the tree by result (a failed one keeps the last good state).\n# TYPE vouch_reloads_total counter\nvouch_reloads_total{{result=\"ok\"}} {}\nvouch_reloads_total{{result=\"failed\"}} {}",
            reloads.0, reloads.1
        );
        let _ = writeln!(
            out,
            "# HELP vouch_ready 1 when the last reload succeeded.\n# TYPE vouch_ready gauge\nvouch_ready {}",
            u8::from(ready)
        );
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_histogram_is_cumulative_and_counts_every_request() {
        let m = Metrics::default();
        m.record(Outcome::Allow, Duration::from_micros(40));
        m.record(Outcome::Deny, Duration::from_micros(700));
        m.record(Outcome::Rejected, Duration::from_secs(3));
        let text = m.render(
            ("sha256:ab", "sha256:cd", 100, "2026-11-25"),
            160,
            true,
            (1, 0),
        );
        assert!(text.contains("vouch_access_decisions_total{outcome=\"allow\"} 1"));
        assert!(text.contains("vouch_access_decisions_total{outcome=\"deny\"} 1"));
        assert!(text.contains("vouch_access_decision_duration_seconds_bucket{le=\"0.00005\"} 1"));
        assert!(text.contains("vouch_access_decision_duration_seconds_bucket{le=\"0.001\"} 2"));
        assert!(text.contains("vouch_access_decision_duration_seconds_bucket{le=\"1\"} 2"));
        assert!(text.contains("vouch_access_decision_duration_seconds_bucket{le=\"+Inf\"} 3"));
        assert!(text.contains("vouch_inventory_age_seconds 60"));
    }
}
