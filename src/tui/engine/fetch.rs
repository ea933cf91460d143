//! The fetch worker: one task per run, fetching pages until the run is done, cancelled or
//! superseded, and turning each outcome into messages.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Instant;

use tokio::sync::mpsc::UnboundedSender;
use tokio_util::sync::CancellationToken;

use super::convert::{
    RoundShape, error_view, failed_page_view, page_view, refused_link_view, stop_view,
    summary_line, token_check,
};
use super::shared::{Shared, lock};
use crate::auth::{AccessToken, Check, TokenSource};
use crate::graph::{
    FetchProgress, GraphClient, GraphError, GraphRoot, Page, PageRequest, RequestKind,
    ResourceSpec, Session, Unparsed,
};
use crate::tui::app::Msg;
use crate::tui::view::{ErrorView, TokenCheckView};

/// What a fetch task checks the token with: the token source of the sign-in in force, the
/// session's resource and the Graph root.
pub(super) struct TokenChecker {
    pub(super) tokens: Arc<dyn TokenSource>,
    pub(super) resource: Option<&'static ResourceSpec>,
    pub(super) root: GraphRoot,
}

impl TokenChecker {
    /// The check of `token` (dropped here, right after decoding); `None`: not a JWT.
    pub(super) fn check(&self, token: AccessToken) -> Option<Check> {
        let check = token_check(
            token.secret(),
            self.resource,
            &self.root,
            chrono::Utc::now(),
        );
        drop(token);
        check
    }

    /// After a 403: what the check of the token in force finds wrong (empty: nothing, not a
    /// JWT, or no token to be had).
    pub(super) async fn problems(&self, cancel: &CancellationToken) -> Vec<String> {
        let token = tokio::select! {
            t = self.tokens.token() => t.ok(),
            () = cancel.cancelled() => None,
        };
        token
            .and_then(|t| self.check(t))
            .map(|c| c.problems)
            .unwrap_or_default()
    }
}

pub(super) struct FetchTask {
    pub(super) run_id: u64,
    pub(super) cancel: CancellationToken,
    pub(super) follow: Arc<AtomicBool>,
    pub(super) client: Arc<GraphClient>,
    pub(super) checker: TokenChecker,
    /// Check the token before the first request (the session's initial request).
    pub(super) preflight: bool,
    pub(super) shared: Arc<Mutex<Shared>>,
    pub(super) tx: UnboundedSender<Msg>,
}

impl FetchTask {
    pub(super) fn is_active(&self, s: &Shared) -> bool {
        s.active.as_ref().is_some_and(|a| a.run_id == self.run_id) && !self.cancel.is_cancelled()
    }

    /// The next request and the 1-based index its page will have in its round.
    pub(super) fn next(&self) -> Option<(PageRequest, u32)> {
        let mut s = lock(&self.shared);
        if !self.is_active(&s) {
            return None;
        }
        let Some(req) = s.session.as_ref().and_then(Session::next_request) else {
            s.active = None;
            drop(s);
            let _ = self.tx.send(Msg::FetchFailed {
                run_id: self.run_id,
                error: ErrorView {
                    message: "the last page left no link to continue from".into(),
                    hint: Some("start a full resync".into()),
                    needs_resync: true,
                    ..Default::default()
                },
            });
            return None;
        };
        let session = s.session.as_ref()?;
        let index = if session.in_round() && req.kind == RequestKind::Next {
            session
                .rounds()
                .last()
                .map(|r| u32::try_from(r.pages + 1).unwrap_or(u32::MAX))
                .unwrap_or(1)
        } else {
            1
        };
        Some((req, index))
    }

