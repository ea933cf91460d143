//! The fetch-ahead: the next page is requested as soon as the page before it has arrived and been read, so the network does not wait for writing and applying.
use super::*;

/// Pages fetched and not yet consumed by the sync loop, at most.
const FETCH_AHEAD: usize = 3;

/// What a chain of fetches shares: the client, its own cancellation (a child of the run's), and
/// the permits that bound how far it runs ahead of the loop.
pub(super) struct ChainCtx {
    pub(super) client: Arc<GraphClient>,
    pub(super) cancel: CancellationToken,
    pub(super) permits: Arc<tokio::sync::Semaphore>,
}

impl ChainCtx {
    pub(super) fn new(client: &Arc<GraphClient>, run: &CancellationToken) -> Arc<ChainCtx> {
        Arc::new(ChainCtx {
            client: client.clone(),
            cancel: run.child_token(),
            permits: Arc::new(tokio::sync::Semaphore::new(FETCH_AHEAD)),
        })
    }
}

/// A fetched page, read where it arrived (its links and items found, the body not copied yet).
type Fetched = (
    Result<(Unparsed, ParsedBody), GraphError>,
    Option<tokio::sync::OwnedSemaphorePermit>,
);

/// What became of a fetched page on the blocking pool: the report of applying it, its size and
/// item count; or the stdout error that kept it from being applied.
pub(super) type Processed = Result<std::io::Result<(PageReport, u64, u64)>, GraphError>;

/// A page being fetched ahead of the loop. As soon as its body has arrived it is read (checked
/// whole, its top-level links found: the page's own reading, not a guess from the bytes), and
/// its nextLink is requested, so the network does not wait for writing and applying. The loop
/// uses a fetched page only when the session asks for exactly that request, and otherwise
/// cancels the chain and fetches what the session asks for (a stopped round, say).
pub(super) struct Ahead {
    pub(super) req: PageRequest,
    pub(super) task: tokio::task::JoinHandle<Fetched>,
    pub(super) next: Arc<std::sync::Mutex<Option<Ahead>>>,
}

pub(super) fn launch(ctx: &Arc<ChainCtx>, req: PageRequest) -> Ahead {
    let next = Arc::new(std::sync::Mutex::new(None));
    let (ctx, slot, r) = (ctx.clone(), next.clone(), req.clone());
    let task = tokio::spawn(async move {
        let permit = ctx.permits.clone().acquire_owned().await.ok();
        #[allow(clippy::result_large_err)] // GraphError, large as everywhere in the engine
        let result = ctx
            .client
            .fetch_unparsed(&r, &ctx.cancel, &throttle_notice)
            .await
            .and_then(|unparsed| {
                let parsed = unparsed.read()?;
                Ok((unparsed, parsed))
            });
        if let Ok((_, parsed)) = &result
            && let Some(url) = &parsed.next_link
            && !ctx.cancel.is_cancelled()
        {
            let following = PageRequest {
                url: url.clone(),
                headers: r.headers.clone(),
                kind: RequestKind::Next,
            };
            if let Ok(mut s) = slot.lock() {
                *s = Some(launch(&ctx, following));
            }
        }
        (result, permit)
    });
    Ahead { req, task, next }
}
