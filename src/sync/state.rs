//! The `--state` file: where the next run starts, and the query it continues.
use super::*;

/// What `--state` holds. Never a bearer token: only links (state tokens are not credentials
/// for anything but the same query) and the query that produced them, for checks.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq)]
pub struct SavedState {
    pub version: u32,
    pub graph_root: String,
    pub resource: String,
    pub api: String,
    /// The round headers (`Prefer`), which must be sent again with the saved link.
    pub headers: Vec<(String, String)>,
    /// Where the next run starts: the deltaLink, or the nextLink of an interrupted round.
    pub link: String,
    /// True when `link` is a nextLink of a round that was interrupted.
    pub mid_round: bool,
    /// True when `link` is the query's first request: the next run starts a full round (after
    /// a round stopped on a link that could not be followed). Absent in older files.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub full_round: bool,
    /// The query's first request (URL), which the saved link continues: a later run with
    /// other options (`--select`, `--minimal`, `--id`, …) would get the old query's changes.
    /// Absent in older files (not checked then).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub query: Option<String>,
    pub rounds_completed: u64,
    pub saved_at: String,
}

pub(super) fn check_state_fits(
    state: &SavedState,
    root: &GraphRoot,
    query: &DeltaQuery,
    first: &PageRequest,
) -> Result<(), Failure> {
    if state.graph_root != root.to_string() {
        return Err(fail(
            exit::VALIDATION,
            format!(
                "the state file was saved against {} but this run targets {}: a delta link only works \
                 where it was issued (use --graph-root {}, or another --state file)",
                state.graph_root, root, state.graph_root
            ),
        ));
    }
    if state.resource != query.resource {
        return Err(fail(
            exit::VALIDATION,
            format!(
                "the state file holds a {} delta link, not {}",
                state.resource, query.resource
            ),
        ));
    }
    if let Some(saved) = &state.query
        && saved != &first.url
    {
        return Err(fail(
            exit::VALIDATION,
            format!(
                "the state file continues another query ({saved}) than this one ({}): a delta link keeps the options it was started with, so this run would get that query's changes; give the same options, or use another --state file",
                first.url
            ),
        ));
    }
    let minimal = |h: &[(String, String)]| crate::graph::page::headers_ask_minimal(h);
    if minimal(&state.headers) != minimal(&first.headers) {
        return Err(fail(
            exit::VALIDATION,
            format!(
                "the state file's rounds were {} Prefer: return=minimal, this run is {}: give {} or use another --state file",
                if minimal(&state.headers) {
                    "fetched with"
                } else {
                    "fetched without"
                },
                if minimal(&first.headers) {
                    "with it"
                } else {
                    "without it"
                },
                if minimal(&state.headers) {
                    "--minimal"
                } else {
                    "no --minimal"
                },
            ),
        ));
    }
    Ok(())
}

pub(super) fn save_session(
    path: &Path,
    session: &Session,
    root: &GraphRoot,
    query: &DeltaQuery,
    first: &PageRequest,
    rounds_completed: u64,
) -> anyhow::Result<()> {
    let Some(next) = session.next_request() else {
        return Ok(());
    };
    save_state(
        path,
        &SavedState {
            version: 1,
            graph_root: root.to_string(),
            resource: query.resource.clone(),
            api: query.api.to_string(),
            headers: next.headers.clone(),
            link: next.url.clone(),
            // From the saved link's own kind (not the session's round in progress, which a
            // page that panicked half-applied may have opened before its deltaLink was seen).
            mid_round: matches!(next.kind, RequestKind::Initial | RequestKind::Next),
            full_round: next.kind == RequestKind::Initial,
            query: Some(first.url.clone()),
            rounds_completed,
            saved_at: chrono::Utc::now().to_rfc3339(),
        },
    )
}

pub fn load_state(path: &Path) -> anyhow::Result<Option<SavedState>> {
    let text = match std::fs::read_to_string(path) {
        Ok(text) => text,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => {
            return Err(e)
                .with_context(|| format!("cannot read the state file {}", path.display()));
        }
    };
    let state: SavedState = serde_json::from_str(&text).with_context(|| {
        format!(
            "the state file {} is not a deltascope state file",
            path.display()
        )
    })?;
    // Only the headers a query sets may go out with the token; anything else was written by
    // someone else than deltascope.
    if let Some((name, _)) = state.headers.iter().find(|(k, _)| !is_query_header(k)) {
        anyhow::bail!(
            "the state file {} holds a header {:?} that deltascope never saves (only {} go with a delta link): it was edited by hand, and the header is not sent; remove it or start a new state file",
            path.display(),
            crate::text::one_line(name),
            crate::graph::page::QUERY_HEADERS.join(" and ")
        );
    }
    Ok(Some(state))
}

/// Writes the state next to its final place and renames it over, so a crash never leaves a
/// half-written file; mode 0600 from the first byte, since a delta link reveals tenant data.
pub fn save_state(path: &Path, state: &SavedState) -> anyhow::Result<()> {
    let text = serde_json::to_string_pretty(state)?;
    crate::fsutil::write_private_atomic(path, text.as_bytes())
        .with_context(|| format!("cannot save the state file {}", path.display()))
}
