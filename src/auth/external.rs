//! Tokens obtained elsewhere: an environment variable, a file, standard input, the Azure CLI.
//! Their expiry is read from the token's `exp` claim when it is a JWT.
use std::io::Read as _;
use std::path::{Path, PathBuf};

use super::cache::{Acquire, AcquireFuture, Acquired};
use super::{AccessToken, AuthError};

fn acquired(token: String) -> Acquired {
    let expires_at = super::jwt::expiry(&token);
    Acquired {
        token: AccessToken::new(token),
        expires_at,
    }
}

/// Checks the shape of a pasted token: one line of printable ASCII, `Bearer ` tolerated.
pub fn clean_token(raw: &str, from: &str) -> Result<String, AuthError> {
    let t = raw.trim();
    let t = t
        .strip_prefix("Bearer ")
        .or_else(|| t.strip_prefix("bearer "))
        .unwrap_or(t)
        .trim();
    if t.is_empty() {
        return Err(AuthError::Missing(format!("{from} is empty")));
    }
    if !t.bytes().all(|b| b.is_ascii_graphic()) {
        return Err(AuthError::Missing(format!(
            "{from} does not hold one token (it has spaces, line breaks or non-ASCII characters)"
        )));
    }
    Ok(t.to_string())
}

/// A token in an environment variable, read again on every refresh.
#[derive(Clone, Debug)]
pub struct EnvToken {
    var: String,
}

impl EnvToken {
    pub fn new(var: &str) -> Self {
        EnvToken {
            var: var.to_string(),
        }
    }
}

impl Acquire for EnvToken {
    fn acquire(&self) -> AcquireFuture<'_> {
        let r = match std::env::var(&self.var) {
            Ok(v) => {
                clean_token(&v, &format!("the environment variable {}", self.var)).map(acquired)
            }
            Err(_) => Err(AuthError::Missing(format!(
                "the environment variable {} is not set",
                self.var
            ))),
        };
        Box::pin(async move { r })
    }

    fn describe(&self) -> String {
        format!("the token in the environment variable {}", self.var)
    }
}

/// A token in a file, read again on every refresh (so a script can renew it).
#[derive(Clone, Debug)]
pub struct FileToken {
    path: PathBuf,
}

impl FileToken {
    pub fn new(path: &Path) -> Self {
        FileToken {
            path: path.to_path_buf(),
        }
    }
}

impl Acquire for FileToken {
    fn acquire(&self) -> AcquireFuture<'_> {
        Box::pin(async move {
            let text = tokio::fs::read_to_string(&self.path).await.map_err(|e| {
                AuthError::Missing(format!(
                    "cannot read the token file {}: {e}",
                    self.path.display()
                ))
            })?;
            clean_token(&text, &format!("the token file {}", self.path.display())).map(acquired)
        })
    }

    fn describe(&self) -> String {
        format!("the token in the file {}", self.path.display())
    }
}

/// A token read once (from standard input): refreshing gives the same token.
#[derive(Clone)]
pub struct FixedToken {
    token: AccessToken,
    label: String,
}

impl std::fmt::Debug for FixedToken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "FixedToken({}, ***)", self.label)
    }
}

impl FixedToken {
    /// Reads one token from standard input (all of it, trimmed).
    pub fn from_stdin() -> Result<Self, AuthError> {
        let mut s = String::new();
        std::io::stdin()
            .take(64 * 1024)
            .read_to_string(&mut s)
            .map_err(|e| {
                AuthError::Missing(format!("cannot read the token from standard input: {e}"))
            })?;
        Ok(FixedToken {
            token: AccessToken::new(clean_token(&s, "standard input")?),
            label: "the token read from standard input".into(),
        })
    }

    pub fn new(token: AccessToken, label: &str) -> Self {
        FixedToken {
            token,
            label: label.to_string(),
        }
    }
}

impl Acquire for FixedToken {
    fn acquire(&self) -> AcquireFuture<'_> {
        let a = acquired(self.token.secret().to_string());
        Box::pin(async move { Ok(a) })
    }

    fn describe(&self) -> String {
        self.label.clone()
    }
}

