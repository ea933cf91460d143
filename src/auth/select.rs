//! Choosing the sign-in from the command line, a profile and the environment (azure-identity
//! names: `AZURE_TENANT_ID`, `AZURE_CLIENT_ID`, `AZURE_CLIENT_SECRET`,
//! `AZURE_CLIENT_CERTIFICATE_PATH`). Flags override the profile, which overrides the environment.
use std::path::PathBuf;
use std::sync::Arc;

use tokio_util::sync::CancellationToken;

use super::external::FixedToken;
use super::profile::{Method, Profile, Profiles, default_config_path};
use super::{
    AuthError, Authority, AzureCli, Cached, ClientCertificate, ClientCredential, ClientCredentials,
    Cloud, DeviceCode, EnvToken, FileToken, PromptFn, Secret, TokenSource,
};
use crate::trust::CaCerts;

/// Sign-in options shared by the commands (`#[command(flatten)]`).
#[derive(clap::Args, Debug, Clone, Default)]
pub struct AuthArgs {
    /// National cloud: sets the Graph root and the sign-in host.
    #[arg(long, value_enum)]
    pub cloud: Option<Cloud>,
    /// Named profile from the config file (no secrets in it: names of variables and paths).
    #[arg(long, env = "DELTASCOPE_PROFILE")]
    pub profile: Option<String>,
    /// Config file with the profiles (default: the platform's config dir, deltascope/config.toml).
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Tenant id or domain (default: $AZURE_TENANT_ID).
    #[arg(long)]
    pub tenant: Option<String>,
    /// App (client) id (default: $AZURE_CLIENT_ID).
    #[arg(long)]
    pub client_id: Option<String>,
    /// App-only sign-in with a client secret read from this environment variable.
    #[arg(long, value_name = "VAR")]
    pub client_secret_env: Option<String>,
    /// App-only sign-in with a certificate: PEM file with the certificate (and the key, unless
    /// --client-key is given). Default: $AZURE_CLIENT_CERTIFICATE_PATH.
    #[arg(long, value_name = "PEM")]
    pub client_certificate: Option<PathBuf>,
    /// PEM private key of --client-certificate, when it is in its own file.
    #[arg(long, value_name = "PEM")]
    pub client_key: Option<PathBuf>,
    /// Delegated sign-in with a device code (a code to enter at a URL).
    #[arg(long)]
    pub device_code: bool,
    /// Delegated permissions to ask for with --device-code (repeatable; default: the resource's).
    #[arg(long = "scope", value_name = "PERMISSION")]
    pub scopes: Vec<String>,
    /// Use the access token in this environment variable.
    #[arg(long, value_name = "VAR")]
    pub token_env: Option<String>,
    /// Use the access token in this file (read again when a refresh is needed).
    #[arg(long, value_name = "FILE")]
    pub token_file: Option<PathBuf>,
    /// Read the access token from standard input.
    #[arg(long)]
    pub token_stdin: bool,
    /// Use the Azure CLI's signed-in account (az account get-access-token --resource-type ms-graph).
    #[arg(long)]
    pub azure_cli: bool,
    /// Sign-in host instead of the cloud's (https, or loopback http for the emulator).
    #[arg(long, value_name = "URL")]
    pub login_host: Option<String>,
    /// Also trust the certificate authorities in this PEM file, for the Graph and the sign-in
    /// requests: an https emulator's (`deltascope emulator --tls`) or a TLS-inspecting proxy's.
    /// The system's roots stay trusted. Default: the profile's `ca_cert`, else
    /// $DELTASCOPE_CA_CERT.
    #[arg(long, value_name = "PEM")]
    pub ca_cert: Option<PathBuf>,
}

/// A resolved sign-in: everything needed to build the token source. Holds no secret.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AuthPlan {
    pub method: Method,
    pub cloud: Cloud,
    /// The Graph root the token is for (the cloud's, or the emulator's).
    pub resource: String,
    pub tenant: Option<String>,
    pub client_id: Option<String>,
    pub secret_env: Option<String>,
    pub certificate: Option<PathBuf>,
    pub key: Option<PathBuf>,
    pub token_env: Option<String>,
    pub token_file: Option<PathBuf>,
    pub scopes: Vec<String>,
    pub login_host: Option<String>,
    pub profile: Option<String>,
    /// Certificate authorities trusted besides the system's (`--ca-cert`), read and checked.
    pub ca_certs: Option<CaCerts>,
}

