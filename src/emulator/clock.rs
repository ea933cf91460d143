//! The emulator's clock: real time plus an offset the tests (and the control API) can move,
//! so that token lifetimes can be exercised without waiting days.
use std::sync::atomic::{AtomicI64, Ordering};

use chrono::{DateTime, TimeDelta, Utc};

use super::limits::CLOCK_OFFSET_MAX_SECS;

const OFFSET_MAX_MS: i64 = CLOCK_OFFSET_MAX_SECS * 1000;

#[derive(Debug, Default)]
pub struct Clock {
    /// Always within ±`OFFSET_MAX_MS`: every writer checks before storing, so that no reader
    /// can be handed a time chrono cannot represent.
    offset_ms: AtomicI64,
}

/// A move that would take the clock's offset out of range; the clock did not move.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct OutOfRange {
    /// The offset (seconds) the move would have reached.
    pub would_be_secs: f64,
}

impl std::fmt::Display for OutOfRange {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "the clock's offset from real time would be {} s; it must stay in the allowed range -{max} to {max} (seconds, a hundred years either way)",
            self.would_be_secs,
            max = CLOCK_OFFSET_MAX_SECS
        )
    }
}

impl Clock {
    pub fn now(&self) -> DateTime<Utc> {
        let real = Utc::now();
        // The offset is in range, so this cannot fail; should it, real time beats a panic
        // that every later request would repeat.
        TimeDelta::try_milliseconds(self.offset_ms.load(Ordering::Relaxed))
            .and_then(|d| real.checked_add_signed(d))
            .unwrap_or(real)
    }

    /// Moves the clock forward (or back, with a negative value) by `secs` seconds, unless that
    /// takes its offset out of ±[`CLOCK_OFFSET_MAX_SECS`] (NaN and infinities never move it).
    pub fn advance(&self, secs: f64) -> Result<(), OutOfRange> {
        let ms = secs * 1000.0;
        let refused = OutOfRange {
            would_be_secs: self.offset_secs() + secs,
        };
        if !ms.is_finite() || ms.abs() > OFFSET_MAX_MS as f64 * 2.0 {
            return Err(refused);
        }
        // In range of i64 after the check above; the rounding keeps 0.001 s steps exact.
        let ms = ms.round() as i64;
        self.offset_ms
            .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |off| {
                off.checked_add(ms)
                    .filter(|n| (-OFFSET_MAX_MS..=OFFSET_MAX_MS).contains(n))
            })
            .map(|_| ())
            .map_err(|off| OutOfRange {
                would_be_secs: (off as f64 + ms as f64) / 1000.0,
            })
    }

    /// Moves the clock by `secs`, as far as the offset's range allows (NaN: not at all).
    pub fn advance_clamped(&self, secs: f64) {
        let ms = if secs.is_nan() {
            0.0
        } else {
            (secs * 1000.0).clamp(-2.0 * OFFSET_MAX_MS as f64, 2.0 * OFFSET_MAX_MS as f64)
        };
        let ms = ms.round() as i64;
        let _ = self
            .offset_ms
            .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |off| {
                Some(off.saturating_add(ms).clamp(-OFFSET_MAX_MS, OFFSET_MAX_MS))
            });
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
    use super::*;

    #[test]
    fn the_offset_never_leaves_its_range() {
        let c = Clock::default();
        assert!(c.advance(f64::NAN).is_err());
        assert!(c.advance(f64::INFINITY).is_err());
        assert!(c.advance(i64::MAX as f64).is_err());
        assert!(c.advance(-1e300).is_err());
        assert_eq!(c.offset_secs(), 0.0);
        // Ten-year steps up to the end of the range, then one more is refused.
        let step = 315_576_000.0;
        for _ in 0..10 {
            assert_eq!(c.advance(step), Ok(()));
        }
        let e = c.advance(step).err();
        assert!(e.is_some_and(|e| e.to_string().contains("allowed range")));
        assert_eq!(c.offset_secs(), CLOCK_OFFSET_MAX_SECS as f64);
        let _ = graph_datetime(c.now());
        c.advance_clamped(f64::INFINITY);
        c.advance_clamped(f64::NAN);
        assert_eq!(c.offset_secs(), CLOCK_OFFSET_MAX_SECS as f64);
        c.advance_clamped(f64::NEG_INFINITY);
        assert_eq!(c.offset_secs(), -(CLOCK_OFFSET_MAX_SECS as f64));
        let _ = graph_datetime(c.now());
        assert_eq!(c.advance(0.001), Ok(()));
    }

    #[test]
    fn seven_digit_fractions() {
        let t = chrono::DateTime::parse_from_rfc3339("2023-12-02T06:59:34.7411768Z")
            .map(|t| t.with_timezone(&chrono::Utc))
            .unwrap_or_default();
        assert_eq!(super::graph_datetime(t), "2023-12-02T06:59:34.7411768Z");
    }
}
