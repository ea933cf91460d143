//! The allowed range of every number the emulator takes from outside: control API bodies,
//! `deltascope emulator` flags, fault specs, and the `EmulatorConfig` an embedding program
//! builds. One table, so that the HTTP 400, the usage error and the README name the same range.
//!
//! The ranges are generous for testing a client and small enough that no single request or
//! flag can stall the emulator, exhaust its memory or overflow its clock.
//!
//! | input | allowed |
//! | --- | --- |
//! | churn (`per_sec`, `--churn`) | 0 to 1000 changes per second |
//! | clock step (`advance_secs`) | -315576000 to 315576000 s (ten years either way); the clock's total offset stays within ±3155760000 s (a hundred years) |
//! | `mutate` `count` / `groups` | 0 to 100000 / 0 to 10000 |
//! | `--contacts` (and `--demo-contacts`) | 0 to 10000000 |
//! | `--users` / `--groups` / `--organizers` / `--recordings` | 0 to 100000 / 0 to 100 / 0 to 1000 / 0 to 100000 |
//! | `--applications` / `--service-principals` / `--devices` / `--administrative-units` / `--grants` | 0 to 1000000 each |
//! | `--directory-roles` (activated roles, one per built-in template) | 0 to 20 |
//! | `mutate` `applications` / `servicePrincipals` / `devices` / `driveItems` / `messages` / `events` | 0 to 10000 each |
//! | `--member-slice` / `--page-size` | 1 to 100000 / 1 to 999 |
//! | `--latency-ms` | 0 to 60000 |
//! | `--token-lifetime` | 1 s to 3650 days |
//! | fault N / SECS / MS | 1 to 1000000 (or `always`) / 0 to 3600 / 0 to 600000; at most 100 active faults |
//! | `devicecode/slow_down` `count` | 0 to 1000 |
use std::fmt::Write as _;
use std::time::Duration;

use serde_json::Value;

/// An inclusive range of whole numbers.
#[derive(Clone, Copy, Debug)]
pub struct Whole {
    pub min: u64,
    pub max: u64,
    /// What the number counts, for messages ("changes", "milliseconds").
    pub unit: &'static str,
}

/// An inclusive range of finite numbers.
#[derive(Clone, Copy, Debug)]
pub struct Real {
    pub min: f64,
    pub max: f64,
    pub unit: &'static str,
}

impl Whole {
    /// `the allowed range 0 to 999 (objects per page, a whole number)`.
    pub fn describe(&self) -> String {
        format!(
            "the allowed range {} to {} ({}, a whole number)",
            self.min, self.max, self.unit
        )
    }

    pub fn contains(&self, v: u64) -> bool {
        (self.min..=self.max).contains(&v)
    }

    /// `v` if it is in range, else a message naming `name` and the range.
    pub fn check(&self, name: &str, v: u64) -> Result<u64, String> {
        if self.contains(v) {
            Ok(v)
        } else {
            Err(out_of_range(name, &self.describe(), &v.to_string()))
        }
    }

    /// A JSON value in range: a fraction, a negative number, a string or a number too large
    /// for u64 is refused as plainly as one out of range.
    pub fn from_json(&self, name: &str, v: &Value) -> Result<u64, String> {
        v.as_u64()
            .filter(|n| self.contains(*n))
            .ok_or_else(|| out_of_range(name, &self.describe(), &shown(v)))
    }

    /// A command-line value in range (for clap's `value_parser`).
    pub fn parse(&self, s: &str) -> Result<u64, String> {
        s.trim()
            .parse::<u64>()
            .ok()
            .filter(|n| self.contains(*n))
            .ok_or_else(|| format!("must be in {}", self.describe()))
    }

    pub fn parse_usize(&self, s: &str) -> Result<usize, String> {
        let v = self.parse(s)?;
        usize::try_from(v).map_err(|_| format!("must be in {}", self.describe()))
    }
}