/// `az account get-access-token --resource-type ms-graph` (the Azure CLI's signed-in account,
/// in the cloud the CLI is set to: `az cloud set --name AzureUSGovernment|AzureChinaCloud`).
#[derive(Clone, Debug)]
pub struct AzureCli {
    program: PathBuf,
    tenant: Option<String>,
}

/// Finds a program on PATH (`az`, or `az.cmd` on Windows).
pub fn find_on_path(name: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    let names: Vec<String> = if cfg!(windows) {
        vec![
            format!("{name}.cmd"),
            format!("{name}.exe"),
            name.to_string(),
        ]
    } else {
        vec![name.to_string()]
    };
    std::env::split_paths(&path)
        .find_map(|dir| names.iter().map(|n| dir.join(n)).find(|p| p.is_file()))
}

impl AzureCli {
    /// The `az` on PATH; a clear error when the Azure CLI is not installed.
    pub fn new(tenant: Option<&str>) -> Result<Self, AuthError> {
        let program = find_on_path("az").ok_or_else(|| {
            AuthError::Missing(
                "the Azure CLI (az) is not installed or not on PATH; install it and run `az login`, or choose another sign-in (--token-env, --client-id with a secret or certificate, --device-code)".into(),
            )
        })?;
        Ok(Self::with_program(&program, tenant))
    }

    /// A specific `az` executable (tests use a stand-in script).
    pub fn with_program(program: &Path, tenant: Option<&str>) -> Self {
        AzureCli {
            program: program.to_path_buf(),
            tenant: tenant.map(str::to_string),
        }
    }

    fn run(&self) -> Result<Acquired, AuthError> {
        let mut cmd = std::process::Command::new(&self.program);
        cmd.args([
            "account",
            "get-access-token",
            "--resource-type",
            "ms-graph",
            "--output",
            "json",
        ]);
        if let Some(t) = &self.tenant {
            cmd.args(["--tenant", t]);
        }
        cmd.stdin(std::process::Stdio::null());
        let out = cmd.output().map_err(|e| {
            AuthError::Failed(format!("cannot run {}: {e}", self.program.display()))
        })?;
        if !out.status.success() {
            // stderr holds the CLI's message ("Please run 'az login'"), never the token.
            let err = String::from_utf8_lossy(&out.stderr);
            let err: String = err.trim().chars().take(600).collect();
            return Err(AuthError::Failed(format!(
                "`az account get-access-token --resource-type ms-graph` failed ({}): {err}",
                out.status
            )));
        }
        #[derive(serde::Deserialize)]
        #[serde(rename_all = "camelCase")]
        struct AzToken {
            access_token: Option<String>,
            #[serde(rename = "expires_on")]
            expires_on: Option<serde_json::Value>,
        }
        let t: AzToken = serde_json::from_slice(&out.stdout).map_err(|_| {
            AuthError::Failed("the Azure CLI printed something that is not its token JSON".into())
        })?;
        let token = clean_token(
            t.access_token.as_deref().unwrap_or(""),
            "the Azure CLI's accessToken",
        )?;
        let mut a = acquired(token);
        if a.expires_at.is_none() {
            let secs = match t.expires_on {
                Some(serde_json::Value::Number(n)) => n.as_i64(),
                Some(serde_json::Value::String(s)) => s.trim().parse().ok(),
                _ => None,
            };
            a.expires_at = secs.and_then(|s| chrono::DateTime::from_timestamp(s, 0));
        }
        Ok(a)
    }
}

impl Acquire for AzureCli {
    fn acquire(&self) -> AcquireFuture<'_> {
        let me = self.clone();
        Box::pin(async move {
            tokio::task::spawn_blocking(move || me.run())
                .await
                .map_err(|_| AuthError::Failed("the Azure CLI task failed".into()))?
        })
    }

    fn describe(&self) -> String {
        format!(
            "the Azure CLI ({} account get-access-token --resource-type ms-graph)",
            self.program.display()
        )
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn pasted_tokens_are_cleaned_and_errors_hide_them() {
        assert_eq!(
            clean_token("  Bearer abc.def.ghi\n", "x").unwrap(),
            "abc.def.ghi"
        );
        let e = clean_token("two words-secret", "stdin").unwrap_err();
        assert!(!e.to_string().contains("words-secret"));
        assert!(clean_token(" \n", "stdin").is_err());
    }
}
