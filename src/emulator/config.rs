//! Emulator configuration.
use std::time::Duration;

/// What the emulator serves and how. `Default` is a small healthy demo tenant.
#[derive(Clone, Debug)]
pub struct EmulatorConfig {
    /// Seed of the deterministic demo tenant (same seed, same tenant).
    pub seed: u64,
    /// Number of org contacts generated at start (lazily: up to millions is fine).
    pub contacts: usize,
    /// Number of users (the first `organizers` of them organize meetings).
    pub users: usize,
    /// Number of groups generated at start (members drawn from the users).
    pub groups: usize,
    /// Most member links one group item of a full round carries (`members@delta` slices).
    pub member_slice: usize,
    /// Number of meeting organizers (users with recordings and transcripts).
    pub organizers: usize,
    /// Number of recordings generated at start, spread over the organizers.
    pub recordings: usize,
    /// Default page size for contacts and users.
    pub page_size: usize,
    /// State tokens older than this (on the emulator clock) answer 400 syncStateNotFound.
    pub token_lifetime: Duration,
    /// Background changes per second (0: none).
    pub churn_per_sec: f64,
    /// Fault specs applied at start (see `faults`).
    pub faults: Vec<String>,
    /// Extra latency added to every Graph request.
    pub latency: Duration,
    /// The identity platform (token and device-code endpoints) and token enforcement.
    pub identity: super::identity::IdentityConfig,
}

impl Default for EmulatorConfig {
    fn default() -> Self {
        EmulatorConfig {
            seed: 42,
            contacts: 250,
            users: 50,
            groups: 12,
            member_slice: 20,
            organizers: 3,
            recordings: 40,
            page_size: 100,
            token_lifetime: Duration::from_secs(7 * 24 * 3600),
            churn_per_sec: 0.0,
            faults: Vec::new(),
            latency: Duration::ZERO,
            identity: Default::default(),
        }
    }
}

/// Parses durations like `7d`, `12h`, `30m`, `3600s`, `3600` (seconds), `500ms`.
pub fn parse_duration(s: &str) -> Result<Duration, String> {
    let s = s.trim();
    let (num, mult_ms): (&str, f64) = if let Some(n) = s.strip_suffix("ms") {
        (n, 1.0)
    } else if let Some(n) = s.strip_suffix('d') {
        (n, 86_400_000.0)
    } else if let Some(n) = s.strip_suffix('h') {
        (n, 3_600_000.0)
    } else if let Some(n) = s.strip_suffix('m') {
        (n, 60_000.0)
    } else if let Some(n) = s.strip_suffix('s') {
        (n, 1000.0)
    } else {
        (s, 1000.0)
    };
    let v: f64 = num
        .trim()
        .parse()
        .map_err(|_| format!("not a duration: {s:?} (examples: 7d, 12h, 30m, 3600s, 500ms)"))?;
    if !v.is_finite() || v < 0.0 {
        return Err(format!("not a duration: {s:?}"));
    }
    Ok(Duration::from_millis((v * mult_ms) as u64))
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    #[test]
    fn durations() {
        assert_eq!(parse_duration("7d"), Ok(Duration::from_secs(604_800)));
        assert_eq!(parse_duration("3600s"), Ok(Duration::from_secs(3600)));
        assert_eq!(parse_duration("90"), Ok(Duration::from_secs(90)));
        assert_eq!(parse_duration("250ms"), Ok(Duration::from_millis(250)));
        assert!(parse_duration("x").is_err());
    }
}
