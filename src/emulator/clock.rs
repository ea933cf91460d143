//! The emulator's clock: real time plus an offset the tests (and the control API) can move,
//! so that token lifetimes can be exercised without waiting days.
use std::sync::atomic::{AtomicI64, Ordering};

use chrono::{DateTime, Utc};

#[derive(Debug, Default)]
pub struct Clock {
    offset_ms: AtomicI64,
}

impl Clock {
    pub fn now(&self) -> DateTime<Utc> {
        Utc::now() + chrono::Duration::milliseconds(self.offset_ms.load(Ordering::Relaxed))
    }

    /// Moves the clock forward (or back, with a negative value) by `secs` seconds.
    pub fn advance(&self, secs: f64) {
        let ms = (secs * 1000.0) as i64;
        self.offset_ms.fetch_add(ms, Ordering::Relaxed);
    }

    pub fn offset_secs(&self) -> f64 {
        self.offset_ms.load(Ordering::Relaxed) as f64 / 1000.0
    }
}

/// `2024-01-02T03:04:05.1234567Z`, the shape Graph uses for DateTimeOffset values.
pub fn graph_datetime(t: DateTime<Utc>) -> String {
    use chrono::Timelike as _;
    format!(
        "{}.{:07}Z",
        t.format("%Y-%m-%dT%H:%M:%S"),
        (t.nanosecond() % 1_000_000_000) / 100
    )
}

/// The HTTP `Date` header form.
pub fn http_date(t: DateTime<Utc>) -> String {
    t.format("%a, %d %b %Y %H:%M:%S GMT").to_string()
}

#[cfg(test)]
mod tests {
    #[test]
    fn seven_digit_fractions() {
        let t = chrono::DateTime::parse_from_rfc3339("2023-12-02T06:59:34.7411768Z")
            .map(|t| t.with_timezone(&chrono::Utc))
            .unwrap_or_default();
        assert_eq!(super::graph_datetime(t), "2023-12-02T06:59:34.7411768Z");
    }
}
