//! National clouds: each has its own Graph root and its own sign-in host, and tokens never cross
//! from one cloud to another (spec §7).
//!
//! [`Authority`] is where tokens come from: a cloud's sign-in host plus a tenant, or (for tests and
//! the emulator) any https origin or a loopback http origin.
use std::fmt;
use std::str::FromStr;

use super::AuthError;

/// A Microsoft cloud. `FromStr`/`Display` use the command-line names
/// `global`, `usgov`, `usgov-dod`, `china`.
#[derive(
    Clone,
    Copy,
    Debug,
    PartialEq,
    Eq,
    Hash,
    Default,
    clap::ValueEnum,
    serde::Serialize,
    serde::Deserialize,
)]
#[serde(rename_all = "kebab-case")]
pub enum Cloud {
    /// Global (public) cloud: graph.microsoft.com.
    #[default]
    Global,
    /// US Government L4 (GCC High): graph.microsoft.us.
    #[value(name = "usgov")]
    #[serde(rename = "usgov")]
    UsGov,
    /// US Government L5 (DoD): dod-graph.microsoft.us.
    #[value(name = "usgov-dod")]
    #[serde(rename = "usgov-dod")]
    UsGovDod,
    /// China, operated by 21Vianet: microsoftgraph.chinacloudapi.cn.
    China,
}

impl Cloud {
    pub const ALL: [Cloud; 4] = [Cloud::Global, Cloud::UsGov, Cloud::UsGovDod, Cloud::China];

    /// The command-line name.
    pub fn name(self) -> &'static str {
        match self {
            Cloud::Global => "global",
            Cloud::UsGov => "usgov",
            Cloud::UsGovDod => "usgov-dod",
            Cloud::China => "china",
        }
    }

    /// A person's name for it.
    pub fn title(self) -> &'static str {
        match self {
            Cloud::Global => "Global",
            Cloud::UsGov => "US Gov L4 (GCC High)",
            Cloud::UsGovDod => "US Gov L5 (DoD)",
            Cloud::China => "China (21Vianet)",
        }
    }

    /// The Graph root (origin, no trailing slash).
    pub fn graph_root(self) -> &'static str {
        match self {
            Cloud::Global => "https://graph.microsoft.com",
            Cloud::UsGov => "https://graph.microsoft.us",
            Cloud::UsGovDod => "https://dod-graph.microsoft.us",
            Cloud::China => "https://microsoftgraph.chinacloudapi.cn",
        }
    }

    /// The sign-in (token) host (origin, no trailing slash).
    pub fn login_host(self) -> &'static str {
        match self {
            Cloud::Global => "https://login.microsoftonline.com",
            Cloud::UsGov | Cloud::UsGovDod => "https://login.microsoftonline.us",
            Cloud::China => "https://login.partner.microsoftonline.cn",
        }
    }

    /// The app-only scope: `{Graph root}/.default`.
    pub fn default_scope(self) -> String {
        format!("{}/.default", self.graph_root())
    }

    /// The cloud whose Graph root is this audience (`aud` claim), if any.
    pub fn from_audience(aud: &str) -> Option<Cloud> {
        let aud = aud.trim_end_matches('/');
        Cloud::ALL
            .into_iter()
            .find(|c| c.graph_root().eq_ignore_ascii_case(aud))
    }

    /// The cloud whose Graph root this is (`https://graph.microsoft.us` → `usgov`), if any.
    pub fn from_graph_root(root: &str) -> Option<Cloud> {
        Cloud::from_audience(root)
    }

    /// The clouds whose token issuer (`iss` claim) this is. US Gov L4 and L5 share a sign-in host,
    /// so an issuer alone may name two clouds.
    pub fn from_issuer(iss: &str) -> Vec<Cloud> {
        let host = iss
            .split_once("://")
            .map(|(_, rest)| rest)
            .unwrap_or(iss)
            .split('/')
            .next()
            .unwrap_or("")
            .to_ascii_lowercase();
        match host.as_str() {
            "sts.windows.net" | "login.microsoftonline.com" | "login.windows.net" => {
                vec![Cloud::Global]
            }
            "login.microsoftonline.us" | "login.windows.us" | "sts.windows.us" => {
                vec![Cloud::UsGov, Cloud::UsGovDod]
            }
            "sts.chinacloudapi.cn"
            | "login.chinacloudapi.cn"
            | "login.partner.microsoftonline.cn" => vec![Cloud::China],
            _ => Vec::new(),
        }
    }
}

impl fmt::Display for Cloud {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for Cloud {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim().to_ascii_lowercase().as_str() {
            "global" | "public" | "azurepubliccloud" | "worldwide" => Ok(Cloud::Global),
            "usgov" | "gcchigh" | "gcc-high" | "usgovl4" | "azureusgovernment" => Ok(Cloud::UsGov),
            "usgov-dod" | "dod" | "usgovl5" => Ok(Cloud::UsGovDod),
            "china" | "azurechinacloud" | "21vianet" => Ok(Cloud::China),
            other => Err(format!(
                "unknown cloud {other:?}: use global, usgov, usgov-dod or china"
            )),
        }
    }
}

/// Where tokens are requested: `{host}/{tenant}/oauth2/v2.0/token` and `.../devicecode`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Authority {
    host: String,
    tenant: String,
}

impl Authority {
    /// The cloud's own sign-in host.
    pub fn for_cloud(cloud: Cloud, tenant: &str) -> Result<Authority, AuthError> {
        Authority::custom(cloud.login_host(), tenant)
    }