/// How environment variables are read (tests pass a map).
pub type Lookup<'a> = &'a dyn Fn(&str) -> Option<String>;

/// Reads the process environment (empty values count as unset).
pub fn process_env(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|v| !v.trim().is_empty())
}

impl AuthArgs {
    fn explicit_methods(&self) -> Vec<Method> {
        let mut m = Vec::new();
        if self.client_secret_env.is_some() {
            m.push(Method::ClientSecret);
        }
        if self.client_certificate.is_some() {
            m.push(Method::ClientCertificate);
        }
        if self.device_code {
            m.push(Method::DeviceCode);
        }
        if self.token_env.is_some() {
            m.push(Method::TokenEnv);
        }
        if self.token_file.is_some() {
            m.push(Method::TokenFile);
        }
        if self.token_stdin {
            m.push(Method::TokenStdin);
        }
        if self.azure_cli {
            m.push(Method::AzureCli);
        }
        m
    }

    /// The extra certificate authorities: `--ca-cert`, else the profile's `ca_cert`, else
    /// `DELTASCOPE_CA_CERT`; read and checked now (a bad file is an error naming it).
    pub fn ca_certs(&self, env: Lookup<'_>) -> Result<Option<CaCerts>, AuthError> {
        let profile = self.load_profile()?.map(|(_, p)| p);
        self.ca_certs_with(profile.as_ref(), env)
    }

    fn ca_certs_with(
        &self,
        profile: Option<&Profile>,
        env: Lookup<'_>,
    ) -> Result<Option<CaCerts>, AuthError> {
        let path = self
            .ca_cert
            .clone()
            .or_else(|| profile.and_then(|p| p.ca_cert.clone()))
            .or_else(|| env("DELTASCOPE_CA_CERT").map(PathBuf::from));
        path.map(|p| CaCerts::load(&p).map_err(AuthError::Missing))
            .transpose()
    }

    /// Loads the profile named by `--profile` (or none).
    pub fn load_profile(&self) -> Result<Option<(String, Profile)>, AuthError> {
        let Some(name) = &self.profile else {
            return Ok(None);
        };
        let path = self
            .config
            .clone()
            .or_else(default_config_path)
            .ok_or_else(|| {
                AuthError::Missing(
                    "no config directory (HOME is not set): give the config file with --config"
                        .into(),
                )
            })?;
        let profiles = Profiles::load(&path)?;
        Ok(Some((name.clone(), profiles.get(name)?.clone())))
    }

