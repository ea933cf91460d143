//! What the token inspector and the token check show (conclusions, never the token).

/// What the token check before a session's first request found: the token about to be sent,
/// decoded and checked against the query's resource and the Graph root. Only conclusions; the
/// token is not in it. The request is sent whatever it says (the server has the last word).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct TokenCheckView {
    /// The catalog resource checked against.
    pub resource: Option<String>,
    /// What stops the request, in plain sentences (missing permission, expired, wrong cloud).
    pub problems: Vec<String>,
}

/// What the token inspector shows: the decoded claims and the check against the query's
/// resource. Never the token itself.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct TokenView {
    /// `(label, value)` lines: kind (app-only / delegated), tenant, app, audience, issuer,
    /// cloud, roles or scopes, expiry.
    pub lines: Vec<(String, String)>,
    /// The resource the token was checked against (the query's current one).
    pub resource: Option<String>,
    /// What stops the request (missing permission, expired, wrong cloud or audience).
    pub problems: Vec<String>,
    pub notes: Vec<String>,
    /// Nothing to decode: why, in a plain sentence (the demo emulator's token, an opaque
    /// token, or the sign-in failed).
    pub unavailable: Option<String>,
}
