//! The real explorer (runtime, engine executor, a `TestBackend`) driven by a script: keys go in
//! through an injected input stream, the script sees what each test extracts from every frame
//! and waits on conditions with a deadline (no fixed sleeps).

use std::future::Future;
use std::ops::{Deref, DerefMut};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use crossterm::event::{Event, KeyCode, KeyEvent, KeyModifiers};
use deltascope::auth::AuthArgs;
use deltascope::tui::app::Model;
use deltascope::tui::clipboard::{Clipboard, ClipboardError, CopyMethod};
use deltascope::tui::explore::ExploreArgs;
use deltascope::tui::runtime::{EffectHandler, Runtime};
use futures_util::Stream;
use ratatui::Terminal;
use ratatui::backend::TestBackend;
use tokio::sync::{mpsc, watch};

/// How long a script waits for a condition before it fails.
pub const DEADLINE: Duration = Duration::from_secs(30);

/// Explorer arguments with the default keymap (the keymap file named does not exist), signed
/// in as `auth` says.
/// The session store is off (a test of the store names its own file).
pub fn explore_args(auth: AuthArgs) -> ExploreArgs {
    ExploreArgs {
        keymap: Some("/nonexistent/deltascope-test-keymap.toml".into()),
        auth,
        store: deltascope::store::StoreArgs {
            no_store: true,
            ..Default::default()
        },
        ..Default::default()
    }
}

/// A clipboard that records what it got, shared with the test.
#[derive(Clone, Default)]
pub struct SharedClipboard(pub Arc<Mutex<Vec<String>>>);

impl Clipboard for SharedClipboard {
    fn copy(&mut self, text: &str) -> Result<CopyMethod, ClipboardError> {
        self.0.lock().unwrap().push(text.to_owned());
        Ok(CopyMethod::Osc52 { tmux: false })
    }
}

/// The terminal's screen as text, a line per row.
pub fn screen_text(t: &Terminal<TestBackend>) -> String {
    let buf = t.backend().buffer();
    let mut screen = String::new();
    for y in 0..buf.area.height {
        for x in 0..buf.area.width {
            screen.push_str(buf[(x, y)].symbol());
        }
        screen.push('\n');
    }
    screen
}

/// What a test extracts from a frame.
pub trait Frame: Clone + Default {
    /// What a timed-out wait reports about the last frame.
    fn context(&self) -> String;
}

/// The script's side: keys in, frames out, and whatever else the test hands its scripts
/// (`extra`, reachable through the driver: `d.clipboard` for an extra with a `clipboard`).
pub struct Driver<S, X = ()> {
    pub keys: mpsc::UnboundedSender<Event>,
    pub seen: watch::Receiver<S>,
    pub extra: X,
}

impl<S, X> Deref for Driver<S, X> {
    type Target = X;
    fn deref(&self) -> &X {
        &self.extra
    }
}

impl<S, X> DerefMut for Driver<S, X> {
    fn deref_mut(&mut self) -> &mut X {
        &mut self.extra
    }
}

impl<S: Frame, X> Driver<S, X> {
    /// Sends the key `code` without modifiers.
    pub fn key(&self, code: KeyCode) {
        let _ = self
            .keys
            .send(Event::Key(KeyEvent::new(code, KeyModifiers::NONE)));
    }

    /// Sends the character key `c`.
    pub fn press(&self, c: char) {
        self.key(KeyCode::Char(c));
    }

    /// Waits until `pred` holds for a frame, or fails with the last frame.
    pub async fn wait(&mut self, what: &str, pred: impl Fn(&S) -> bool) -> S {
        let waited = tokio::time::timeout(DEADLINE, async {
            loop {
                {
                    let s = self.seen.borrow_and_update();
                    if pred(&s) {
                        return s.clone();
                    }
                }
                if self.seen.changed().await.is_err() {
                    let s = self.seen.borrow().clone();
                    assert!(pred(&s), "the explorer ended before: {what}");
                    return s;
                }
            }
        })
        .await;
        match waited {
            Ok(s) => s,
            Err(_) => {
                let s = self.seen.borrow().clone();
                panic!("timed out waiting for: {what}\n{}", s.context());
            }
        }
    }
}

fn key_stream(rx: mpsc::UnboundedReceiver<Event>) -> impl Stream<Item = Event> + Unpin {
    Box::pin(futures_util::stream::unfold(rx, |mut rx| async move {
        rx.recv().await.map(|e| (e, rx))
    }))
}

/// Runs `runtime` on a `width`×`height` test terminal against `script`, whose driver carries
/// `extra`, until the explorer ends; after every frame `frame` makes what the script sees from
/// the model, the terminal and the frame before. Fails if the runtime fails.
pub async fn run_scripted<C, H, S, X, Fut>(
    runtime: &mut Runtime<C, H>,
    (width, height): (u16, u16),
    mut frame: impl FnMut(&Model, &Terminal<TestBackend>, &S) -> S,
    extra: X,
    script: impl FnOnce(Driver<S, X>) -> Fut,
) where
    C: Clipboard,
    H: EffectHandler,
    S: Frame,
    Fut: Future<Output = ()>,
{
    let (keys, keys_rx) = mpsc::unbounded_channel();
    let (seen_tx, seen) = watch::channel(S::default());
    let mut terminal = Terminal::new(TestBackend::new(width, height)).unwrap();
    let run = runtime.run_observed(&mut terminal, key_stream(keys_rx), |m, t| {
        seen_tx.send_modify(|prev| *prev = frame(m, t, prev));
    });
    let (result, ()) = tokio::join!(run, script(Driver { keys, seen, extra }));
    result.unwrap();
}