    /// Resolves the sign-in. `graph_root` is the Graph root the commands will talk to, when it is
    /// not the cloud's own (the emulator); `resource_delegated` the delegated permissions of the
    /// chosen resource (the default scopes of a device-code sign-in).
    pub fn plan(
        &self,
        graph_root: Option<&str>,
        resource_delegated: &[String],
        env: Lookup<'_>,
    ) -> Result<AuthPlan, AuthError> {
        let explicit = self.explicit_methods();
        if explicit.len() > 1 {
            let names: Vec<&str> = explicit.iter().map(|m| m.name()).collect();
            return Err(AuthError::Missing(format!(
                "choose one sign-in, not several: {}",
                names.join(", ")
            )));
        }
        let (profile_name, profile) = match self.load_profile()? {
            Some((n, p)) => (Some(n), p),
            None => (None, Profile::default()),
        };
        let from_env = |name: &Option<String>| name.as_deref().and_then(env);
        let cloud = self.cloud.or(profile.cloud).unwrap_or_default();
        let tenant = self
            .tenant
            .clone()
            .or_else(|| profile.tenant_id.clone())
            .or_else(|| from_env(&profile.tenant_id_env))
            .or_else(|| env("AZURE_TENANT_ID"));
        let client_id = self
            .client_id
            .clone()
            .or_else(|| profile.client_id.clone())
            .or_else(|| from_env(&profile.client_id_env))
            .or_else(|| env("AZURE_CLIENT_ID"));
        let certificate = self
            .client_certificate
            .clone()
            .or_else(|| profile.certificate_path.clone())
            .or_else(|| env("AZURE_CLIENT_CERTIFICATE_PATH").map(PathBuf::from));
        let secret_env = self
            .client_secret_env
            .clone()
            .or_else(|| profile.client_secret_env.clone());
        let method = match explicit.first().copied().or(profile.method) {
            Some(m) => m,
            None => {
                // azure-identity's EnvironmentCredential order: secret, then certificate.
                if env(secret_env.as_deref().unwrap_or("AZURE_CLIENT_SECRET")).is_some() {
                    Method::ClientSecret
                } else if certificate.is_some() {
                    Method::ClientCertificate
                } else if profile.token_env.is_some() {
                    Method::TokenEnv
                } else if profile.token_file.is_some() {
                    Method::TokenFile
                } else {
                    return Err(AuthError::Missing(
                        "no sign-in is configured. Choose one: AZURE_TENANT_ID + AZURE_CLIENT_ID + AZURE_CLIENT_SECRET (or AZURE_CLIENT_CERTIFICATE_PATH) for app-only; --device-code for delegated; --token-env VAR, --token-file FILE, --token-stdin or --azure-cli for a token you already have; or --profile NAME".into(),
                    ));
                }
            }
        };
        let resource = graph_root
            .map(|r| r.trim_end_matches('/').to_string())
            .or_else(|| profile.graph_root.clone())
            .unwrap_or_else(|| cloud.graph_root().to_string());
        // The token is for this root only: https, or loopback http (the emulator).
        let resource = super::cloud::check_origin(&resource)?;
        let scopes = if !self.scopes.is_empty() {
            self.scopes.clone()
        } else if let Some(s) = &profile.scopes {
            s.clone()
        } else {
            resource_delegated.iter().take(1).cloned().collect()
        };
        Ok(AuthPlan {
            method,
            cloud,
            resource,
            tenant,
            client_id,
            secret_env: Some(secret_env.unwrap_or_else(|| "AZURE_CLIENT_SECRET".into())),
            certificate,
            key: self.client_key.clone().or_else(|| profile.key_path.clone()),
            token_env: self.token_env.clone().or_else(|| profile.token_env.clone()),
            token_file: self
                .token_file
                .clone()
                .or_else(|| profile.token_file.clone()),
            scopes,
            login_host: self
                .login_host
                .clone()
                .or_else(|| profile.login_host.clone()),
            ca_certs: self.ca_certs_with(Some(&profile), env)?,
            profile: profile_name,
        })
    }
}

impl AuthArgs {
    /// Whether any sign-in choice was made on the command line (a method, a profile or a cloud).
    pub fn is_set(&self) -> bool {
        !self.explicit_methods().is_empty() || self.profile.is_some() || self.cloud.is_some()
    }

    /// For commands that used to read a token from one variable (`DELTASCOPE_TOKEN`): when no
    /// method and no profile is chosen and that variable is set, use it.
    pub fn with_default_token_env(mut self, var: &str, env: Lookup<'_>) -> Self {
        if self.explicit_methods().is_empty() && self.profile.is_none() && env(var).is_some() {
            self.token_env = Some(var.to_string());
        }
        self
    }

    /// The Graph root these options point at when no `--graph-root` is given: the profile's, or
    /// the cloud's when `--cloud` or the profile names one. `None`: nothing says (commands then
    /// use the embedded emulator).
    pub fn implied_graph_root(&self) -> Result<Option<String>, AuthError> {
        let profile = self.load_profile()?.map(|(_, p)| p);
        if let Some(root) = profile.as_ref().and_then(|p| p.graph_root.clone()) {
            return super::cloud::check_origin(&root).map(Some);
        }
        Ok(self
            .cloud
            .or(profile.and_then(|p| p.cloud))
            .map(|c| c.graph_root().to_string()))
    }

