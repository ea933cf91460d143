//! The token inspector: what a token says about itself (app or delegated, tenant, audience,
//! roles or scopes, expiry, cloud), checked against a resource's required permissions from the
//! catalog, in plain sentences. The signature is not checked (this is an inspector; Graph checks
//! it). Nothing here returns the token.
use chrono::{DateTime, Utc};
use serde::Serialize;
use serde_json::{Map, Value};

use super::Cloud;
use super::jwt::{claims, date_claim};
use crate::graph::ResourceSpec;

/// Microsoft Graph's application id, an audience Graph tokens may carry instead of its URL.
pub const GRAPH_APP_ID: &str = "00000003-0000-0000-c000-000000000000";

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum TokenKind {
    /// App-only (client credentials): permissions in `roles`.
    App,
    /// Delegated (a signed-in user): permissions in `scp`.
    Delegated,
}

impl TokenKind {
    pub fn describe(self) -> &'static str {
        match self {
            TokenKind::App => "app-only",
            TokenKind::Delegated => "delegated",
        }
    }
}

/// The decoded claims that matter here.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct TokenInfo {
    pub kind: TokenKind,
    pub tenant: Option<String>,
    pub audience: Option<String>,
    pub issuer: Option<String>,
    pub app_id: Option<String>,
    pub app_name: Option<String>,
    /// The signed-in user (delegated tokens).
    pub user: Option<String>,
    pub roles: Vec<String>,
    pub scopes: Vec<String>,
    pub issued_at: Option<DateTime<Utc>>,
    pub not_before: Option<DateTime<Utc>>,
    pub expires_at: Option<DateTime<Utc>>,
    /// The cloud(s) the token belongs to, from its audience, else its issuer (US Gov L4 and L5
    /// share an issuer). Empty: unknown (an emulator's token, or not a Graph token).
    pub clouds: Vec<Cloud>,
}

fn string(c: &Map<String, Value>, k: &str) -> Option<String> {
    c.get(k)
        .and_then(Value::as_str)
        .filter(|s| !s.is_empty())
        .map(str::to_string)
}

impl TokenInfo {
    /// Decodes a JWT access token's claims. The error never contains the token.
    pub fn decode(token: &str) -> Result<TokenInfo, String> {
        let c = claims(token)?;
        let roles: Vec<String> = c
            .get("roles")
            .and_then(Value::as_array)
            .map(|a| {
                a.iter()
                    .filter_map(|r| r.as_str().map(str::to_string))
                    .collect()
            })
            .unwrap_or_default();
        let scopes: Vec<String> = string(&c, "scp")
            .map(|s| s.split_whitespace().map(str::to_string).collect())
            .unwrap_or_default();
        let kind = match c.get("idtyp").and_then(Value::as_str) {
            Some("app") => TokenKind::App,
            Some("user") => TokenKind::Delegated,
            _ if c.contains_key("scp") => TokenKind::Delegated,
            _ => TokenKind::App,
        };
        let audience = match c.get("aud") {
            Some(Value::String(s)) => Some(s.clone()),
            Some(Value::Array(a)) => a.first().and_then(Value::as_str).map(str::to_string),
            _ => None,
        };
        let issuer = string(&c, "iss");
        let clouds = match audience.as_deref() {
            Some(a) if is_loopback(a) => Vec::new(), // an emulator's token: no cloud
            Some(a) if Cloud::from_audience(a).is_some() => {
                Cloud::from_audience(a).into_iter().collect()
            }
            _ => issuer
                .as_deref()
                .map(Cloud::from_issuer)
                .unwrap_or_default(),
        };
        Ok(TokenInfo {
            kind,
            tenant: string(&c, "tid"),
            audience,
            issuer,
            app_id: string(&c, "appid").or_else(|| string(&c, "azp")),
            app_name: string(&c, "app_displayname"),
            user: string(&c, "upn")
                .or_else(|| string(&c, "preferred_username"))
                .or_else(|| string(&c, "unique_name")),
            roles,
            scopes,
            issued_at: date_claim(&c, "iat"),
            not_before: date_claim(&c, "nbf"),
            expires_at: date_claim(&c, "exp"),
            clouds,
        })
    }

    /// The permissions the token carries (roles of an app token, scopes of a delegated one).
    pub fn permissions(&self) -> &[String] {
        match self.kind {
            TokenKind::App => &self.roles,
            TokenKind::Delegated => &self.scopes,
        }
    }