impl Real {
    /// `the allowed range 0 to 1000 (changes per second)`.
    pub fn describe(&self) -> String {
        format!(
            "the allowed range {} to {} ({})",
            self.min, self.max, self.unit
        )
    }

    /// NaN and the infinities are never in range (the comparisons below are false for NaN).
    pub fn contains(&self, v: f64) -> bool {
        v.is_finite() && v >= self.min && v <= self.max
    }

    pub fn from_json(&self, name: &str, v: &Value) -> Result<f64, String> {
        v.as_f64()
            .filter(|n| self.contains(*n))
            .ok_or_else(|| out_of_range(name, &self.describe(), &shown(v)))
    }

    pub fn parse(&self, s: &str) -> Result<f64, String> {
        s.trim()
            .parse::<f64>()
            .ok()
            .filter(|n| self.contains(*n))
            .ok_or_else(|| format!("must be in {}", self.describe()))
    }
}

fn out_of_range(name: &str, range: &str, got: &str) -> String {
    format!("{name} must be in {range}; got {got}")
}

/// A JSON value for an error message, cut short: the message must not echo a huge body.
fn shown(v: &Value) -> String {
    let full = v.to_string();
    let mut out = String::new();
    for (i, c) in full.chars().enumerate() {
        if i == 40 {
            let _ = write!(out, "…");
            break;
        }
        out.push(c);
    }
    out
}

/// Background churn. Each change costs some microseconds under the store's lock and stays in
/// memory for the rest of the run (its log entry, and the object it created or changed: a few
/// hundred bytes): a thousand a second keeps requests answered and memory growing by about
/// 1.5 GB an hour. A billion a second, once accepted, held the lock for minutes per tick.
pub const CHURN: Real = Real {
    min: 0.0,
    max: 1000.0,
    unit: "changes per second",
};

/// One clock move: ten (Julian) years either way is more than any token lifetime.
pub const CLOCK_STEP: Real = Real {
    min: -315_576_000.0,
    max: 315_576_000.0,
    unit: "seconds, ten years either way",
};

/// The clock's total offset from real time: moves that would pass it are refused, so that the
/// clock plus any date arithmetic on it stays far inside what chrono represents.
pub const CLOCK_OFFSET_MAX_SECS: i64 = 3_155_760_000;

pub const MUTATE_COUNT: Whole = Whole {
    min: 0,
    max: 100_000,
    unit: "changes",
};

pub const MUTATE_GROUPS: Whole = Whole {
    min: 0,
    max: 10_000,
    unit: "group changes",
};

pub const MUTATE_USERS: Whole = Whole {
    min: 0,
    max: 10_000,
    unit: "user changes",
};

/// Changes of one of applications, service principals, devices, drive items, messages or events
/// per `mutate` call.
pub const MUTATE_OTHER: Whole = Whole {
    min: 0,
    max: 10_000,
    unit: "changes",
};

/// Applications, service principals and devices are generated lazily, like contacts.
pub const APPS: Whole = Whole {
    min: 0,
    max: 1_000_000,
    unit: "objects",
};

/// Activated directory roles: one per built-in role template the emulator knows.
pub const ROLES: Whole = Whole {
    min: 0,
    max: 20,
    unit: "roles",
};

/// Contacts are generated lazily: ten million cost nothing until paged.
pub const CONTACTS: Whole = Whole {
    min: 0,
    max: 10_000_000,
    unit: "contacts",
};

/// Group memberships are materialized at start (every user is in "All Company") and every page
/// of a `members@delta` round walks them all: with 100000 users and 100 groups that is about two
/// million links (a page in a few tenths of a second, unoptimized); ten times the groups made a
/// page take seconds with the store locked.
pub const USERS: Whole = Whole {
    min: 0,
    max: 100_000,
    unit: "users",
};

pub const GROUPS: Whole = Whole {
    min: 0,
    max: 100,
    unit: "groups",
};

pub const MEMBER_SLICE: Whole = Whole {
    min: 1,
    max: 100_000,
    unit: "member links per item",
};

