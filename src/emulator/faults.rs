//! Faults on demand. A spec is `NAME[:N[:ARG]]`; N is the number of Graph requests affected
//! (control requests never count), `always` for no limit. Specs:
//!
//! | spec | effect |
//! | --- | --- |
//! | `throttle:N[:SECS]` | 429 `TooManyRequests` with `Retry-After: SECS` (default 1; fractional allowed, e.g. 0.5) |
//! | `unavailable:N[:SECS]` | 503 `serviceNotAvailable` with `Retry-After` |
//! | `gone:N` | 410 `resyncRequired` with `Location`: a URL restarting a full round of the same query |
//! | `expired[:N]` | the next N requests carrying a token answer 400 `syncStateNotFound` |
//! | `unauthorized:N` | 401 `InvalidAuthenticationToken` with `WWW-Authenticate` |
//! | `forbidden:N` | 403 `Authorization_RequestDenied` |
//! | `empty:N` | 200 with an empty `value` and a nextLink to the same page (which then follows normally) |
//! | `duplicate:N` | items of the page are sent again in the next page of the round (or twice in a last page) |
//! | `replay[:N]` | the next delta round re-sends the changes of the round before it too |
//! | `shuffle[:N]` | items of a page in random order (default: always) |
//! | `slow:N:MS` | the response is delayed by MS milliseconds |
//! | `malformed:N` | 200 with a body that is not JSON |
//! | `truncated:N` | 200 whose body stops half-way (the connection is cut) |
//! | `drop-next-link[:N]` | recordings/transcripts with `$top`: the page before the last has no nextLink but a deltaLink, so the last page is lost (the documented known issue; default: always) |
//! | `foreign-link:N` | the page's nextLink/deltaLink points to another origin (`http://127.0.0.2:PORT`) |
//!
//! N defaults to 1 except where noted.
//!
//! Allowed ranges (a spec outside them is refused, as a 400 or a usage error): N from 1 to
//! 1000000 or `always`, SECS from 0 to 3600, MS from 0 to 600000; at most 100 active faults.
use serde_json::{Value, json};

use super::limits::{ACTIVE_FAULTS_MAX, FAULT_COUNT, FAULT_RETRY_SECS, FAULT_SLOW_MS};

#[derive(Clone, Debug, PartialEq)]
pub enum FaultKind {
    Throttle { secs: f64 },
    Unavailable { secs: f64 },
    Gone,
    Expired,
    Unauthorized,
    Forbidden,
    Empty,
    Duplicate,
    Replay,
    Shuffle,
    Slow { ms: u64 },
    Malformed,
    Truncated,
    DropNextLink,
    ForeignLink,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Fault {
    pub kind: FaultKind,
    /// Requests left to affect (None: always).
    pub remaining: Option<u32>,
    pub spec: String,
}

pub fn parse(spec: &str) -> Result<Fault, String> {
    let spec = spec.trim();
    let mut parts = spec.split(':');
    let name = parts.next().unwrap_or("").to_ascii_lowercase();
    let n_part = parts.next();
    let arg = parts.next();
    if parts.next().is_some() {
        return Err(format!("fault spec {spec:?}: too many ':' parts"));
    }
    let default_always = matches!(
        name.as_str(),
        "shuffle" | "drop-next-link" | "drop_next_link"
    );
    let remaining = match n_part {
        None | Some("") => {
            if default_always {
                None
            } else {
                Some(1)
            }
        }
        Some(s) if s.eq_ignore_ascii_case("always") || s == "*" => None,
        Some(s) => Some(
            s.parse::<u64>()
                .ok()
                .filter(|n| FAULT_COUNT.contains(*n))
                .and_then(|n| u32::try_from(n).ok())
                .ok_or_else(|| {
                    format!(
                        "fault spec {spec:?}: N must be in {} or 'always'",
                        FAULT_COUNT.describe()
                    )
                })?,
        ),
    };
    let secs = |default: f64| -> Result<f64, String> {
        match arg {
            None | Some("") => Ok(default),
            Some(a) => FAULT_RETRY_SECS
                .parse(a)
                .map_err(|e| format!("fault spec {spec:?}: SECS {e}")),
        }
    };
    let no_arg = |k: FaultKind| -> Result<FaultKind, String> {
        if arg.is_some() {
            Err(format!("fault spec {spec:?}: takes no argument after N"))
        } else {
            Ok(k)
        }
    };
    let kind = match name.as_str() {
        "throttle" => FaultKind::Throttle { secs: secs(1.0)? },
        "unavailable" => FaultKind::Unavailable { secs: secs(1.0)? },
        "gone" => no_arg(FaultKind::Gone)?,
        "expired" => no_arg(FaultKind::Expired)?,
        "unauthorized" => no_arg(FaultKind::Unauthorized)?,
        "forbidden" => no_arg(FaultKind::Forbidden)?,
        "empty" => no_arg(FaultKind::Empty)?,
        "duplicate" => no_arg(FaultKind::Duplicate)?,
        "replay" => no_arg(FaultKind::Replay)?,
        "shuffle" => no_arg(FaultKind::Shuffle)?,
        "slow" => {
            let ms = FAULT_SLOW_MS
                .parse(arg.ok_or_else(|| format!("fault spec {spec:?}: use slow:N:MS"))?)
                .map_err(|e| format!("fault spec {spec:?}: MS {e}"))?;
            FaultKind::Slow { ms }
        }
        "malformed" => no_arg(FaultKind::Malformed)?,
        "truncated" => no_arg(FaultKind::Truncated)?,
        "drop-next-link" | "drop_next_link" => no_arg(FaultKind::DropNextLink)?,
        "foreign-link" | "foreign_link" => no_arg(FaultKind::ForeignLink)?,
        _ => {
            return Err(format!(
                "unknown fault {name:?}; known: throttle, unavailable, gone, expired, unauthorized, \
                 forbidden, empty, duplicate, replay, shuffle, slow, malformed, truncated, \
                 drop-next-link, foreign-link"
            ));
        }
    };
    Ok(Fault {
        kind,
        remaining,
        spec: spec.to_string(),
    })
}

/// The active faults.
#[derive(Debug, Default)]
pub struct Faults {
    list: Vec<Fault>,
}

/// What the first matching "answer instead" fault says to do.
#[derive(Clone, Debug, PartialEq)]
pub enum Answer {
    Throttle(f64),
    Unavailable(f64),
    Gone,
    Unauthorized,
    Forbidden,
}

impl Faults {
    /// Adds `f` unless [`ACTIVE_FAULTS_MAX`] are active.
    pub fn add(&mut self, f: Fault) -> Result<(), String> {
        self.room_for(1)?;
        self.list.push(f);
        Ok(())
    }

