//! `deltascope` with no subcommand: the explorer. Without a Graph root it starts the embedded
//! emulator with its demo tenant in this process, so a fresh machine has something to explore.
//! With one, the screen opens first and the sign-in runs in the background (a device code is
//! shown in the UI, see `panes::sign_in`).
use std::time::Duration;

use anyhow::Context as _;

use super::app::{Model, Msg, StartUp, update};
use super::clipboard::SystemClipboard;
use super::engine::{EngineExecutor, SignInSetup, Startup, query_view, signed_in_title};
use super::keymap::Keymap;
use super::runtime::{Runtime, crossterm_events};
use super::terminal::TerminalGuard;
use std::sync::Arc;

use crate::auth::select::process_env;
use crate::auth::{Method, PromptFn, StaticToken, TokenSource};
use crate::emulator::{Emulator, EmulatorConfig};
use crate::graph::{Catalog, ClientConfig, GraphRoot};
use crate::target::Target;

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
    /// Embedded emulator only: number of demo contacts (0-10000000).
    #[arg(long, default_value_t = 250, value_parser = crate::emulator::demo_contacts)]
    pub demo_contacts: usize,
    /// Embedded emulator only: seed of the demo tenant.
    #[arg(long, default_value_t = 42)]
    pub demo_seed: u64,
    /// Keymap overlay file (default: ~/.config/deltascope/keymap.toml when it exists).
    #[arg(long, value_name = "FILE")]
    pub keymap: Option<std::path::PathBuf>,
    /// Colours: dark, light, mono (no colour) or a theme file. Default: DELTASCOPE_THEME, else
    /// the config file's `theme`, else mono when NO_COLOR is set, else dark.
    #[arg(long, value_name = "dark|light|mono|FILE")]
    pub theme: Option<String>,
    #[command(flatten)]
    pub limits: crate::limits::LimitArgs,
    #[command(flatten)]
    pub store: crate::store::StoreArgs,
    /// Resume a stored session (its number from `deltascope sessions`; without one, the newest):
    /// its rounds come back and the next round starts from its last deltaLink.
    #[arg(long, value_name = "SESSION", num_args = 0..=1, default_missing_value = "latest")]
    pub resume: Option<String>,
}

/// Everything the explorer runs on, before the terminal is touched.
pub struct Explorer {
    pub model: Model,
    pub engine: EngineExecutor,
    /// The embedded emulator, when no Graph root was given.
    pub emulator: Option<Emulator>,
}

/// What the demo tenant's drive, mailbox, calendar, contact folders and To Do lists need as
/// parameters, so that every resource of the picker fetches at once on the demo: the drive's
/// id, the inbox, the first contact folder and task list, and a calendar window of 30 days back
/// to 90 days ahead of `now`.
fn demo_item_params(
    control: &crate::emulator::Control,
    now: chrono::DateTime<chrono::Utc>,
) -> Vec<(String, String)> {
    let day = |d: chrono::DateTime<chrono::Utc>| d.format("%Y-%m-%dT00:00:00Z").to_string();
    let mut out = vec![
        ("driveId".to_owned(), control.drive_id()),
        ("mailFolderId".to_owned(), "inbox".to_owned()),
        // The calendar view's window (recordings' own optional startDateTime stays empty).
        (
            "events.startDateTime".to_owned(),
            day(now - chrono::Duration::days(30)),
        ),
        (
            "events.endDateTime".to_owned(),
            day(now + chrono::Duration::days(90)),
        ),
    ];
    if let Some(folder) = control.contact_folder_ids().into_iter().next() {
        out.push(("contactFolderId".to_owned(), folder));
    }
    if let Some(list) = control.todo_list_ids().into_iter().next() {
        out.push(("todoTaskListId".to_owned(), list));
    }
    out
}

/// The title for a session on the embedded emulator.
pub fn demo_title(base_url: &str) -> String {
    format!("demo tenant on the embedded emulator at {base_url}")
}

