//! `deltascope token`: get a token the way the other commands would, and say what it can do:
//! app-only or delegated, tenant, audience, cloud, roles or scopes, expiry, and whether it can
//! read the chosen resource. It never prints the token.
//!
//! Exit codes: 0 the token is usable (for `--resource`, when given); 2 bad command line or sign-in
//! configuration; 3 the token cannot be used (missing permission, expired, wrong cloud or
//! audience, not a JWT); 4 the sign-in failed (refused, cancelled, unreachable).
use std::io::Write as _;
use std::sync::Arc;

use tokio_util::sync::CancellationToken;

use crate::auth::select::process_env;
use crate::auth::{AuthArgs, AuthError, DevicePrompt, PromptFn, TokenInfo};
use crate::graph::Catalog;

pub mod exit {
    pub const OK: u8 = 0;
    pub const USAGE: u8 = 2;
    pub const UNUSABLE: u8 = 3;
    pub const SIGN_IN: u8 = 4;
}

/// Get an access token and show what it can do (never the token itself).
#[derive(clap::Args, Debug, Clone)]
pub struct TokenArgs {
    /// Check the token against this resource's required permissions (contacts, recordings,
    /// transcripts, users, groups).
    #[arg(long, value_name = "RESOURCE")]
    pub resource: Option<String>,
    /// The Graph root the token is for and will be sent to (default: the cloud's; the emulator's
    /// http://127.0.0.1:PORT for tests and demos).
    #[arg(long, value_name = "URL")]
    pub graph_root: Option<String>,
    /// Print the decoded claims and the check as JSON.
    #[arg(long)]
    pub json: bool,
    /// List the profiles of the config file and what each would use, then exit.
    #[arg(long)]
    pub list_profiles: bool,
    #[command(flatten)]
    pub auth: AuthArgs,
}

fn fail(code: u8, msg: impl std::fmt::Display) -> u8 {
    crate::safe_eprintln!("deltascope token: {msg}");
    code
}

fn sign_in_code(e: &AuthError) -> u8 {
    match e {
        AuthError::Missing(_) => exit::USAGE,
        _ => exit::SIGN_IN,
    }
}

/// `--list-profiles`: each profile and the sign-in it resolves to (no secret is read).
fn list_profiles(args: &TokenArgs) -> u8 {
    let Some(path) = args
        .auth
        .config
        .clone()
        .or_else(crate::auth::profile::default_config_path)
    else {
        return fail(
            exit::USAGE,
            "no config directory (HOME is not set): give --config FILE",
        );
    };
    let profiles = match crate::auth::Profiles::load(&path) {
        Ok(p) => p,
        Err(e) => return fail(exit::USAGE, e),
    };
    let mut out = std::io::stdout().lock();
    if profiles.profiles.is_empty() {
        let _ = writeln!(out, "no profiles in {}", path.display());
        return exit::OK;
    }
    let _ = writeln!(out, "profiles in {}:", path.display());
    for name in profiles.names() {
        let mut a = args.auth.clone();
        a.profile = Some(name.to_string());
        a.config = Some(path.clone());
        let what = match a.plan(None, &[], &process_env) {
            Ok(p) => p.describe(),
            Err(e) => format!("incomplete: {e}"),
        };
        let _ = writeln!(out, "  {name}: {what}");
    }
    exit::OK
}

pub async fn run(args: TokenArgs) -> u8 {
    if args.list_profiles {
        return list_profiles(&args);
    }
    let catalog = Catalog::builtin();
    let spec = match &args.resource {
        None => None,
        Some(name) => match catalog.get(name) {
            Some(s) => Some(s),
            None => {
                let names: Vec<&str> = catalog
                    .resources()
                    .iter()
                    .map(|r| r.name.as_str())
                    .collect();
                return fail(
                    exit::USAGE,
                    format!("unknown resource {name:?}; known: {}", names.join(", ")),
                );
            }
        },
    };
    // The same rule as the explorer and sync; with nothing configured there is no emulator to
    // ask here: the sign-in's own cloud decides where the token is for.
    let graph_root = match crate::target::choose(args.graph_root.as_deref(), &args.auth) {
        Ok(crate::target::Target::Graph(root)) => Some(root.as_str().to_owned()),
        Ok(crate::target::Target::Embedded) => None,
        Err(e) => return fail(exit::USAGE, e),
    };
    let delegated: Vec<String> = spec
        .map(|s| s.permissions.delegated.clone())
        .unwrap_or_default();
    let plan = match args
        .auth
        .plan(graph_root.as_deref(), &delegated, &process_env)
    {
        Ok(p) => p,
        Err(e) => return fail(sign_in_code(&e), e),
    };
    crate::safe_eprintln!("signing in: {}", plan.describe());
    let prompt: PromptFn = Arc::new(|p: &DevicePrompt| {
        // The sign-in service's own sentence and code: outside text, made safe for a terminal.
        crate::safe_eprintln!(
            "{}\n  code: {}   page: {}",
            p.message,
            p.user_code,
            p.verification_uri
        );
    });
    let cancel = CancellationToken::new();
    let source = match plan.build(&process_env, prompt, cancel.clone()) {
        Ok(s) => s,
        Err(e) => return fail(sign_in_code(&e), e),
    };
    let token = tokio::select! {
        t = source.token() => t,
        _ = tokio::signal::ctrl_c() => {
            cancel.cancel();
            Err(AuthError::Cancelled)
        }
    };
    let token = match token {
        Ok(t) => t,
        Err(e) => return fail(sign_in_code(&e), e),
    };
    let info = match TokenInfo::decode(token.secret()) {
        Ok(i) => i,
        Err(e) => return fail(exit::UNUSABLE, format!("a token was obtained, but {e}")),
    };
    drop(token);
    let now = chrono::Utc::now();
    let root = graph_root.clone().unwrap_or_else(|| plan.resource.clone());
    let check = info.check(spec, Some(&root), now);
    let mut out = std::io::stdout().lock();
    if args.json {
        let v = serde_json::json!({
            "signIn": plan.describe(),
            "graphRoot": root,
            "resource": spec.map(|s| s.name.clone()),
            "token": info,
            "expiresIn": info.expires_at.map(|e| (e - now).num_seconds()),
            "ok": check.ok(),
            "problems": check.problems,
            "notes": check.notes,
        });
        let _ = writeln!(
            out,
            "{}",
            serde_json::to_string_pretty(&v).unwrap_or_default()
        );
    } else {
        // The token's claims (names, tenants, roles) are the sign-in's text, not ours.
        for (k, v) in info.lines(now) {
            let _ = writeln!(out, "{k:<9} {}", crate::text::terminal_safe(&v));
        }
        let _ = writeln!(out, "{:<9} {root}", "graph");
        if let Some(s) = spec {
            let verdict = if check.ok() { "OK" } else { "CANNOT READ" };
            let _ = writeln!(out, "{:<9} {} ({verdict})", "resource", s.name);
        }
        for p in &check.problems {
            let _ = writeln!(out, "problem:  {p}");
        }
        for n in &check.notes {
            let _ = writeln!(out, "note:     {n}");
        }
    }
    let _ = out.flush();
    if check.ok() { exit::OK } else { exit::UNUSABLE }
}
