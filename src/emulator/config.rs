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
    /// Number of app registrations generated at start.
    pub applications: usize,
    /// Number of service principals generated at start (Microsoft's first-party apps, then
    /// those of the app registrations).
    pub service_principals: usize,
    /// Number of devices generated at start.
    pub devices: usize,
    /// Number of administrative units generated at start.
    pub administrative_units: usize,
    /// Number of activated directory roles (the first built-in templates), at most 20.
    pub directory_roles: usize,
    /// Number of delegated permission grants (oauth2PermissionGrants) generated at start.
    pub grants: usize,
    /// Files in the demo drive (besides its folders).
    pub drive_files: usize,
    /// Messages in the demo mailbox's inbox.
    pub inbox_messages: usize,
    /// Personal contacts in the demo mailbox's default contact folder.
    pub personal_contacts: usize,
    /// Tasks in the demo user's default To Do list.
    pub todo_tasks: usize,
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
    /// Serve https with a certificate authority made at start (see [`super::Emulator::ca_pem`]).
    pub tls: bool,
}

impl Default for EmulatorConfig {
    fn default() -> Self {
        EmulatorConfig {
            seed: 42,
            contacts: 250,
            users: 50,
            groups: 12,
            applications: 40,
            service_principals: 60,
            devices: 30,
            administrative_units: 8,
            directory_roles: 10,
            grants: 24,
            drive_files: 36,
            inbox_messages: 36,
            personal_contacts: 36,
            todo_tasks: 20,
            member_slice: 20,
            organizers: 3,
            recordings: 40,
            page_size: 100,
            token_lifetime: Duration::from_secs(7 * 24 * 3600),
            churn_per_sec: 0.0,
            faults: Vec::new(),
            latency: Duration::ZERO,
            identity: Default::default(),
            tls: false,
        }
    }
}

impl EmulatorConfig {
    /// Checks every number against its allowed range (see `limits`), so that an embedding
    /// program cannot start an emulator that a flag or a control request could not make.
    pub fn validate(&self) -> Result<(), String> {
        use super::limits::*;
        let whole = |name: &str, range: Whole, v: usize| {
            range.check(name, u64::try_from(v).unwrap_or(u64::MAX))
        };
        whole("contacts", CONTACTS, self.contacts)?;
        whole("users", USERS, self.users)?;
        whole("groups", GROUPS, self.groups)?;
        whole("applications", APPS, self.applications)?;
        whole("service_principals", APPS, self.service_principals)?;
        whole("devices", APPS, self.devices)?;
        whole("administrative_units", APPS, self.administrative_units)?;
        whole("directory_roles", ROLES, self.directory_roles)?;
        whole("grants", APPS, self.grants)?;
        whole("member_slice", MEMBER_SLICE, self.member_slice)?;
        whole("organizers", ORGANIZERS, self.organizers)?;
        whole("recordings", RECORDINGS, self.recordings)?;
        whole("page_size", PAGE_SIZE, self.page_size)?;
        LATENCY_MS.check(
            "latency (ms)",
            u64::try_from(self.latency.as_millis()).unwrap_or(u64::MAX),
        )?;
        let id = &self.identity;
        for (name, d) in [
            ("token_lifetime", self.token_lifetime),
            ("identity.access_token_lifetime", id.access_token_lifetime),
            ("identity.device_code_lifetime", id.device_code_lifetime),
        ] {
            if !TOKEN_LIFETIME_SECS.contains(d.as_secs()) {
                return Err(format!(
                    "{name} must be in the allowed range 1s to 3650d; got {} s",
                    d.as_secs()
                ));
            }
        }
        DEVICE_CODE_INTERVAL_SECS.check(
            "identity.device_code_interval_secs",
            id.device_code_interval_secs,
        )?;
        if !CHURN.contains(self.churn_per_sec) {
            return Err(format!(
                "churn_per_sec must be in {}; got {}",
                CHURN.describe(),
                self.churn_per_sec
            ));
        }
        if self.faults.len() > ACTIVE_FAULTS_MAX {
            return Err(format!(
                "{} faults given; the allowed range is at most {ACTIVE_FAULTS_MAX}",
                self.faults.len()
            ));
        }
        Ok(())
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
    let ms = v * mult_ms;
    // Beyond u64 milliseconds the `as` below would saturate to a duration nobody asked for.
    if !ms.is_finite() || ms < 0.0 || ms >= u64::MAX as f64 {
        return Err(format!("not a duration: {s:?}"));
    }
    Ok(Duration::from_millis(ms as u64))
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    #[test]
    fn the_default_config_is_in_range_and_each_number_is_checked() {
        assert_eq!(EmulatorConfig::default().validate(), Ok(()));
        let bad = [
            EmulatorConfig {
                contacts: usize::MAX,
                ..Default::default()
            },
            EmulatorConfig {
                users: 1 << 40,
                ..Default::default()
            },
            EmulatorConfig {
                page_size: 0,
                ..Default::default()
            },
            EmulatorConfig {
                churn_per_sec: f64::NAN,
                ..Default::default()
            },
            EmulatorConfig {
                churn_per_sec: 1e7,
                ..Default::default()
            },
            EmulatorConfig {
                latency: Duration::from_secs(3600),
                ..Default::default()
            },
            EmulatorConfig {
                token_lifetime: Duration::ZERO,
                ..Default::default()
            },
        ];
        for c in bad {
            let e = c.validate().err().unwrap_or_default();
            assert!(e.contains("allowed range"), "{c:?}: {e}");
        }
    }

    #[test]
    fn durations() {
        assert_eq!(parse_duration("7d"), Ok(Duration::from_secs(604_800)));
        assert_eq!(parse_duration("3600s"), Ok(Duration::from_secs(3600)));
        assert_eq!(parse_duration("90"), Ok(Duration::from_secs(90)));
        assert_eq!(parse_duration("250ms"), Ok(Duration::from_millis(250)));
        assert!(parse_duration("x").is_err());
        assert!(parse_duration("1e300d").is_err());
        assert!(parse_duration("NaNs").is_err());
    }
}
