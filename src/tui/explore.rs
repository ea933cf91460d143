//! `deltascope` with no subcommand: the explorer. Without a Graph root it starts the embedded
//! emulator with its demo tenant in this process, so a fresh machine has something to explore.
use std::time::Duration;

use anyhow::Context as _;

use super::app::Model;
use super::bridge::{EngineBridge, query_view};
use super::clipboard::SystemClipboard;
use super::keymap::Keymap;
use super::runtime::{Runtime, crossterm_events};
use super::terminal::TerminalGuard;
use std::sync::Arc;

use crate::auth::{AccessToken, StaticToken, TokenSource};
use crate::emulator::{Emulator, EmulatorConfig};
use crate::graph::{Catalog, ClientConfig, GraphRoot};

/// The token sent to the embedded emulator (which accepts any bearer token).
const EMULATOR_TOKEN: &str = "deltascope-emulator-demo-token";

#[derive(clap::Args, Debug, Clone, Default)]
pub struct ExploreArgs {
    /// Graph root (origin) to explore, e.g. https://graph.microsoft.com, or a cloud name
    /// (global, usgov, usgov-dod, china). Without it, the embedded emulator's demo tenant.
    #[arg(long, env = "DELTASCOPE_GRAPH_ROOT")]
    pub graph_root: Option<String>,
    /// Sign-in: --cloud, --profile, --token-env VAR (default DELTASCOPE_TOKEN when set), a
    /// client secret or certificate (AZURE_* variables), --device-code, --azure-cli, ...
    #[command(flatten)]
    pub auth: crate::auth::AuthArgs,
    /// Embedded emulator only: number of demo contacts.
    #[arg(long, default_value_t = 250)]
    pub demo_contacts: usize,
    /// Embedded emulator only: seed of the demo tenant.
    #[arg(long, default_value_t = 42)]
    pub demo_seed: u64,
    /// Keymap overlay file (default: ~/.config/deltascope/keymap.toml when it exists).
    #[arg(long, value_name = "FILE")]
    pub keymap: Option<std::path::PathBuf>,
}

/// Everything the explorer runs on, before the terminal is touched.
pub struct Explorer {
    pub model: Model,
    pub bridge: EngineBridge,
    /// The embedded emulator, when no Graph root was given.
    pub emulator: Option<Emulator>,
}

/// The title for a session on the embedded emulator.
pub fn demo_title(base_url: &str) -> String {
    format!("demo tenant on the embedded emulator at {base_url}")
}

/// Builds the model and the engine bridge (starting the embedded emulator when no root is
/// configured). Must run inside a tokio runtime.
pub async fn prepare(args: &ExploreArgs, emulator: EmulatorConfig) -> anyhow::Result<Explorer> {
    let catalog = Catalog::builtin();
    let keymap = match &args.keymap {
        Some(path) => Keymap::load(Some(path)),
        None => Keymap::load(Keymap::user_path().as_deref()),
    }
    .map_err(|e| anyhow::anyhow!("keymap: {}", e.0))?;
    let mut query = query_view(catalog);
    let root_arg = match &args.graph_root {
        Some(r) => Some(r.clone()),
        None => args
            .auth
            .implied_graph_root()
            .map_err(|e| anyhow::anyhow!("{e}"))?,
    };
    let (root, tokens, title, status, emu): (_, Arc<dyn TokenSource>, _, _, _) = match root_arg {
        Some(root) => {
            let root = GraphRoot::parse(&root).map_err(|e| anyhow::anyhow!("{e}"))?;
            // Signed in before the terminal is taken over, so that a device code, or why the
            // sign-in failed, is plainly readable.
            let (tokens, plan) = args
                .auth
                .sign_in_on_terminal(root.as_str(), None)
                .await
                .map_err(|e| anyhow::anyhow!("{e}"))?;
            let title = format!("Graph root {root} · {}", plan.describe());
            (root, tokens, title, String::new(), None)
        }
        None => {
            let emu = crate::emulator::start(emulator, ([127, 0, 0, 1], 0).into())
                .await
                .context("cannot start the embedded emulator")?;
            let base = emu.base_url();
            let root = GraphRoot::parse(&base).map_err(|e| anyhow::anyhow!("{e}"))?;
            let demo = emu.demo();
            let mut status = String::from("demo tenant ready");
            if let Some(organizer) = demo.organizers.first() {
                // Recordings and transcripts need an organizer: offer the demo one.
                query.param_defaults = vec![
                    ("userId".to_owned(), organizer.clone()),
                    ("meetingOrganizerUserId".to_owned(), organizer.clone()),
                ];
                status.push_str(&format!(" (meeting organizer {organizer})"));
            }
            let token = crate::auth::select::process_env("DELTASCOPE_TOKEN")
                .unwrap_or_else(|| EMULATOR_TOKEN.into());
            let tokens: Arc<dyn TokenSource> = Arc::new(StaticToken::new(AccessToken::new(token)));
            (root, tokens, demo_title(&base), status, Some(emu))
        }
    };
    let config = ClientConfig {
        max_retry_wait: Duration::from_secs(120),
        ..Default::default()
    };
    let bridge = EngineBridge::with_source(catalog, root, tokens, config)
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    let mut model = Model::new(query, keymap, Box::new(bridge.previewer()));
    model.title = title;
    let fetch = model
        .keymap
        .key_for(
            super::keymap::Context::Global,
            super::keymap::Action::FetchNext,
        )
        .map(|k| k.to_string())
        .unwrap_or_else(|| "f".into());
    let help = model
        .keymap
        .key_for(super::keymap::Context::Global, super::keymap::Action::Help)
        .map(|k| k.to_string())
        .unwrap_or_else(|| "?".into());
    let lead = if status.is_empty() {
        String::new()
    } else {
        format!("{status}; ")
    };
    model.status = Some(format!(
        "{lead}press {fetch} to fetch the first page, {help} for help"
    ));
    Ok(Explorer {
        model,
        bridge,
        emulator: emu,
    })
}

/// Runs the explorer in the terminal until the person quits.
pub async fn run(args: ExploreArgs) -> anyhow::Result<()> {
    let config = EmulatorConfig {
        seed: args.demo_seed,
        contacts: args.demo_contacts,
        ..Default::default()
    };
    let explorer = prepare(&args, config).await?;
    let clipboard = SystemClipboard::from_env();
    let mut runtime = Runtime::new(explorer.model, clipboard, explorer.bridge);
    let result = {
        let mut guard = TerminalGuard::enter().context("cannot set up the terminal")?;
        runtime.run(&mut guard.terminal, crossterm_events()).await
    };
    if let Some(emu) = explorer.emulator {
        emu.shutdown().await;
    }
    result.context("terminal error")
}