    /// Everything a command needs in one call: resolves the sign-in against the process
    /// environment for `graph_root` (`None`: the cloud's) and the resource about to be read (its
    /// delegated permissions are the default device-code scopes), and builds the cached,
    /// refreshing source. `prompt` shows a device code; `cancel` stops a device-code sign-in.
    pub fn token_source(
        &self,
        graph_root: Option<&str>,
        resource: Option<&crate::graph::ResourceSpec>,
        prompt: PromptFn,
        cancel: CancellationToken,
    ) -> Result<(Arc<dyn TokenSource>, AuthPlan), AuthError> {
        let delegated = resource
            .map(|r| r.permissions.delegated.clone())
            .unwrap_or_default();
        let plan = self.plan(graph_root, &delegated, &process_env)?;
        let source = plan.build(&process_env, prompt, cancel)?;
        Ok((source, plan))
    }
}

/// Why [`AuthArgs::sign_in_on_terminal`] has no token.
#[derive(Debug)]
pub enum SignInFailure {
    /// The options do not make a sign-in (nothing was sent).
    Setup(AuthError),
    /// The sign-in itself failed or was refused.
    SignIn(AuthError),
}

impl std::fmt::Display for SignInFailure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            SignInFailure::Setup(e) | SignInFailure::SignIn(e) => e.fmt(f),
        }
    }
}

impl AuthArgs {
    /// These options as a command with `graph_root` reads them: `DELTASCOPE_TOKEN` stays the
    /// default when nothing else is chosen, and the root's cloud is the sign-in cloud unless
    /// `--cloud` says otherwise (`--graph-root usgov`, or its URL, also means that cloud's
    /// sign-in host).
    pub fn for_root(&self, graph_root: &str) -> AuthArgs {
        let mut auth = self
            .clone()
            .with_default_token_env("DELTASCOPE_TOKEN", &process_env);
        if auth.cloud.is_none() {
            auth.cloud = Cloud::from_graph_root(graph_root);
        }
        auth
    }

    /// The config file the profiles are read from: `--config`, else `DELTASCOPE_CONFIG`, else
    /// the platform's default. `None`: there is no config directory (HOME is not set).
    pub fn config_path(&self) -> Option<PathBuf> {
        self.config.clone().or_else(default_config_path)
    }

    /// Signs in against `graph_root` (see [`AuthArgs::for_root`]) and fetches the first token
    /// now, so that a missing or refused credential is known at once. `prompt` shows a device
    /// code; `cancel` stops a device-code sign-in.
    pub async fn sign_in(
        &self,
        graph_root: &str,
        resource: Option<&crate::graph::ResourceSpec>,
        prompt: PromptFn,
        cancel: CancellationToken,
    ) -> Result<(Arc<dyn TokenSource>, AuthPlan), SignInFailure> {
        let (tokens, plan) = self
            .for_root(graph_root)
            .token_source(Some(graph_root), resource, prompt, cancel)
            .map_err(SignInFailure::Setup)?;
        tokens.token().await.map_err(SignInFailure::SignIn)?;
        Ok((tokens, plan))
    }

    /// The sign-in of a command run from a terminal (`sync`): [`AuthArgs::sign_in`] with the
    /// device code on stderr.
    pub async fn sign_in_on_terminal(
        &self,
        graph_root: &str,
        resource: Option<&crate::graph::ResourceSpec>,
    ) -> Result<(Arc<dyn TokenSource>, AuthPlan), SignInFailure> {
        let prompt: PromptFn = Arc::new(|p: &super::DevicePrompt| {
            crate::safe_eprintln!(
                "{}\n  code: {}   page: {}",
                p.message,
                p.user_code,
                p.verification_uri
            );
        });
        self.sign_in(graph_root, resource, prompt, CancellationToken::new())
            .await
    }
}

impl AuthPlan {
    fn authority(&self) -> Result<Authority, AuthError> {
        let tenant = self.tenant.as_deref().ok_or_else(|| {
            AuthError::Missing(format!(
                "the {} sign-in needs a tenant: set AZURE_TENANT_ID or --tenant",
                self.method.name()
            ))
        })?;
        match &self.login_host {
            Some(h) => Authority::custom(h, tenant),
            None => Authority::for_cloud(self.cloud, tenant),
        }
    }

