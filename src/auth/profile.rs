//! Named sign-in profiles in a TOML file in the platform's config directory
//! (`$XDG_CONFIG_HOME/deltascope/config.toml` or `~/.config/deltascope/config.toml` on Linux,
//! `~/Library/Application Support/deltascope/config.toml` on macOS,
//! `%APPDATA%\deltascope\config.toml` on Windows; `DELTASCOPE_CONFIG` or `--config` override).
//!
//! A profile holds **no secret**: only names of environment variables and paths of files (plus
//! tenant and client ids, which are identifiers, not credentials). A key that would hold a secret
//! (`client_secret`, `token`, `password`, ...) is refused with a message saying what to write.
//!
//! ```toml
//! [profiles.contoso-recordings]
//! cloud = "global"
//! method = "client-secret"          # client-secret | client-certificate | device-code
//!                                    # | token-env | token-file | azure-cli
//! tenant_id = "contoso.onmicrosoft.com"
//! client_id = "00000000-0000-0000-0000-000000000000"
//! client_secret_env = "CONTOSO_GRAPH_SECRET"
//!
//! [profiles.gcch-contacts]
//! cloud = "usgov"
//! method = "device-code"
//! tenant_id_env = "GCCH_TENANT_ID"
//! client_id_env = "GCCH_CLIENT_ID"
//! scopes = ["OrgContact.Read.All"]
//! ca_cert = "/etc/ssl/corp-proxy-ca.pem"  # a TLS-inspecting proxy's CA, trusted besides the system's
//! ```
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::Deserialize;

use super::{AuthError, Cloud};

/// How a profile signs in.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "kebab-case")]
pub enum Method {
    ClientSecret,
    ClientCertificate,
    DeviceCode,
    TokenEnv,
    TokenFile,
    TokenStdin,
    AzureCli,
}

impl Method {
    pub fn name(self) -> &'static str {
        match self {
            Method::ClientSecret => "client-secret",
            Method::ClientCertificate => "client-certificate",
            Method::DeviceCode => "device-code",
            Method::TokenEnv => "token-env",
            Method::TokenFile => "token-file",
            Method::TokenStdin => "token-stdin",
            Method::AzureCli => "azure-cli",
        }
    }
}

/// One named profile.
#[derive(Clone, Debug, Default, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct Profile {
    pub cloud: Option<Cloud>,
    pub method: Option<Method>,
    pub tenant_id: Option<String>,
    pub tenant_id_env: Option<String>,
    pub client_id: Option<String>,
    pub client_id_env: Option<String>,
    /// Name of the variable holding the client secret.
    pub client_secret_env: Option<String>,
    /// PEM file with the certificate (and the key, unless `key_path` is given).
    pub certificate_path: Option<PathBuf>,
    pub key_path: Option<PathBuf>,
    /// Name of the variable holding an access token.
    pub token_env: Option<String>,
    pub token_file: Option<PathBuf>,
    /// Delegated permissions for the device-code sign-in.
    pub scopes: Option<Vec<String>>,
    /// Another sign-in host (https, or loopback http for the emulator).
    pub login_host: Option<String>,
    /// The Graph root the token is for (default: the cloud's).
    pub graph_root: Option<String>,
    /// PEM file of certificate authorities trusted besides the system's (a TLS-inspecting
    /// proxy's, an https emulator's); `--ca-cert` overrides it.
    pub ca_cert: Option<PathBuf>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct File {
    #[serde(default)]
    profiles: BTreeMap<String, toml::Value>,
    /// The explorer's theme (`dark`, `light`, `mono` or a file), read by `tui::theme`.
    #[serde(default, rename = "theme")]
    _theme: Option<toml::Value>,
}

/// The profiles of a config file.
#[derive(Clone, Debug, Default)]
pub struct Profiles {
    pub path: Option<PathBuf>,
    pub profiles: BTreeMap<String, Profile>,
}

/// Keys that would put a secret in the file.
const SECRET_KEYS: &[(&str, &str)] = &[
    ("client_secret", "client_secret_env"),
    ("secret", "client_secret_env"),
    ("password", "client_secret_env"),
    (
        "certificate_password",
        "an unencrypted PEM in certificate_path",
    ),
    ("token", "token_env or token_file"),
    ("access_token", "token_env or token_file"),
    ("refresh_token", "device-code sign-in"),
];

/// The platform's config directory for deltascope (one rule for the profiles and the keymap).
pub use crate::dirs::config_dir;