    /// "in 59 min", "3 h 2 min ago".
    pub fn expiry_text(&self, now: DateTime<Utc>) -> String {
        match self.expires_at {
            None => "unknown (no exp claim)".into(),
            Some(exp) => {
                let d = exp - now;
                let at = exp.format("%Y-%m-%d %H:%M:%S UTC");
                if d.num_seconds() > 0 {
                    format!("{at} (in {})", span(d.num_seconds()))
                } else {
                    format!("{at} (EXPIRED {} ago)", span(-d.num_seconds()))
                }
            }
        }
    }

    /// Is this token for Microsoft Graph at all (audience a Graph root, Graph's app id, or a
    /// loopback emulator)?
    pub fn is_graph_audience(&self) -> bool {
        match self.audience.as_deref() {
            None => false,
            Some(a) => {
                Cloud::from_audience(a).is_some()
                    || a.eq_ignore_ascii_case(GRAPH_APP_ID)
                    || is_loopback(a)
            }
        }
    }

    /// Checks the token against a resource (if any) and the Graph root it will be sent to.
    pub fn check(
        &self,
        resource: Option<&ResourceSpec>,
        graph_root: Option<&str>,
        now: DateTime<Utc>,
    ) -> Check {
        let mut problems = Vec::new();
        let mut notes = Vec::new();
        if let Some(exp) = self.expires_at
            && exp <= now
        {
            problems.push(format!(
                "the token expired {} ago ({}): get a new one",
                span((now - exp).num_seconds()),
                exp.format("%Y-%m-%d %H:%M:%S UTC")
            ));
        }
        if let Some(nbf) = self.not_before
            && nbf > now + chrono::Duration::minutes(5)
        {
            problems.push(format!(
                "the token is not valid before {} (check this machine's clock)",
                nbf.format("%Y-%m-%d %H:%M:%S UTC")
            ));
        }
        if !self.is_graph_audience() {
            problems.push(format!(
                "the token is not for Microsoft Graph (its audience is {}): ask for the scope {{Graph root}}/.default or Graph permissions",
                self.audience.as_deref().unwrap_or("missing")
            ));
        } else if let Some(root) = graph_root
            && let Some(target) = Cloud::from_audience(root)
            && !self.clouds.is_empty()
            && !self.clouds.contains(&target)
        {
            let names: Vec<&str> = self.clouds.iter().map(|c| c.title()).collect();
            let text = format!(
                "the token belongs to the {} cloud but requests go to {} ({}): tokens do not cross clouds; sign in with --cloud {}",
                names.join(" or "),
                root,
                target.title(),
                target
            );
            // The audience naming a cloud is certain; an issuer alone is a hint (some clouds'
            // v1 issuers look alike), so it is only a note.
            if self
                .audience
                .as_deref()
                .and_then(Cloud::from_audience)
                .is_some()
            {
                problems.push(text);
            } else {
                notes.push(format!("probably {text}"));
            }
        }
        if let Some(spec) = resource {
            let what = format!(
                "{} delta",
                spec.title.split(" (").next().unwrap_or(&spec.name)
            );
            let (needed, kind_word) = match self.kind {
                TokenKind::App => (&spec.permissions.application, "application"),
                TokenKind::Delegated => (&spec.permissions.delegated, "delegated"),
            };
            let has: Vec<&String> = needed
                .iter()
                .filter(|n| self.permissions().iter().any(|p| p.eq_ignore_ascii_case(n)))
                .collect();
            if needed.is_empty() {
                let other = match self.kind {
                    TokenKind::App => ("delegated", &spec.permissions.delegated, "an app-only"),
                    TokenKind::Delegated => {
                        ("application", &spec.permissions.application, "a delegated")
                    }
                };
                problems.push(format!(
                    "{what} needs the {} permission {}; this is {} token",
                    other.0,
                    other
                        .1
                        .first()
                        .map(String::as_str)
                        .unwrap_or("(none known)"),
                    other.2
                ));
            } else if has.is_empty() {
                let first = &needed[0];
                let higher = if needed.len() > 1 {
                    format!(" (or a higher one: {})", needed[1..].join(", "))
                } else {
                    String::new()
                };
                let carried = if self.permissions().is_empty() {
                    format!("this {} token has none", self.kind.describe())
                } else {
                    format!(
                        "this {} token has {}",
                        self.kind.describe(),
                        self.permissions().join(", ")
                    )
                };
                problems.push(format!(
                    "{what} needs the {kind_word} permission {first}{higher}; {carried}"
                ));
            } else {
                notes.push(format!(
                    "{what}: the token has the {kind_word} permission {}",
                    has.iter()
                        .map(|s| s.as_str())
                        .collect::<Vec<_>>()
                        .join(", ")
                ));
            }
            if !spec.permissions.notes.is_empty() {
                notes.push(spec.permissions.notes.clone());
            }
        }
        Check { problems, notes }
    }