    /// Before the session's first request: gets the token about to be sent (off the UI thread),
    /// checks it against the resource and the Graph root and tells the UI what it found; a token
    /// that is not a JWT is not checked and nothing is said. The request goes out whatever the
    /// check says: the server has the last word (catalogs lag; a higher permission may do).
    /// `false`: the run ended here (cancelled, or no token could be had, reported as the
    /// fetch's failure, as the client would have: asking the sign-in twice could show a
    /// second device code).
    pub(super) async fn preflight(&self) -> bool {
        let token = tokio::select! {
            t = self.checker.tokens.token() => t,
            () = self.cancel.cancelled() => return false,
        };
        match token {
            Ok(token) => {
                // The store names the session's tenant and identity from the token's claims.
                if let Some(rec) = lock(&self.shared).recorder.clone() {
                    rec.identify(token.secret());
                }
                if let Some(check) = self.checker.check(token) {
                    if !check.ok() {
                        tracing::info!(
                            run_id = self.run_id,
                            problems = check.problems.len(),
                            "the token check before the first request found problems; sending it anyway"
                        );
                    }
                    let _ = self.tx.send(Msg::TokenChecked {
                        run_id: self.run_id,
                        check: TokenCheckView {
                            resource: self.checker.resource.map(|r| r.name.clone()),
                            problems: check.problems,
                        },
                    });
                }
                true
            }
            Err(e) => {
                let e = GraphError::Auth(e.to_string());
                let mut s = lock(&self.shared);
                if self.is_active(&s) {
                    tracing::info!(run_id = self.run_id, "fetch failed: no token");
                    let error = error_view(&e);
                    s.last_error = Some(e);
                    s.active = None;
                    let _ = self.tx.send(Msg::FetchFailed {
                        run_id: self.run_id,
                        error,
                    });
                }
                false
            }
        }
    }

