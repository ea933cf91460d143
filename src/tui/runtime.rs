//! The event loop: owns the model, reads an injected input stream and the background tasks'
//! messages, executes effects, and draws only when something changed and the queue is drained.
//! Ticks happen only while something animates (a spinner, a Retry-After countdown).
use std::collections::VecDeque;
use std::io;
use std::sync::Arc;
use std::task::Poll;
use std::time::{Duration, Instant};

use crossterm::event::{Event, KeyEventKind};
use futures_util::{Stream, StreamExt};
use ratatui::Terminal;
use ratatui::backend::Backend;
use tokio::sync::mpsc::{UnboundedReceiver, UnboundedSender, unbounded_channel};

use super::app::{Effect, Model, Msg, update_at};
use super::clipboard::Clipboard;
use super::json_view::FormatJob;
use super::ui;

/// How often the screen animates while fetching or throttled.
pub const TICK: Duration = Duration::from_millis(100);

/// Executes the engine-side effects (fetches, cancel, resync, the access token). Results go
/// back to the loop as `Msg`s through `tx`; the handler must not block (spawn tasks instead).
/// For `Effect::CopyAccessToken`, send `Msg::CopyRequest { what: CopyWhat::AccessToken, text }`:
/// the loop copies it without storing it in the model.
pub trait EffectHandler {
    fn handle(&mut self, effect: Effect, tx: &UnboundedSender<Msg>);
}

/// Counters for tests and benchmarks.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct RunStats {
    pub frames: u64,
    pub messages: u64,
}

pub struct Runtime<C: Clipboard, H: EffectHandler> {
    pub model: Model,
    pub clipboard: C,
    pub handler: H,
    tx: UnboundedSender<Msg>,
    rx: UnboundedReceiver<Msg>,
    pub stats: RunStats,
}

/// Turns a terminal event into a message; `None` for events that change nothing.
pub fn event_to_msg(ev: Event) -> Option<Msg> {
    match ev {
        Event::Key(k) if k.kind != KeyEventKind::Release => Some(Msg::Key(k)),
        Event::Mouse(m) => Some(Msg::Mouse(m)),
        Event::Paste(s) => Some(Msg::Paste(s)),
        Event::Resize(width, height) => Some(Msg::Resize { width, height }),
        _ => None,
    }
}

/// The terminal's events as a stream (read errors end nothing; they are skipped).
pub fn crossterm_events() -> impl Stream<Item = Event> + Unpin {
    crossterm::event::EventStream::new().filter_map(|r| std::future::ready(r.ok()))
}

impl<C: Clipboard, H: EffectHandler> Runtime<C, H> {
    pub fn new(model: Model, clipboard: C, handler: H) -> Self {
        let (tx, rx) = unbounded_channel();
        Self {
            model,
            clipboard,
            handler,
            tx,
            rx,
            stats: RunStats::default(),
        }
    }

    /// A sender for background tasks.
    pub fn sender(&self) -> UnboundedSender<Msg> {
        self.tx.clone()
    }

    /// Applies one message and executes its effects; returns whether the screen must change
    /// (whether `update` says the model changed).
    pub fn process(&mut self, msg: Msg) -> bool {
        let before = self.model.revision();
        let mut queue = VecDeque::from([msg]);
        while let Some(msg) = queue.pop_front() {
            self.stats.messages += 1;
            for effect in update_at(&mut self.model, msg, Instant::now()) {
                match effect {
                    Effect::Copy { what, text } => {
                        let result = self.clipboard.copy(&text).map_err(|e| e.to_string());
                        queue.push_back(Msg::Copied {
                            what,
                            bytes: text.len(),
                            result,
                        });
                    }
                    // `update` has marked the model as quitting: the loop ends at its check.
                    Effect::Quit => {}
                    Effect::FormatJson(job) => {
                        if let Some(msg) = self.format_json(job) {
                            queue.push_back(msg);
                        }
                    }
                    other => self.handler.handle(other, &self.tx),
                }
            }
        }
        self.model.revision() != before
    }

    /// Pretty-prints a large body on a thread of its own (a frame must never wait for it);
    /// the document comes back as a message. Done here when no thread can be had.
    fn format_json(&self, job: FormatJob) -> Option<Msg> {
        let tx = self.tx.clone();
        let spare = job.clone();
        let spawned = std::thread::Builder::new()
            .name("json-format".into())
            .spawn(move || {
                let doc = Arc::new(job.run());
                let _ = tx.send(Msg::JsonFormatted { seq: job.seq, doc });
            });
        match spawned {
            Ok(_) => None,
            Err(_) => Some(Msg::JsonFormatted {
                seq: spare.seq,
                doc: Arc::new(spare.run()),
            }),
        }
    }

    fn draw<B: Backend>(&mut self, terminal: &mut Terminal<B>) -> io::Result<()> {
        terminal
            .draw(|f| ui::draw(f, &self.model))
            .map_err(|e| io::Error::other(e.to_string()))?;
        self.stats.frames += 1;
        Ok(())
    }

    /// Runs until a quit action or the end of `input`.
    pub async fn run<B, S>(&mut self, terminal: &mut Terminal<B>, input: S) -> io::Result<()>
    where
        B: Backend,
        S: Stream<Item = Event> + Unpin,
    {
        self.run_observed(terminal, input, |_, _| {}).await
    }

    /// [`Runtime::run`], calling `observe` after every frame with the model and the terminal
    /// (tests watch the model and the screen through it; benchmarks time the first frame).
    pub async fn run_observed<B, S, O>(
        &mut self,
        terminal: &mut Terminal<B>,
        mut input: S,
        mut observe: O,
    ) -> io::Result<()>
    where
        B: Backend,
        S: Stream<Item = Event> + Unpin,
        O: FnMut(&Model, &Terminal<B>),
    {
        self.process(Msg::Started);
        if let Ok(size) = terminal.size() {
            self.process(Msg::Resize {
                width: size.width,
                height: size.height,
            });
        }
        self.draw(terminal)?;
        observe(&self.model, terminal);
        loop {
            let animating = self.model.animating();
            let first = tokio::select! {
                ev = input.next() => match ev {
                    Some(ev) => event_to_msg(ev),
                    None => return Ok(()),
                },
                // (the input ending mid-drain is handled below, after a last draw)
                Some(msg) = self.rx.recv() => Some(msg),
                () = tokio::time::sleep(TICK), if animating => Some(Msg::Tick(Instant::now())),
            };
            let mut dirty = false;
            let mut ended = false;
            if let Some(msg) = first {
                dirty |= self.process(msg);
            }
            // Drain what is already queued before drawing once.
            loop {
                if self.model.quit {
                    return Ok(());
                }
                if let Ok(msg) = self.rx.try_recv() {
                    dirty |= self.process(msg);
                    continue;
                }
                // Polled with this task's own waker (`poll!`), not a no-op one
                // (`now_or_never`): crossterm's EventStream registers the waker of the poll
                // that returned Pending and no other, so a no-op waker loses the next key.
                match futures_util::poll!(input.next()) {
                    Poll::Ready(Some(ev)) => {
                        if let Some(msg) = event_to_msg(ev) {
                            dirty |= self.process(msg);
                        }
                    }
                    Poll::Ready(None) => {
                        ended = true;
                        break;
                    }
                    Poll::Pending => break,
                }
            }
            if dirty {
                self.draw(terminal)?;
                observe(&self.model, terminal);
            }
            if ended {
                return Ok(());
            }
        }
    }
}