    /// Any sign-in host: an https origin, or a loopback http origin (the emulator in tests).
    pub fn custom(host: &str, tenant: &str) -> Result<Authority, AuthError> {
        let host = check_origin(host)?;
        let tenant = tenant.trim();
        if tenant.is_empty()
            || !tenant
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '.' | '_'))
        {
            return Err(AuthError::Missing(format!(
                "the tenant {tenant:?} is not a tenant id or domain (set AZURE_TENANT_ID or --tenant)"
            )));
        }
        Ok(Authority {
            host,
            tenant: tenant.to_string(),
        })
    }

    pub fn host(&self) -> &str {
        &self.host
    }

    pub fn tenant(&self) -> &str {
        &self.tenant
    }

    pub fn token_url(&self) -> String {
        format!("{}/{}/oauth2/v2.0/token", self.host, self.tenant)
    }

    pub fn device_code_url(&self) -> String {
        format!("{}/{}/oauth2/v2.0/devicecode", self.host, self.tenant)
    }
}

/// Normalizes an origin (scheme://host[:port], no path) and refuses anything that could send a
/// credential in clear text to another machine: https, or http on loopback only.
pub fn check_origin(s: &str) -> Result<String, AuthError> {
    let u = url::Url::parse(s.trim())
        .map_err(|e| AuthError::Missing(format!("{s:?} is not a URL ({e})")))?;
    let host = u
        .host_str()
        .ok_or_else(|| AuthError::Missing(format!("{s:?} has no host")))?;
    let loopback = match u.host() {
        Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
        Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
        Some(url::Host::Domain(d)) => d.eq_ignore_ascii_case("localhost"),
        None => false,
    };
    match u.scheme() {
        "https" => {}
        "http" if loopback => {}
        other => {
            return Err(AuthError::Missing(format!(
                "{s:?}: credentials go over https only ({other} is allowed on loopback only)"
            )));
        }
    }
    if u.path() != "/" && !u.path().is_empty() || u.query().is_some() {
        return Err(AuthError::Missing(format!(
            "{s:?}: give an origin (scheme://host[:port]) without a path"
        )));
    }
    let host = if matches!(u.host(), Some(url::Host::Ipv6(_))) {
        format!("[{host}]")
    } else {
        host.to_string()
    };
    Ok(match u.port() {
        Some(p) => format!("{}://{}:{}", u.scheme(), host, p),
        None => format!("{}://{}", u.scheme(), host),
    })
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn table_of_the_spec() {
        assert_eq!(Cloud::Global.graph_root(), "https://graph.microsoft.com");
        assert_eq!(Cloud::UsGov.graph_root(), "https://graph.microsoft.us");
        assert_eq!(
            Cloud::UsGovDod.graph_root(),
            "https://dod-graph.microsoft.us"
        );
        assert_eq!(
            Cloud::China.graph_root(),
            "https://microsoftgraph.chinacloudapi.cn"
        );
        assert_eq!(
            Cloud::Global.login_host(),
            "https://login.microsoftonline.com"
        );
        assert_eq!(
            Cloud::UsGov.login_host(),
            "https://login.microsoftonline.us"
        );
        assert_eq!(
            Cloud::UsGovDod.login_host(),
            "https://login.microsoftonline.us"
        );
        assert_eq!(
            Cloud::China.login_host(),
            "https://login.partner.microsoftonline.cn"
        );
        assert_eq!(
            Cloud::UsGov.default_scope(),
            "https://graph.microsoft.us/.default"
        );
    }

    #[test]
    fn names_round_trip() {
        for c in Cloud::ALL {
            assert_eq!(c.to_string().parse::<Cloud>().unwrap(), c);
            assert_eq!(
                <Cloud as clap::ValueEnum>::from_str(c.name(), false).unwrap(),
                c
            );
        }
        assert_eq!("GCCHigh".parse::<Cloud>().unwrap(), Cloud::UsGov);
        assert!("mars".parse::<Cloud>().is_err());
    }

    #[test]
    fn audience_and_issuer() {
        assert_eq!(
            Cloud::from_audience("https://graph.microsoft.us/"),
            Some(Cloud::UsGov)
        );
        assert_eq!(
            Cloud::from_audience("https://dod-graph.microsoft.us"),
            Some(Cloud::UsGovDod)
        );
        assert_eq!(
            Cloud::from_audience("00000003-0000-0000-c000-000000000000"),
            None
        );
        assert_eq!(
            Cloud::from_issuer("https://sts.chinacloudapi.cn/abc/"),
            vec![Cloud::China]
        );
        assert_eq!(
            Cloud::from_issuer("https://sts.windows.net/abc/"),
            vec![Cloud::Global]
        );
        assert_eq!(
            Cloud::from_issuer("https://login.microsoftonline.us/t/v2.0").len(),
            2
        );
    }

    #[test]
    fn authorities() {
        let a = Authority::for_cloud(Cloud::China, "contoso.partner.onmschina.cn").unwrap();
        assert_eq!(
            a.token_url(),
            "https://login.partner.microsoftonline.cn/contoso.partner.onmschina.cn/oauth2/v2.0/token"
        );
        let e = Authority::custom("http://127.0.0.1:8080/", "t1").unwrap();
        assert_eq!(
            e.device_code_url(),
            "http://127.0.0.1:8080/t1/oauth2/v2.0/devicecode"
        );
        assert!(Authority::custom("http://login.example.com", "t").is_err());
        assert!(Authority::custom("https://login.example.com/x", "t").is_err());
        assert!(Authority::custom("https://login.example.com", "a/b").is_err());
        assert!(Authority::custom("https://login.example.com", "").is_err());
    }
}