    pub(super) async fn run(self) {
        if self.preflight && !self.preflight().await {
            return;
        }
        loop {
            let Some((request, index)) = self.next() else {
                return;
            };
            let _ = self.tx.send(Msg::Fetching {
                run_id: self.run_id,
                page: index,
            });
            let (run_id, tx) = (self.run_id, self.tx.clone());
            let progress = move |p: FetchProgress| match p {
                FetchProgress::Throttled {
                    status,
                    retry_after,
                    ..
                } => {
                    let _ = tx.send(Msg::Throttled {
                        run_id,
                        until: Instant::now() + retry_after,
                        status,
                    });
                }
                FetchProgress::Sending { attempt } if attempt > 1 => {
                    let _ = tx.send(Msg::Fetching {
                        run_id,
                        page: index,
                    });
                }
                _ => {}
            };
            let sent = Instant::now();
            let result = match self
                .client
                .fetch_unparsed(&request, &self.cancel, &progress)
                .await
            {
                Ok(unparsed) => parse_keeping_response(unparsed).await,
                Err(e) => Err((e, None)),
            };
            // A 403 is checked again (with the token in force): the error names what is missing.
            let token_problems = match &result {
                Err((e, _)) if e.status() == Some(403) => self.checker.problems(&self.cancel).await,
                _ => Vec::new(),
            };
            let mut s = lock(&self.shared);
            if !self.is_active(&s) {
                return;
            }
            match result {
                Ok(page) => {
                    let Some(session) = s.session.as_mut() else {
                        return;
                    };
                    let report = session.apply(&page);
                    let summary = session.rounds().last().cloned();
                    let round = summary.as_ref().map(|r| r.number).unwrap_or(1);
                    let index = summary
                        .as_ref()
                        .map(|r| u32::try_from(r.pages).unwrap_or(u32::MAX))
                        .unwrap_or(index);
                    let full = summary.as_ref().is_some_and(|r| r.full);
                    let shape = RoundShape {
                        full,
                        minimal_changes: !full && summary.as_ref().is_some_and(|r| r.minimal),
                    };
                    let mut view = page_view(&page, index, shape, &report.outcomes);
                    for w in &report.warnings {
                        tracing::warn!(run_id = self.run_id, "{w}");
                    }
                    view.warnings = report.warnings.clone();
                    if let (Some(rec), Some(summary)) = (&s.recorder, &summary) {
                        rec.page(page.clone(), &report, summary);
                        if let Some(e) = rec.error()
                            && !s.store_warned
                        {
                            s.store_warned = true;
                            let _ = self.tx.send(Msg::Notice {
                                kind: crate::tui::app::NoticeKind::Warning,
                                text: format!("session store: {e}"),
                            });
                        }
                    }
                    let _ = self.tx.send(Msg::PageArrived {
                        run_id: self.run_id,
                        round,
                        page: view,
                    });
                    if let Some(stop) = &report.stop {
                        s.active = None;
                        if let Some(row) = refused_link_view(stop, index + 1, &page) {
                            let _ = self.tx.send(Msg::RequestFailed {
                                run_id: self.run_id,
                                round,
                                row,
                            });
                        }
                        let _ = self.tx.send(Msg::RoundStopped {
                            run_id: self.run_id,
                            round,
                            summary_line: summary.as_ref().map(summary_line),
                            error: stop_view(stop),
                        });
                        return;
                    }
                    if report.round_complete {
                        let _ = self.tx.send(Msg::RoundComplete {
                            run_id: self.run_id,
                            round,
                            summary_line: summary.as_ref().map(summary_line),
                            delta_link: page.delta_link.clone(),
                        });
                    }
                    if report.round_complete || !self.follow.load(Ordering::SeqCst) {
                        s.active = None;
                        return;
                    }
                }
                Err((GraphError::Cancelled, _)) => {
                    s.active = None;
                    return;
                }
                Err((e, response)) => {
                    tracing::info!(run_id = self.run_id, status = ?e.status(), "fetch failed");
                    let mut row =
                        failed_page_view(&e, &request, index, sent.elapsed(), response.as_ref());
                    let mut error = error_view(&e);
                    error.token_problems = token_problems;
                    if let Some(failure) = &mut row.failure {
                        failure.token_problems = error.token_problems.clone();
                    }
                    // The round the request was for: a nextLink's is the round in progress; a
                    // first request or a deltaLink would have started the next one.
                    let rounds = s.session.as_ref().map_or(&[][..], |s| s.rounds());
                    let last = rounds.last().map_or(0, |r| r.number);
                    let round = if request.kind == RequestKind::Next {
                        last.max(1)
                    } else {
                        last + 1
                    };
                    if let Some(rec) = &s.recorder {
                        rec.failure(crate::store::record::FailedRequest {
                            request: request.clone(),
                            round,
                            error: e.to_string(),
                            response,
                            elapsed: sent.elapsed(),
                        });
                    }
                    s.last_error = Some(e);
                    s.active = None;
                    let _ = self.tx.send(Msg::RequestFailed {
                        run_id: self.run_id,
                        round,
                        row,
                    });
                    let _ = self.tx.send(Msg::FetchFailed {
                        run_id: self.run_id,
                        error,
                    });
                    return;
                }
            }
        }
    }
}

/// Bodies from this size on are parsed on tokio's blocking pool (the runtime's threads stay
/// free for the network meanwhile).
const PARSE_OFF_RUNTIME_FROM: usize = 256 * 1024;

/// The page, or why the body is not a delta page together with the response as received (its
/// status, headers and whole body: the failed request's row shows them).
// Once per failed page, like the engine's own (GraphError carries what a support case needs).
#[allow(clippy::result_large_err)]
async fn parse_keeping_response(unparsed: Unparsed) -> Result<Page, (GraphError, Option<Page>)> {
    let len = unparsed.body().len();
    let parse = move || match unparsed.read() {
        Ok(parsed) => Ok(unparsed.into_page(parsed)),
        Err(e) => {
            let nothing = crate::graph::page::ParsedBody {
                items: Vec::new(),
                next_link: None,
                delta_link: None,
                count: None,
                context: None,
            };
            Err((e, Some(unparsed.into_page(nothing))))
        }
    };
    if len < PARSE_OFF_RUNTIME_FROM {
        return parse();
    }
    tokio::task::spawn_blocking(parse)
        .await
        .unwrap_or_else(|e| {
            Err((
                GraphError::Network(format!("the page could not be parsed: {e}")),
                None,
            ))
        })
}