    fn client_id(&self) -> Result<&str, AuthError> {
        self.client_id.as_deref().ok_or_else(|| {
            AuthError::Missing(format!(
                "the {} sign-in needs an app (client) id: set AZURE_CLIENT_ID or --client-id",
                self.method.name()
            ))
        })
    }

    /// One line saying what will be used (no secret).
    pub fn describe(&self) -> String {
        let mut s = match self.method {
            Method::ClientSecret => format!(
                "app-only sign-in with the client secret in ${}",
                self.secret_env.as_deref().unwrap_or("AZURE_CLIENT_SECRET")
            ),
            Method::ClientCertificate => format!(
                "app-only sign-in with the certificate {}",
                self.certificate
                    .as_deref()
                    .map(|p| p.display().to_string())
                    .unwrap_or_default()
            ),
            Method::DeviceCode => "delegated sign-in with a device code".into(),
            Method::TokenEnv => format!(
                "the token in ${}",
                self.token_env.as_deref().unwrap_or_default()
            ),
            Method::TokenFile => format!(
                "the token in {}",
                self.token_file
                    .as_deref()
                    .map(|p| p.display().to_string())
                    .unwrap_or_default()
            ),
            Method::TokenStdin => "the token read from standard input".into(),
            Method::AzureCli => "the Azure CLI's account".into(),
        };
        if let Some(c) = &self.client_id
            && matches!(
                self.method,
                Method::ClientSecret | Method::ClientCertificate | Method::DeviceCode
            )
        {
            s.push_str(&format!(", client {c}"));
        }
        if let Some(t) = &self.tenant {
            s.push_str(&format!(", tenant {t}"));
        }
        s.push_str(&format!(", cloud {}", self.cloud));
        if let Some(c) = &self.ca_certs {
            s.push_str(&format!(
                ", also trusting the CAs in {}",
                c.path().display()
            ));
        }
        if let Some(p) = &self.profile {
            s.push_str(&format!(" (profile {p})"));
        }
        s
    }

