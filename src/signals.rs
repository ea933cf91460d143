//! Process plumbing shared by the long-running commands (`emulator`, `sync`): waiting for the
//! person to stop them. Nothing here touches Graph, so the emulator may use it too.

/// Returns on Ctrl-C, or on SIGTERM where there are Unix signals.
pub async fn interrupted() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        if let Ok(mut term) = signal(SignalKind::terminate()) {
            tokio::select! {
                _ = tokio::signal::ctrl_c() => {}
                _ = term.recv() => {}
            }
            return;
        }
    }
    let _ = tokio::signal::ctrl_c().await;
}
