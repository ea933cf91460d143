//! Typed errors of the engine. Each carries what a support case asks for (status, Graph
//! `error.code`, request-id, client-request-id) and [`GraphError::hint`] says what to do next.
//! No variant ever holds a bearer token.
use std::time::Duration;

#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum GraphError {
    /// Graph answered with a non-success status (after any retries).
    #[error("{}", describe_http(*status, code.as_deref(), message, request_id.as_deref(), *retries, location.as_deref()))]
    Http {
        status: u16,
        /// `error.code` from the body (decide on this, never on the message).
        code: Option<String>,
        message: String,
        request_id: Option<String>,
        client_request_id: Option<String>,
        retry_after: Option<Duration>,
        /// Set when the client gave up rather than wait as long as `retry_after` asked: the
        /// longest wait it accepts.
        longest_wait: Option<Duration>,
        /// The `Location` header (410 Gone: where a full resync starts).
        location: Option<String>,
        www_authenticate: Option<String>,
        /// How many times the request was retried before giving up.
        retries: u32,
        url: String,
        /// The body as received (cut to a few KB), for display.
        body: String,
    },
    /// The link points to another origin than the Graph root: not followed, nothing sent.
    #[error(
        "refused to follow a link to {url}: it is not on the Graph root {root}, and following it would send the access token there"
    )]
    ForeignLink { url: String, root: String },
    /// The link cannot be used as a URL at all.
    #[error("cannot use the link {url}: {reason}")]
    BadLink { url: String, reason: String },
    /// A 2xx response whose body is not a delta page.
    #[error("the response from {url} is not a valid delta page: {message}")]
    Malformed {
        url: String,
        message: String,
        /// The first bytes of the body, for display.
        body_prefix: String,
    },
    /// The body passed the client's limit ([`super::ClientConfig::max_body_bytes`]): refused
    /// as soon as it did, so it never took more memory than the limit.
    #[error("{}", describe_too_large(url, *limit, *declared))]
    TooLarge {
        url: String,
        limit: u64,
        /// What the response's `Content-Length` declared, when it did.
        declared: Option<u64>,
    },
    #[error("network error: {0}")]
    Network(String),
    /// The server's TLS certificate was not accepted (unknown issuer, wrong name, expired...):
    /// nothing was sent. Not retried: the same certificate would come back.
    #[error("the TLS certificate of the server at {url} is not trusted: {reason}")]
    Untrusted { url: String, reason: String },
    #[error("no complete response from {url} within the timeout")]
    Timeout { url: String },
    #[error("cancelled")]
    Cancelled,
    #[error("authentication failed: {0}")]
    Auth(String),
    #[error("invalid request: {0}")]
    InvalidRequest(String),
}

fn mib(bytes: u64) -> String {
    format!("{:.1} MiB", bytes as f64 / (1024.0 * 1024.0))
}

fn describe_too_large(url: &str, limit: u64, declared: Option<u64>) -> String {
    let size = match declared {
        Some(d) => format!("declares {d} bytes ({})", mib(d)),
        None => "went on past that".to_owned(),
    };
    format!(
        "the response from {url} is larger than the limit of {limit} bytes ({}): its body {size}, so it was refused before it took the memory",
        mib(limit)
    )
}

fn describe_http(
    status: u16,
    code: Option<&str>,
    message: &str,
    request_id: Option<&str>,
    retries: u32,
    location: Option<&str>,
) -> String {
    let mut s = format!("HTTP {status}");
    if let Some(reason) = http_reason(status) {
        s.push(' ');
        s.push_str(reason);
    }
    if (300..400).contains(&status) {
        match location {
            Some(to) => s.push_str(&format!(
                ", a redirect to {to}, which deltascope does not follow (the access token would go along)"
            )),
            None => s.push_str(
                ", a redirect without a Location, which deltascope does not follow in any case",
            ),
        }
    }
    if let Some(code) = code {
        s.push_str(&format!(" [{code}]"));
    }
    if !message.is_empty() {
        s.push_str(": ");
        s.push_str(message);
    }
    if let Some(rid) = request_id {
        s.push_str(&format!(" (request-id {rid})"));
    }
    if retries > 0 {
        s.push_str(&format!(
            " after {retries} {}",
            if retries == 1 { "retry" } else { "retries" }
        ));
    }
    s
}

/// The reason phrase of an HTTP status (the common ones), for people.
pub(crate) fn http_reason(status: u16) -> Option<&'static str> {
    Some(match status {
        301 => "Moved Permanently",
        302 => "Found",
        303 => "See Other",
        307 => "Temporary Redirect",
        308 => "Permanent Redirect",
        400 => "Bad Request",
        401 => "Unauthorized",
        403 => "Forbidden",
        404 => "Not Found",
        405 => "Method Not Allowed",
        409 => "Conflict",
        410 => "Gone",
        429 => "Too Many Requests",
        500 => "Internal Server Error",
        502 => "Bad Gateway",
        503 => "Service Unavailable",
        504 => "Gateway Timeout",
        _ => return None,
    })
}

/// A server's wait as said to a person: "999999 s (11.6 days)".
pub fn describe_wait(d: Duration) -> String {
    let secs = d.as_secs_f64();
    let long = if secs >= 2.0 * 86_400.0 {
        format!(" ({:.1} days)", secs / 86_400.0)
    } else if secs >= 2.0 * 3_600.0 {
        format!(" ({:.1} hours)", secs / 3_600.0)
    } else if secs >= 600.0 {
        format!(" ({:.1} minutes)", secs / 60.0)
    } else {
        String::new()
    };
    if secs.fract() == 0.0 || secs >= 100.0 {
        format!("{secs:.0} s{long}")
    } else {
        format!("{secs:.1} s{long}")
    }
}