    /// `label: value` lines for a terminal.
    pub fn lines(&self, now: DateTime<Utc>) -> Vec<(&'static str, String)> {
        let mut v = vec![(
            "kind",
            match (&self.kind, &self.user) {
                (TokenKind::Delegated, Some(u)) => format!("delegated (user {u})"),
                (k, _) => k.describe().to_string(),
            },
        )];
        let or_unknown =
            |o: &Option<String>| o.clone().unwrap_or_else(|| "(not in the token)".into());
        v.push(("tenant", or_unknown(&self.tenant)));
        v.push((
            "app",
            match (&self.app_name, &self.app_id) {
                (Some(n), Some(i)) => format!("{n} ({i})"),
                (None, Some(i)) => i.clone(),
                (Some(n), None) => n.clone(),
                (None, None) => "(not in the token)".into(),
            },
        ));
        v.push(("audience", or_unknown(&self.audience)));
        v.push(("issuer", or_unknown(&self.issuer)));
        v.push((
            "cloud",
            if self.audience.as_deref().is_some_and(is_loopback) {
                "none: a token for a local emulator".into()
            } else if self.clouds.is_empty() {
                "unknown (neither the audience nor the issuer names a national cloud)".into()
            } else {
                self.clouds
                    .iter()
                    .map(|c| format!("{} ({c})", c.title()))
                    .collect::<Vec<_>>()
                    .join(" or ")
            },
        ));
        v.push((
            match self.kind {
                TokenKind::App => "roles",
                TokenKind::Delegated => "scopes",
            },
            if self.permissions().is_empty() {
                "(none)".into()
            } else {
                self.permissions().join(" ")
            },
        ));
        v.push(("expires", self.expiry_text(now)));
        v
    }
}

/// An audience on this machine (the emulator): `http://127.0.0.1:…`, `http://localhost:…`,
/// `http://[::1]:…`, and the same with `https` (`deltascope emulator --tls`).
fn is_loopback(aud: &str) -> bool {
    let a = aud.to_ascii_lowercase();
    let a = a
        .strip_prefix("https://")
        .or_else(|| a.strip_prefix("http://"))
        .unwrap_or("");
    ["127.0.0.1", "localhost", "[::1]"].iter().any(|p| {
        a.strip_prefix(p)
            .is_some_and(|rest| rest.is_empty() || rest.starts_with([':', '/']))
    })
}

/// What the inspector found: `problems` stop the request, `notes` are worth knowing.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Check {
    pub problems: Vec<String>,
    pub notes: Vec<String>,
}

impl Check {
    pub fn ok(&self) -> bool {
        self.problems.is_empty()
    }
}