    /// Whether `n` more faults fit (every Graph request walks the list several times).
    pub fn room_for(&self, n: usize) -> Result<(), String> {
        if self.list.len().saturating_add(n) > ACTIVE_FAULTS_MAX {
            return Err(format!(
                "{} faults are active and {n} more were given; the allowed range is at most {ACTIVE_FAULTS_MAX} active faults (DELETE /_emulator/faults clears them)",
                self.list.len()
            ));
        }
        Ok(())
    }

    pub fn clear(&mut self) {
        self.list.clear();
    }

    pub fn describe(&self) -> Value {
        Value::Array(
            self.list
                .iter()
                .map(|f| json!({"spec": f.spec, "remaining": f.remaining}))
                .collect(),
        )
    }

    /// Consumes one use of the first fault matching `pred`, returning its kind.
    pub fn take(&mut self, pred: impl Fn(&FaultKind) -> bool) -> Option<FaultKind> {
        let pos = self
            .list
            .iter()
            .position(|f| pred(&f.kind) && f.remaining != Some(0))?;
        let f = &mut self.list[pos];
        let kind = f.kind.clone();
        if let Some(r) = f.remaining.as_mut() {
            *r -= 1;
            if *r == 0 {
                self.list.remove(pos);
            }
        }
        Some(kind)
    }

    /// Is a fault of this kind active (without consuming it)?
    pub fn has(&self, pred: impl Fn(&FaultKind) -> bool) -> bool {
        self.list.iter().any(|f| pred(&f.kind))
    }

    pub fn take_slow(&mut self) -> Option<u64> {
        match self.take(|k| matches!(k, FaultKind::Slow { .. })) {
            Some(FaultKind::Slow { ms }) => Some(ms),
            _ => None,
        }
    }

    pub fn take_answer(&mut self) -> Option<Answer> {
        let k = self.take(|k| {
            matches!(
                k,
                FaultKind::Throttle { .. }
                    | FaultKind::Unavailable { .. }
                    | FaultKind::Gone
                    | FaultKind::Unauthorized
                    | FaultKind::Forbidden
            )
        })?;
        Some(match k {
            FaultKind::Throttle { secs } => Answer::Throttle(secs),
            FaultKind::Unavailable { secs } => Answer::Unavailable(secs),
            FaultKind::Gone => Answer::Gone,
            FaultKind::Unauthorized => Answer::Unauthorized,
            _ => Answer::Forbidden,
        })
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn parses_specs() {
        assert_eq!(
            parse("throttle:2:0.5").map(|f| (f.kind, f.remaining)),
            Ok((FaultKind::Throttle { secs: 0.5 }, Some(2)))
        );
        assert_eq!(parse("throttle").map(|f| f.remaining), Ok(Some(1)));
        assert_eq!(parse("shuffle").map(|f| f.remaining), Ok(None));
        assert_eq!(parse("empty:always").map(|f| f.remaining), Ok(None));
        assert_eq!(
            parse("slow:3:250").map(|f| f.kind),
            Ok(FaultKind::Slow { ms: 250 })
        );
        assert!(parse("slow:3").is_err());
        assert!(parse("nope").is_err());
        assert!(parse("gone:1:2").is_err());
        assert!(parse("throttle:x").is_err());
    }

    #[test]
    fn numbers_out_of_range_are_refused_naming_the_range() {
        for spec in [
            "throttle:0",
            "throttle:1000001",
            "throttle:99999999999999999999",
            "throttle:-1",
            "throttle:1:3601",
            "throttle:1:NaN",
            "throttle:1:inf",
            "unavailable:1:-0.5",
            "slow:1:600001",
            "slow:1:1e3",
        ] {
            let e = parse(spec).err().unwrap_or_default();
            assert!(e.contains("allowed range"), "{spec}: {e}");
        }
        assert!(parse("throttle:1000000:3600").is_ok());
        assert!(parse("slow:1:600000").is_ok());
        let mut f = Faults::default();
        for _ in 0..ACTIVE_FAULTS_MAX {
            f.add(parse("shuffle").unwrap()).unwrap();
        }
        assert!(f.add(parse("shuffle").unwrap()).is_err());
    }

    #[test]
    fn counts_down() {
        let mut f = Faults::default();
        f.add(parse("throttle:2").unwrap()).unwrap();
        f.add(parse("forbidden:1").unwrap()).unwrap();
        assert_eq!(f.take_answer(), Some(Answer::Throttle(1.0)));
        assert_eq!(f.take_answer(), Some(Answer::Throttle(1.0)));
        assert_eq!(f.take_answer(), Some(Answer::Forbidden));
        assert_eq!(f.take_answer(), None);
    }
}
