//! Sign-in orchestration: the start-up sign-in or a profile's, run in the background and
//! tagged with an attempt number; a success replaces the connection and drops the session.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use tokio::sync::mpsc::UnboundedSender;
use tokio_util::sync::CancellationToken;

use super::convert::{device_code_view, profiles_view, signed_in_title};
use super::effects::EngineExecutor;
use super::shared::{Connection, lock};
use crate::auth::{AccessToken, AuthArgs, Cloud, DevicePrompt, PromptFn, TokenSource};
use crate::graph::{GraphClient, GraphRoot, ResourceSpec};
use crate::tui::app::Msg;
use crate::tui::view::SignInTarget;

/// The token source of a sign-in in force, telling the UI when getting a token needed the
/// person again (a new device code, when the refresh token was refused): the overlay shown for
/// it closes when that token request ends.
pub(super) struct Announced {
    pub(super) inner: Arc<dyn TokenSource>,
    pub(super) prompted: Arc<AtomicBool>,
    pub(super) attempt: u64,
    pub(super) tx: UnboundedSender<Msg>,
}

impl Announced {
    pub(super) fn told(
        &self,
        r: Result<AccessToken, crate::auth::AuthError>,
    ) -> Result<AccessToken, crate::auth::AuthError> {
        if self.prompted.swap(false, Ordering::SeqCst) {
            let _ = self.tx.send(Msg::SignInRenewed {
                attempt: self.attempt,
                result: r.as_ref().map(|_| ()).map_err(ToString::to_string),
            });
        }
        r
    }
}

impl TokenSource for Announced {
    fn token(&self) -> crate::auth::TokenFuture<'_> {
        Box::pin(async move {
            let r = self.inner.token().await;
            self.told(r)
        })
    }

    fn refresh(&self) -> crate::auth::TokenFuture<'_> {
        Box::pin(async move {
            let r = self.inner.refresh().await;
            self.told(r)
        })
    }
}

/// How the explorer started signing in, and where its profiles are.
pub struct SignInSetup {
    /// The explorer's sign-in options (the command line; `--config` names the profiles' file).
    pub args: AuthArgs,
    pub startup: Startup,
    /// What the start-up sign-in is, for the profile picker (never a secret).
    pub describe: String,
}

/// The sign-in the explorer starts with.
pub enum Startup {
    /// A token source that needs no sign-in step (the embedded emulator's demo token, a token
    /// read from standard input before the screen was taken).
    Ready {
        root: GraphRoot,
        tokens: Arc<dyn TokenSource>,
        who: String,
        title: String,
    },
    /// Sign in with the explorer's options against `root`, in the background.
    SignIn { root: GraphRoot },
}

impl Startup {
    pub(super) fn root(&self) -> &GraphRoot {
        match self {
            Startup::Ready { root, .. } | Startup::SignIn { root } => root,
        }
    }
}

/// A sign-in that succeeded.
pub(super) struct SignedIn {
    pub(super) root: GraphRoot,
    pub(super) tokens: Arc<dyn TokenSource>,
    pub(super) who: String,
    pub(super) title: String,
}

/// Runs sign-in `target`: the start-up one, or a profile (its Graph root: its `graph_root`, else
/// its cloud's). The first token is fetched before this returns.
pub(super) async fn sign_in(
    setup: &SignInSetup,
    target: &SignInTarget,
    resource: Option<&ResourceSpec>,
    prompt: PromptFn,
    cancel: CancellationToken,
) -> Result<SignedIn, String> {
    let (args, root) = match (target, &setup.startup) {
        (
            SignInTarget::Startup,
            Startup::Ready {
                root,
                tokens,
                who,
                title,
            },
        ) => {
            return Ok(SignedIn {
                root: root.clone(),
                tokens: tokens.clone(),
                who: who.clone(),
                title: title.clone(),
            });
        }
        (SignInTarget::Startup, Startup::SignIn { root }) => (setup.args.clone(), root.clone()),
        (SignInTarget::Profile(name), _) => {
            // The profile alone decides (its own cloud and root); only the config file is the
            // command line's.
            let args = AuthArgs {
                profile: Some(name.clone()),
                config: setup.args.config.clone(),
                ..Default::default()
            };
            let root = args
                .implied_graph_root()
                .map_err(|e| e.to_string())?
                .unwrap_or_else(|| Cloud::default().graph_root().to_owned());
            let root = GraphRoot::parse(&root).map_err(|e| e.to_string())?;
            (args, root)
        }
    };
    let (tokens, plan) = args
        .sign_in(root.as_str(), resource, prompt, cancel)
        .await
        .map_err(|e| e.to_string())?;
    let who = plan.describe();
    Ok(SignedIn {
        title: signed_in_title(&root, &who),
        root,
        tokens,
        who,
    })
}