fn code_is(code: Option<&str>, wanted: &str) -> bool {
    code.is_some_and(|c| c.eq_ignore_ascii_case(wanted))
}

impl GraphError {
    /// What to do about this error, in one or two sentences.
    pub fn hint(&self) -> Option<String> {
        match self {
            GraphError::Http {
                status,
                code,
                message,
                location,
                url,
                retries,
                retry_after,
                longest_wait,
                ..
            } => {
                let code = code.as_deref();
                if *status == 410 {
                    return Some(match location {
                        Some(loc) => format!(
                            "the sync state was reset by the server: start a full resync from the Location URL ({loc}); the replica will be rebuilt"
                        ),
                        None => "the sync state was reset by the server: start a full resync (a new initial round)".into(),
                    });
                }
                if code_is(code, "syncStateNotFound")
                    || code_is(code, "resyncRequired")
                    || code_is(code, "resyncChangesApplyDifferences")
                {
                    return Some(
                        "the delta token has expired (directory tokens live about 7 days) or the sync state is gone: start a full resync (a new initial round)"
                            .into(),
                    );
                }
                if *status == 400 && message.to_ascii_lowercase().contains("badly formed token") {
                    return Some(
                        "the state token in the link was altered (re-encoded, cut, or rebuilt): links must be followed exactly as returned; start a full resync"
                            .into(),
                    );
                }
                if *status == 401 {
                    return Some(
                        "the access token is missing, expired or not valid for this Graph root (tokens do not cross clouds): get a new token".into(),
                    );
                }
                if *status == 403 {
                    if url.contains("getAllRecordings") {
                        return Some(
                            "callRecording delta needs the application permission OnlineMeetingRecording.Read.All (app-only; delegated is not supported), granted with admin consent, and an application access policy that covers the meeting organizer".into(),
                        );
                    }
                    if url.contains("getAllTranscripts") {
                        return Some(
                            "callTranscript delta needs the application permission OnlineMeetingTranscript.Read.All (app-only; delegated is not supported), granted with admin consent, and an application access policy that covers the meeting organizer".into(),
                        );
                    }
                    return Some(
                        "the token lacks the permission this resource needs (see the resource's permissions in the catalog, e.g. OrgContact.Read.All for contacts)".into(),
                    );
                }
                if (300..400).contains(status) {
                    return Some(
                        "Graph does not redirect delta requests: check the Graph root (a national cloud?) and any proxy between here and Graph".into(),
                    );
                }
                if let (Some(asked), Some(longest)) = (retry_after, longest_wait) {
                    return Some(format!(
                        "the server asked to wait {} before retrying, longer than the {} deltascope waits at most: continue from the same link later (it stays valid)",
                        describe_wait(*asked),
                        describe_wait(*longest)
                    ));
                }
                if *status == 429 || *status == 503 {
                    let wait = retry_after
                        .map(|d| format!(" (the server asked for {})", describe_wait(d)))
                        .unwrap_or_default();
                    return Some(format!(
                        "still throttled after {retries} retries{wait}: wait and continue from the same link later, or lower the request rate"
                    ));
                }
                if *status == 400 && url.contains("$filter") {
                    return Some(
                        "delta $filter supports only `id eq '…'` joined with `or`, at most 50 ids".into(),
                    );
                }
                None
            }
            GraphError::ForeignLink { root, .. } => Some(format!(
                "the server returned a link to another host; deltascope only follows links on {root}. Check the Graph root (national cloud?) or a proxy rewriting links"
            )),
            GraphError::BadLink { .. } => {
                Some("use the nextLink/deltaLink exactly as Graph returned it".into())
            }
            GraphError::Malformed { .. } => Some(
                "the body is not a Graph delta page (a proxy, a captive portal or a cut connection?): retry the same link".into(),
            ),
            GraphError::TooLarge { .. } => Some(
                "no Graph page is that large: check the Graph root and any proxy; if the page is real, raise the limit (--max-body-mib)".into(),
            ),
            GraphError::Timeout { .. } => {
                Some("retry the same link (it stays valid), or raise the timeout".into())
            }
            GraphError::Network(_) => {
                Some("check the network and the Graph root, then retry the same link".into())
            }
            GraphError::Untrusted { .. } => Some(crate::trust::UNTRUSTED_HINT.into()),
            GraphError::Auth(_) => Some("provide a valid access token".into()),
            GraphError::Cancelled | GraphError::InvalidRequest(_) => None,
        }
    }

    /// True when the only way on is a new full round (expired or reset sync state, tampered token).
    pub fn needs_resync(&self) -> bool {
        match self {
            GraphError::Http {
                status,
                code,
                message,
                ..
            } => {
                let code = code.as_deref();
                *status == 410
                    || code_is(code, "syncStateNotFound")
                    || code_is(code, "resyncRequired")
                    || code_is(code, "resyncChangesApplyDifferences")
                    || (*status == 400
                        && message.to_ascii_lowercase().contains("badly formed token"))
            }
            _ => false,
        }
    }

    /// For a 410 Gone: the URL to restart the full round from.
    pub fn resync_location(&self) -> Option<&str> {
        match self {
            GraphError::Http {
                status: 410,
                location,
                ..
            } => location.as_deref(),
            _ => None,
        }
    }

    /// The HTTP status, when Graph answered.
    pub fn status(&self) -> Option<u16> {
        match self {
            GraphError::Http { status, .. } => Some(*status),
            _ => None,
        }
    }

    /// The Graph `error.code`, when there was one.
    pub fn code(&self) -> Option<&str> {
        match self {
            GraphError::Http { code, .. } => code.as_deref(),
            _ => None,
        }
    }
}