/// Builds the model and the engine executor (starting the embedded emulator when no root is
/// configured). Must run inside a tokio runtime.
pub async fn prepare(args: &ExploreArgs, emulator: EmulatorConfig) -> anyhow::Result<Explorer> {
    let catalog = Catalog::builtin();
    let keymap = match &args.keymap {
        Some(path) => Keymap::load(Some(path)),
        None => Keymap::load(Keymap::user_path().as_deref()),
    }
    .map_err(|e| anyhow::anyhow!("keymap: {}", e.0))?;
    let theme = super::theme::choose(&super::theme::ThemeSettings {
        flag: args.theme.as_deref(),
        env: &|name| std::env::var(name).ok(),
        config_file: args.auth.config_path().as_deref(),
    })
    .map_err(|e| anyhow::anyhow!("{e}"))?;
    let mut query = query_view(catalog);
    let target = crate::target::choose(args.graph_root.as_deref(), &args.auth)
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    // `--ca-cert`: checked before the screen is taken (a bad file is said on the terminal).
    let ca_certs = args.auth.ca_certs(&process_env).map_err(|e| match e {
        crate::auth::AuthError::Missing(m) => anyhow::anyhow!("{m}"),
        other => anyhow::anyhow!("{other}"),
    })?;
    let (setup, status, emu) = match target {
        Target::Graph(root) => {
            let plan =
                args.auth
                    .for_root(root.as_str())
                    .plan(Some(root.as_str()), &[], &process_env);
            let describe = match &plan {
                Ok(p) => p.describe(),
                Err(e) => format!("the command line's sign-in ({e})"),
            };
            let startup = match plan {
                Ok(p) if p.method == Method::TokenStdin => {
                    // Standard input is read now, before the screen is taken (and kept: a
                    // second sign-in could not read it again).
                    let no_prompt: PromptFn = Arc::new(|_: &crate::auth::DevicePrompt| {});
                    let tokens = p
                        .build(&process_env, no_prompt, Default::default())
                        .map_err(|e| anyhow::anyhow!("{e}"))?;
                    Startup::Ready {
                        title: signed_in_title(&root, &describe),
                        root,
                        tokens,
                        who: describe.clone(),
                    }
                }
                // Signed in in the background once the screen is up, so that a device code is
                // shown in the UI and a failure can be retried without a restart.
                _ => Startup::SignIn { root },
            };
            let setup = SignInSetup {
                args: args.auth.clone(),
                startup,
                describe,
            };
            (setup, String::new(), None)
        }
        Target::Embedded => {
            let emu = crate::emulator::start(emulator, ([127, 0, 0, 1], 0).into())
                .await
                .context("cannot start the embedded emulator")?;
            let base = emu.base_url();
            let root = GraphRoot::parse(&base).map_err(|e| anyhow::anyhow!("{e}"))?;
            let demo = emu.demo();
            let mut status = String::from("demo tenant ready");
            if let Some(organizer) = demo.organizers.first() {
                // Recordings and transcripts need an organizer: offer the demo one (the first
                // user, who also owns the demo drive, mailbox, calendar and To Do lists).
                query.param_defaults = vec![
                    ("userId".to_owned(), organizer.clone()),
                    ("meetingOrganizerUserId".to_owned(), organizer.clone()),
                ];
                status.push_str(&format!(" (meeting organizer {organizer})"));
            }
            query
                .param_defaults
                .extend(demo_item_params(&emu.control(), chrono::Utc::now()));
            let tokens: Arc<dyn TokenSource> =
                Arc::new(StaticToken::new(crate::target::demo_token()));
            let who = "the demo token of the embedded emulator".to_owned();
            let setup = SignInSetup {
                args: args.auth.clone(),
                describe: who.clone(),
                startup: Startup::Ready {
                    title: demo_title(&base),
                    root,
                    tokens,
                    who,
                },
            };
            (setup, status, Some(emu))
        }
    };
    let config = args.limits.client_config(ClientConfig {
        max_retry_wait: Duration::from_secs(120),
        ca_certs,
        ..Default::default()
    });
    let (title, signed_in) = match &setup.startup {
        Startup::Ready { title, who, .. } => (title.clone(), Some(who.clone())),
        Startup::SignIn { root } => (format!("Graph root {root} · signing in…"), None),
    };
    let mut engine = EngineExecutor::with_setup(catalog, setup, config)
        .map_err(|e| anyhow::anyhow!("{e}"))?
        .with_limits(args.limits.round_limits());
    if let Some(emu) = &emu {
        engine = engine
            .with_embedded(GraphRoot::parse(&emu.base_url()).map_err(|e| anyhow::anyhow!("{e}"))?);
    }
    let store_path = args.store.path();
    let resume = resume_target(args, store_path.as_deref())?;
    engine = engine.with_store(store_path);
    let mut model = Model::new(query, keymap, Box::new(engine.previewer()));
    let fetch = model.keymap.key_label(
        super::keymap::Context::Global,
        super::keymap::Action::FetchNext,
    );
    let help = model
        .keymap
        .key_label(super::keymap::Context::Global, super::keymap::Action::Help);
    let lead = if status.is_empty() {
        String::new()
    } else {
        format!("{status}; ")
    };
    let greeting = format!("{lead}press {fetch} to fetch the first page, {help} for help");
    // Start-up is a message like any other: `update` stays the model's only writer.
    let effects = update(
        &mut model,
        Msg::StartUp(StartUp {
            title,
            signed_in,
            greeting,
            theme: Box::new(theme),
            resume,
        }),
    );
    debug_assert!(effects.is_empty(), "start-up runs nothing: {effects:?}");
    Ok(Explorer {
        model,
        engine,
        emulator: emu,
    })
}

/// `--resume [SESSION]` as a session number, checked before the terminal is taken.
fn resume_target(
    args: &ExploreArgs,
    store: Option<&std::path::Path>,
) -> anyhow::Result<Option<i64>> {
    let Some(which) = &args.resume else {
        return Ok(None);
    };
    let Some(path) = store else {
        anyhow::bail!("--resume reads the session store, which is off (--no-store)");
    };
    let store = crate::store::Store::open(path)?;
    let id = if which == "latest" {
        store
            .latest_session()?
            .ok_or_else(|| anyhow::anyhow!("--resume: no stored session in {}", path.display()))?
    } else {
        let id: i64 = which.trim().trim_start_matches('#').parse().map_err(|_| {
            anyhow::anyhow!("--resume {which}: give a session number (see `deltascope sessions`)")
        })?;
        store.session(id)?;
        id
    };
    Ok(Some(id))
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
    let mut runtime = Runtime::new(explorer.model, clipboard, explorer.engine);
    let result = {
        let mut guard = TerminalGuard::enter().context("cannot set up the terminal")?;
        runtime.run(&mut guard.terminal, crossterm_events()).await
    };
    if let Some(emu) = explorer.emulator {
        emu.shutdown().await;
    }
    result.context("terminal error")
}