impl EngineExecutor {
    /// Starts sign-in `attempt` in the background (a running one is cancelled).
    pub(super) fn start_sign_in(
        &self,
        attempt: u64,
        target: SignInTarget,
        resource: Option<String>,
        tx: &UnboundedSender<Msg>,
    ) {
        let cancel = CancellationToken::new();
        {
            let mut s = lock(&self.shared);
            if let Some((_, old)) = s.signing.replace((attempt, cancel.clone())) {
                old.cancel();
            }
        }
        let prompted = Arc::new(AtomicBool::new(false));
        let prompt: PromptFn = {
            let (tx, prompted) = (tx.clone(), prompted.clone());
            Arc::new(move |p: &DevicePrompt| {
                prompted.store(true, Ordering::SeqCst);
                let _ = tx.send(Msg::DeviceCode {
                    attempt,
                    prompt: device_code_view(p),
                });
            })
        };
        let (setup, shared, tx) = (self.setup.clone(), self.shared.clone(), tx.clone());
        let (catalog, config) = (self.catalog, self.config.clone());
        self.runtime.spawn(async move {
            let spec = resource.as_deref().and_then(|r| catalog.get(r));
            let result = sign_in(&setup, &target, spec, prompt, cancel.clone())
                .await
                .and_then(|mut d| {
                    // This sign-in's own prompt is answered by SignedIn; a later one (a
                    // renewal) by the wrapper.
                    prompted.store(false, Ordering::SeqCst);
                    d.tokens = Arc::new(Announced {
                        inner: d.tokens,
                        prompted,
                        attempt,
                        tx: tx.clone(),
                    });
                    let client = GraphClient::new(d.root.clone(), d.tokens.clone(), config)
                        .map_err(|e| e.to_string())?;
                    Ok((d, client))
                });
            let mut s = lock(&shared);
            // Cancelled or superseded meanwhile: the UI has moved on; nothing changes.
            if !s
                .signing
                .as_ref()
                .is_some_and(|(a, c)| *a == attempt && !c.is_cancelled())
            {
                return;
            }
            s.signing = None;
            let msg = match result {
                Ok((d, client)) => {
                    // The old identity's session ends here, under the lock the fetch tasks
                    // check: a page still on its way for it is dropped.
                    if let Some(a) = s.active.take() {
                        a.cancel.cancel();
                    }
                    s.session = None;
                    s.last_error = None;
                    s.root = d.root.clone();
                    s.connection = Some(Connection {
                        client: Arc::new(client),
                        tokens: d.tokens,
                        attempt,
                        cancel,
                    });
                    tracing::info!(attempt, "signed in: {}", d.who);
                    Msg::SignedIn {
                        attempt,
                        who: d.who,
                        title: d.title,
                        root: d.root.to_string(),
                    }
                }
                Err(error) => {
                    tracing::info!(attempt, "sign-in failed: {error}");
                    Msg::SignInFailed { attempt, error }
                }
            };
            drop(s);
            let _ = tx.send(msg);
        });
    }

    pub(super) fn load_profiles(&self, tx: &UnboundedSender<Msg>) {
        let (setup, tx) = (self.setup.clone(), tx.clone());
        self.runtime.spawn(async move {
            let path = setup.args.config_path();
            let view = profiles_view(path.as_deref(), &setup.describe);
            let _ = tx.send(Msg::ProfilesLoaded(view));
        });
    }
}