/// The state reply lists every organizer.
pub const ORGANIZERS: Whole = Whole {
    min: 0,
    max: 1_000,
    unit: "organizers",
};

/// Recordings are held in memory and scanned on every recordings request.
pub const RECORDINGS: Whole = Whole {
    min: 0,
    max: 100_000,
    unit: "recordings",
};

/// Graph's own largest page.
pub const PAGE_SIZE: Whole = Whole {
    min: 1,
    max: 999,
    unit: "objects per page",
};

pub const LATENCY_MS: Whole = Whole {
    min: 0,
    max: 60_000,
    unit: "milliseconds",
};

pub const TOKEN_LIFETIME_SECS: Whole = Whole {
    min: 1,
    max: 3650 * 86_400,
    unit: "seconds",
};

/// N of a fault spec (requests affected); `always` is the way to say "no limit".
pub const FAULT_COUNT: Whole = Whole {
    min: 1,
    max: 1_000_000,
    unit: "requests",
};

/// `Retry-After` of throttle / unavailable.
pub const FAULT_RETRY_SECS: Real = Real {
    min: 0.0,
    max: 3600.0,
    unit: "seconds",
};

pub const FAULT_SLOW_MS: Whole = Whole {
    min: 0,
    max: 600_000,
    unit: "milliseconds",
};

/// Every Graph request walks the active faults several times.
pub const ACTIVE_FAULTS_MAX: usize = 100;

pub const DEVICE_CODE_INTERVAL_SECS: Whole = Whole {
    min: 0,
    max: 3600,
    unit: "seconds",
};

/// Forced `slow_down` answers of a device-code sign-in.
pub const SLOW_DOWN_COUNT: Whole = Whole {
    min: 0,
    max: 1_000,
    unit: "polls",
};

/// `--token-lifetime`: a duration (see `parse_duration`) within [`TOKEN_LIFETIME_SECS`].
pub fn token_lifetime(s: &str) -> Result<Duration, String> {
    let d = super::config::parse_duration(s)?;
    if d.as_secs_f64() >= TOKEN_LIFETIME_SECS.min as f64
        && d.as_secs_f64() <= TOKEN_LIFETIME_SECS.max as f64
    {
        Ok(d)
    } else {
        Err("must be a duration in the allowed range 1s to 3650d".to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn refuses_what_is_not_a_number_in_range() {
        for v in [
            json!(1e9),
            json!(-1),
            json!("5"),
            json!(null),
            json!(f64::MAX),
        ] {
            let e = CHURN.from_json("per_sec", &v).err().unwrap_or_default();
            assert!(e.contains("allowed range 0 to 1000"), "{v}: {e}");
        }
        assert_eq!(CHURN.from_json("per_sec", &json!(1000)), Ok(1000.0));
        for s in ["NaN", "inf", "-inf", "infinity", "1e7", "-0.5", ""] {
            assert!(CHURN.parse(s).is_err(), "{s}");
        }
        assert_eq!(CHURN.parse("2.5"), Ok(2.5));
        assert!(MUTATE_COUNT.from_json("count", &json!(1.5)).is_err());
        assert!(MUTATE_COUNT.from_json("count", &json!(u64::MAX)).is_err());
        assert_eq!(
            MUTATE_COUNT.from_json("count", &json!(100_000)),
            Ok(100_000)
        );
        assert!(PAGE_SIZE.parse("0").is_err());
        assert!(CONTACTS.parse("99999999999999999999999").is_err());
    }

    #[test]
    fn long_values_are_cut_in_messages() {
        let e = CHURN
            .from_json("per_sec", &json!("x".repeat(10_000)))
            .err()
            .unwrap_or_default();
        assert!(e.len() < 200, "{e}");
    }

    #[test]
    fn token_lifetimes() {
        assert!(token_lifetime("7d").is_ok());
        assert!(token_lifetime("3650d").is_ok());
        assert!(token_lifetime("3651d").is_err());
        assert!(token_lifetime("0").is_err());
        assert!(token_lifetime("1e300d").is_err());
    }
}