/// The config file: `DELTASCOPE_CONFIG`, else `{config dir}/config.toml`.
pub fn default_config_path() -> Option<PathBuf> {
    std::env::var_os("DELTASCOPE_CONFIG")
        .filter(|v| !v.is_empty())
        .map(PathBuf::from)
        .or_else(|| config_dir().map(|d| d.join("config.toml")))
}

impl Profiles {
    /// Reads `path`; a missing file is no profiles.
    pub fn load(path: &Path) -> Result<Profiles, AuthError> {
        let text = match std::fs::read_to_string(path) {
            Ok(t) => t,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                return Ok(Profiles {
                    path: Some(path.to_path_buf()),
                    profiles: BTreeMap::new(),
                });
            }
            Err(e) => {
                return Err(AuthError::Missing(format!(
                    "cannot read the config file {}: {e}",
                    path.display()
                )));
            }
        };
        Self::parse(&text)
            .map(|mut p| {
                p.path = Some(path.to_path_buf());
                p
            })
            .map_err(|e| AuthError::Missing(format!("{}: {e}", path.display())))
    }

    /// Parses the TOML text. Errors quote no values (a misplaced secret stays out of messages).
    pub fn parse(text: &str) -> Result<Profiles, String> {
        let file: File = toml::from_str(text).map_err(|e| {
            // toml's messages quote the offending line; keep only the first line of its message.
            format!(
                "not a valid deltascope config file ({})",
                e.message().lines().next().unwrap_or("syntax error")
            )
        })?;
        let mut profiles = BTreeMap::new();
        for (name, value) in file.profiles {
            if let Some(table) = value.as_table() {
                for (key, use_instead) in SECRET_KEYS {
                    if table.contains_key(*key) {
                        return Err(format!(
                            "profile {name:?} has the key {key:?}: profiles hold no secrets, only names of variables and paths; use {use_instead}"
                        ));
                    }
                }
            }
            let p: Profile = value.try_into().map_err(|e: toml::de::Error| {
                format!(
                    "profile {name:?}: {}",
                    e.message().lines().next().unwrap_or("invalid")
                )
            })?;
            profiles.insert(name, p);
        }
        Ok(Profiles {
            path: None,
            profiles,
        })
    }

    pub fn names(&self) -> Vec<&str> {
        self.profiles.keys().map(String::as_str).collect()
    }

    pub fn get(&self, name: &str) -> Result<&Profile, AuthError> {
        self.profiles.get(name).ok_or_else(|| {
            let known = if self.profiles.is_empty() {
                "it has no profiles".to_string()
            } else {
                format!("its profiles: {}", self.names().join(", "))
            };
            AuthError::Missing(format!(
                "no profile {name:?} in {} ({known})",
                self.path
                    .as_deref()
                    .map(|p| p.display().to_string())
                    .unwrap_or_else(|| "the config file".into())
            ))
        })
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn profiles_parse() {
        let p = Profiles::parse(
            r#"
theme = "light"   # the explorer's, beside the profiles

[profiles.rec]
cloud = "usgov-dod"
method = "client-certificate"
tenant_id = "t"
client_id_env = "MY_CLIENT"
certificate_path = "/etc/app.pem"

[profiles.contacts]
method = "device-code"
scopes = ["OrgContact.Read.All"]
"#,
        )
        .unwrap();
        assert_eq!(p.names(), vec!["contacts", "rec"]);
        let rec = p.get("rec").unwrap();
        assert_eq!(rec.cloud, Some(Cloud::UsGovDod));
        assert_eq!(rec.method, Some(Method::ClientCertificate));
        assert!(
            p.get("nope")
                .unwrap_err()
                .to_string()
                .contains("contacts, rec")
        );
    }

    #[test]
    fn secrets_are_refused_without_being_quoted() {
        let e =
            Profiles::parse("[profiles.x]\nclient_secret = \"hunter2-very-secret\"\n").unwrap_err();
        assert!(e.contains("client_secret_env"), "{e}");
        assert!(!e.contains("hunter2"), "{e}");
        let e = Profiles::parse("[profiles.x]\ntoken = \"eyJ0-secret\"\n").unwrap_err();
        assert!(!e.contains("eyJ0-secret"), "{e}");
        let e = Profiles::parse("[profiles.x]\nclient_secrett = \"oops-secret\"\n").unwrap_err();
        assert!(!e.contains("oops-secret"), "{e}");
        let e = Profiles::parse("[profiles.x\nclient_secret = \"broken-secret\"\n").unwrap_err();
        assert!(!e.contains("broken-secret"), "{e}");
    }
}