    /// Builds the (cached, refreshing) token source. `prompt` shows a device code; `cancel`
    /// stops a device-code sign-in.
    pub fn build(
        &self,
        env: Lookup<'_>,
        prompt: PromptFn,
        cancel: CancellationToken,
    ) -> Result<Arc<dyn TokenSource>, AuthError> {
        Ok(match self.method {
            Method::ClientSecret => {
                let var = self.secret_env.as_deref().unwrap_or("AZURE_CLIENT_SECRET");
                let secret = env(var).ok_or_else(|| {
                    AuthError::Missing(format!("the client secret variable {var} is not set"))
                })?;
                Arc::new(Cached::new(
                    ClientCredentials::new(
                        self.authority()?,
                        self.client_id()?,
                        ClientCredential::Secret(Secret::new(secret)),
                        &self.resource,
                    )?
                    .with_trust(self.ca_certs.as_ref())?,
                ))
            }
            Method::ClientCertificate => {
                let cert = self.certificate.as_deref().ok_or_else(|| {
                    AuthError::Missing(
                        "no certificate: set AZURE_CLIENT_CERTIFICATE_PATH or --client-certificate"
                            .into(),
                    )
                })?;
                let c = ClientCertificate::load(cert, self.key.as_deref())?;
                Arc::new(Cached::new(
                    ClientCredentials::new(
                        self.authority()?,
                        self.client_id()?,
                        ClientCredential::Certificate(c),
                        &self.resource,
                    )?
                    .with_trust(self.ca_certs.as_ref())?,
                ))
            }
            Method::DeviceCode => Arc::new(Cached::new(
                DeviceCode::new(
                    self.authority()?,
                    self.client_id()?,
                    &self.resource,
                    &self.scopes,
                    prompt,
                    cancel,
                )?
                .with_trust(self.ca_certs.as_ref())?,
            )),
            Method::TokenEnv => {
                let var = self.token_env.as_deref().unwrap_or_default();
                Arc::new(Cached::new(EnvToken::new(var)))
            }
            Method::TokenFile => {
                let p = self.token_file.clone().unwrap_or_default();
                Arc::new(Cached::new(FileToken::new(&p)))
            }
            Method::TokenStdin => Arc::new(Cached::new(FixedToken::from_stdin()?)),
            Method::AzureCli => Arc::new(Cached::new(AzureCli::new(self.tenant.as_deref())?)),
        })
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn lookup(m: &HashMap<&str, &str>) -> impl Fn(&str) -> Option<String> {
        move |k| m.get(k).map(|v| v.to_string())
    }

    #[test]
    fn environment_detection_follows_azure_identity() {
        let env: HashMap<&str, &str> = [
            ("AZURE_TENANT_ID", "t1"),
            ("AZURE_CLIENT_ID", "c1"),
            ("AZURE_CLIENT_SECRET", "s3cret-value"),
        ]
        .into();
        let p = AuthArgs::default().plan(None, &[], &lookup(&env)).unwrap();
        assert_eq!(p.method, Method::ClientSecret);
        assert_eq!(p.tenant.as_deref(), Some("t1"));
        assert_eq!(p.resource, "https://graph.microsoft.com");
        assert!(!format!("{p:?}").contains("s3cret-value"));
        assert!(!p.describe().contains("s3cret-value"));

        let env: HashMap<&str, &str> = [("AZURE_CLIENT_CERTIFICATE_PATH", "/x.pem")].into();
        let a = AuthArgs {
            cloud: Some(Cloud::China),
            ..Default::default()
        };
        let p = a.plan(None, &[], &lookup(&env)).unwrap();
        assert_eq!(p.method, Method::ClientCertificate);
        assert_eq!(p.resource, "https://microsoftgraph.chinacloudapi.cn");

        let e = AuthArgs::default()
            .plan(None, &[], &lookup(&HashMap::new()))
            .unwrap_err();
        assert!(e.to_string().contains("--device-code"));

        let a = AuthArgs {
            device_code: true,
            azure_cli: true,
            ..Default::default()
        };
        assert!(a.plan(None, &[], &lookup(&HashMap::new())).is_err());
    }

    #[test]
    fn legacy_token_variable_and_implied_roots() {
        let env: HashMap<&str, &str> =
            [("DELTASCOPE_TOKEN", "x"), ("AZURE_CLIENT_SECRET", "s")].into();
        let a = AuthArgs::default().with_default_token_env("DELTASCOPE_TOKEN", &lookup(&env));
        assert_eq!(
            a.plan(None, &[], &lookup(&env)).unwrap().method,
            Method::TokenEnv
        );
        let a = AuthArgs {
            device_code: true,
            ..Default::default()
        }
        .with_default_token_env("DELTASCOPE_TOKEN", &lookup(&env));
        assert_eq!(a.token_env, None);
        assert!(!AuthArgs::default().is_set());
        assert_eq!(AuthArgs::default().implied_graph_root().unwrap(), None);
        let a = AuthArgs {
            cloud: Some(Cloud::UsGovDod),
            ..Default::default()
        };
        assert!(a.is_set());
        assert_eq!(
            a.implied_graph_root().unwrap().as_deref(),
            Some("https://dod-graph.microsoft.us")
        );
    }

    #[test]
    fn device_code_defaults_to_the_resource_permission() {
        let a = AuthArgs {
            device_code: true,
            ..Default::default()
        };
        let p = a
            .plan(
                Some("http://127.0.0.1:9/"),
                &["OrgContact.Read.All".into(), "Directory.Read.All".into()],
                &lookup(&HashMap::new()),
            )
            .unwrap();
        assert_eq!(p.scopes, vec!["OrgContact.Read.All"]);
        assert_eq!(p.resource, "http://127.0.0.1:9");
        // A token is never meant for a clear-text root off this machine.
        let e = a
            .plan(
                Some("http://graph.example.com"),
                &[],
                &lookup(&HashMap::new()),
            )
            .unwrap_err();
        assert!(e.to_string().contains("https"), "{e}");
    }
}