fn span(secs: i64) -> String {
    let secs = secs.max(0);
    if secs < 60 {
        format!("{secs} s")
    } else if secs < 3600 {
        format!("{} min", secs / 60)
    } else if secs < 86_400 {
        format!("{} h {} min", secs / 3600, (secs % 3600) / 60)
    } else {
        format!("{} d {} h", secs / 86_400, (secs % 86_400) / 3600)
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::graph::Catalog;
    use base64::Engine as _;

    fn jwt(claims: serde_json::Value) -> String {
        let e = |v: &[u8]| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(v);
        format!(
            "{}.{}.{}",
            e(br#"{"alg":"RS256"}"#),
            e(claims.to_string().as_bytes()),
            e(b"sig")
        )
    }

    fn now() -> DateTime<Utc> {
        DateTime::from_timestamp(1_800_000_000, 0).unwrap()
    }

    #[test]
    fn delegated_token_on_recordings() {
        let t = jwt(serde_json::json!({
            "aud": "https://graph.microsoft.com", "iss": "https://sts.windows.net/t/", "tid": "t",
            "scp": "OrgContact.Read.All User.Read", "upn": "a@b.c", "exp": 1_800_003_600
        }));
        let info = TokenInfo::decode(&t).unwrap();
        assert_eq!(info.kind, TokenKind::Delegated);
        assert_eq!(info.clouds, vec![Cloud::Global]);
        let c = info.check(Catalog::builtin().get("recordings"), None, now());
        assert_eq!(
            c.problems,
            vec![
                "callRecording delta needs the application permission OnlineMeetingRecording.Read.All; this is a delegated token"
            ]
        );
        let c = info.check(Catalog::builtin().get("contacts"), None, now());
        assert!(c.ok(), "{c:?}");
        assert!(info.expiry_text(now()).contains("in 1 h 0 min"));
    }

    #[test]
    fn app_token_without_the_role_expired_and_wrong_cloud() {
        let t = jwt(serde_json::json!({
            "aud": "https://graph.microsoft.us", "iss": "https://sts.windows.net/t/", "idtyp": "app",
            "roles": ["User.Read.All"], "exp": 1_799_999_000
        }));
        let info = TokenInfo::decode(&t).unwrap();
        let c = info.check(
            Catalog::builtin().get("contacts"),
            Some("https://graph.microsoft.com"),
            now(),
        );
        assert_eq!(c.problems.len(), 3, "{c:?}");
        assert!(c.problems[0].starts_with("the token expired 16 min ago"));
        assert!(c.problems[1].contains("tokens do not cross clouds"));
        assert_eq!(
            c.problems[2],
            "orgContact delta needs the application permission OrgContact.Read.All (or a higher one: Directory.Read.All, Directory.ReadWrite.All); this app-only token has User.Read.All"
        );
        assert!(
            !TokenInfo::decode("xq-7f3-value")
                .unwrap_err()
                .contains("xq-7f3")
        );
    }

    #[test]
    fn emulator_tokens_have_no_cloud() {
        let t = jwt(
            serde_json::json!({"aud": "http://127.0.0.1:4000", "iss": "https://sts.windows.net/t/", "idtyp": "app", "roles": ["OrgContact.Read.All"]}),
        );
        let info = TokenInfo::decode(&t).unwrap();
        assert!(info.clouds.is_empty());
        assert!(
            info.lines(now())
                .iter()
                .any(|(k, v)| *k == "cloud" && v.contains("emulator"))
        );
        assert!(
            info.check(
                Catalog::builtin().get("contacts"),
                Some("http://127.0.0.1:4000"),
                now()
            )
            .ok()
        );
        let t = jwt(serde_json::json!({"aud": "http://127.0.0.1.evil.example", "roles": []}));
        assert!(!TokenInfo::decode(&t).unwrap().is_graph_audience());
        // The https emulator (--tls) too, with the same care about look-alike hosts.
        let t = jwt(
            serde_json::json!({"aud": "https://[::1]:4000", "idtyp": "app", "roles": ["OrgContact.Read.All"]}),
        );
        let info = TokenInfo::decode(&t).unwrap();
        assert!(info.clouds.is_empty() && info.is_graph_audience());
        assert!(
            info.check(
                Catalog::builtin().get("contacts"),
                Some("https://[::1]:4000"),
                now()
            )
            .ok()
        );
        for aud in [
            "https://localhost.evil.example",
            "ftp://127.0.0.1",
            "127.0.0.1",
        ] {
            let t = jwt(serde_json::json!({ "aud": aud, "roles": [] }));
            assert!(!TokenInfo::decode(&t).unwrap().is_graph_audience(), "{aud}");
        }
    }

    #[test]
    fn an_issuer_alone_only_hints_at_the_cloud() {
        let t = jwt(
            serde_json::json!({"aud": GRAPH_APP_ID, "iss": "https://sts.chinacloudapi.cn/t/", "idtyp": "app", "roles": ["OrgContact.Read.All"]}),
        );
        let c =
            TokenInfo::decode(&t)
                .unwrap()
                .check(None, Some("https://graph.microsoft.com"), now());
        assert!(c.ok(), "{c:?}");
        assert!(
            c.notes[0].starts_with("probably the token belongs to the China"),
            "{c:?}"
        );
    }

    #[test]
    fn not_a_graph_token() {
        let t = jwt(serde_json::json!({"aud": "https://management.azure.com", "roles": []}));
        let c = TokenInfo::decode(&t).unwrap().check(None, None, now());
        assert!(c.problems[0].contains("not for Microsoft Graph"));
    }
}
