//! The store's tables, one migration per schema version. `PRAGMA user_version` says which
//! version a file has; `PRAGMA application_id` says it is a deltascope store at all.

/// `PRAGMA application_id` of a deltascope store ("dlts").
pub const APPLICATION_ID: i32 = 0x646c_7473;

/// Migrations, in order: entry `n` takes a file from version `n` to `n + 1`. A file at version
/// `MIGRATIONS.len()` is current.
pub const MIGRATIONS: &[&str] = &[V1];

/// The schema this build reads and writes.
pub fn current_version() -> i64 {
    MIGRATIONS.len() as i64
}

/// Version 1: sessions, their rounds, every request with its response, every item received.
const V1: &str = r#"
CREATE TABLE sessions (
    id INTEGER PRIMARY KEY,
    created_at TEXT NOT NULL,          -- RFC 3339, UTC
    graph_root TEXT NOT NULL,          -- origin the requests went to
    embedded INTEGER NOT NULL,         -- 1: the embedded emulator's demo tenant
    cloud TEXT,                        -- global, usgov, usgov-dod, china (NULL: not a cloud's root)
    tenant_id TEXT,                    -- the access token's tid claim
    identity TEXT,                     -- the token's user (upn/oid) or app (appid): never the token
    resource TEXT NOT NULL,            -- catalog name: contacts, users, groups, ...
    api_version TEXT NOT NULL,         -- v1.0 or beta
    query TEXT NOT NULL,               -- the query's options as JSON ($select, ids, minimal, ...)
    first_url TEXT NOT NULL,           -- the query's first request
    headers TEXT NOT NULL,             -- the round headers as JSON [[name, value], ...]
    origin TEXT NOT NULL               -- explorer or sync
);

CREATE TABLE rounds (
    id INTEGER PRIMARY KEY,
    session_id INTEGER NOT NULL REFERENCES sessions(id) ON DELETE CASCADE,
    number INTEGER NOT NULL,           -- 1-based, in the session
    kind TEXT NOT NULL,                -- full (initial or resync), delta, latest
    minimal INTEGER NOT NULL,          -- Prefer: return=minimal
    started_at TEXT NOT NULL,
    ended_at TEXT,                     -- when its deltaLink came (NULL: not complete)
    delta_link TEXT,
    complete INTEGER NOT NULL DEFAULT 0,
    summary TEXT NOT NULL,             -- counts as JSON (added, updated, removed, ...)
    UNIQUE (session_id, number)
);

CREATE TABLE requests (
    id INTEGER PRIMARY KEY,
    session_id INTEGER NOT NULL REFERENCES sessions(id) ON DELETE CASCADE,
    round_id INTEGER REFERENCES rounds(id) ON DELETE CASCADE,
    round_number INTEGER NOT NULL,     -- the round it was (or would have been) part of
    page INTEGER,                      -- 1-based page of its round; NULL: the request failed
    kind TEXT NOT NULL,                -- initial, next, delta
    url TEXT NOT NULL,                 -- as sent
    status INTEGER,                    -- NULL: no response (network, timeout)
    request_headers TEXT NOT NULL,     -- JSON; Authorization is never stored
    response_headers TEXT NOT NULL,    -- JSON
    started_at TEXT NOT NULL,
    elapsed_ms REAL NOT NULL,
    throttled_ms REAL NOT NULL,        -- time waited on Retry-After before the last attempt
    retries INTEGER NOT NULL,
    client_request_id TEXT,
    next_link TEXT,
    delta_link TEXT,
    error TEXT,                        -- why the request failed (NULL: a page)
    body BLOB,                         -- the response body, encoded as body_encoding says
    body_encoding TEXT                 -- NULL: as received; lz4: LZ4 block, 4-byte LE size first
);
CREATE INDEX requests_session ON requests (session_id, id);

CREATE TABLE items (
    request_id INTEGER NOT NULL REFERENCES requests(id) ON DELETE CASCADE,
    position INTEGER NOT NULL,         -- 0-based on its page
    object_id TEXT,                    -- NULL: the item had no id
    outcome TEXT NOT NULL,             -- added, updated, restored, duplicate, slice, removed, skipped
    removed TEXT,                      -- @removed reason (changed, deleted, ...)
    changed TEXT,                      -- JSON array of the properties an update changed
    start INTEGER NOT NULL,            -- the item's JSON: bytes start .. start+len of the (decoded) body
    len INTEGER NOT NULL,
    PRIMARY KEY (request_id, position)
) WITHOUT ROWID;
-- No index on object_id: rows go in in key order, so recording costs a round almost nothing;
-- one object's history scans the session's items (a million in tens of milliseconds).
"#;
