//! Process plumbing shared by the long-running commands (`emulator`, `sync`): waiting for the
//! person to stop them. Nothing here touches Graph, so the emulator may use it too.

use std::future::Future;

/// Resolves on Ctrl-C, or on SIGTERM where there are Unix signals.
///
/// The handlers are installed when this is called, not when the future is first polled: call
/// it before telling anyone the process is ready (the emulator's "listening" line), so that a
/// signal sent right after is caught rather than killing the process with the default action.
/// Must be called inside the tokio runtime. (Elsewhere than on Unix only Ctrl-C is heard, and
/// from the first poll on.)
pub fn interrupted() -> impl Future<Output = ()> + Send + 'static {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        let int = signal(SignalKind::interrupt()).ok();
        let term = signal(SignalKind::terminate()).ok();
        async move {
            match (int, term) {
                (Some(mut int), Some(mut term)) => {
                    tokio::select! {
                        _ = int.recv() => {}
                        _ = term.recv() => {}
                    }
                }
                (Some(mut one), None) | (None, Some(mut one)) => {
                    one.recv().await;
                }
                // No way to hear a signal: wait for the other ways to stop.
                (None, None) => std::future::pending().await,
            }
        }
    }
    #[cfg(not(unix))]
    {
        async move {
            if tokio::signal::ctrl_c().await.is_err() {
                std::future::pending::<()>().await;
            }
        }
    }
}
