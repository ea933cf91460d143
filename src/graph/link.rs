//! nextLink/deltaLink handling. Links are opaque: they are classified and checked here, never
//! rebuilt. Token spellings seen in Graph: `$skiptoken`, `$deltatoken` (directory objects),
//! `skipToken`/`deltaToken` without `$` (callRecording uses `skipToken=` in both links), and
//! `token` (driveItem). Matching is case-insensitive.
use serde::{Deserialize, Serialize};

use super::query::GraphRoot;

/// What the state token's parameter name says about the link.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum TokenKind {
    /// `$skiptoken` / `skipToken`: a page of the current round (but see [`LinkInfo::ambiguous`]).
    Skip,
    /// `$deltatoken` / `deltaToken`: the start of a later round.
    Delta,
    /// `token`: driveItem's spelling, for both.
    Token,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct LinkInfo {
    pub kind: TokenKind,
    /// The parameter name exactly as spelled in the link (`$skiptoken`, `skipToken`, …).
    pub param: String,
    /// Whether the name starts with `$`.
    pub dollar: bool,
    /// The token as it appears in the link (not decoded).
    pub token: String,
    /// `$deltatoken=latest` or `token=latest`: "sync from now", not a real state token.
    pub latest: bool,
}

impl LinkInfo {
    /// driveItem's timestamp token (`token=2021-09-29T20%3A00%3A00Z`): changes since then.
    pub fn is_timestamp(&self) -> bool {
        self.kind == TokenKind::Token
            && chrono::DateTime::parse_from_rfc3339(
                &percent_encoding::percent_decode_str(&self.token).decode_utf8_lossy(),
            )
            .is_ok()
    }

    /// The spelling alone does not tell a nextLink from a deltaLink: `skipToken` without `$`
    /// (callRecording uses it in both) and `token`.
    pub fn ambiguous(&self) -> bool {
        matches!(self.kind, TokenKind::Token) || (self.kind == TokenKind::Skip && !self.dollar)
    }
}

#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum LinkError {
    #[error("the link has no query string, so no state token")]
    NoQuery,
    #[error(
        "the link has no state token ($skiptoken, $deltatoken, skipToken, deltaToken or token)"
    )]
    NoToken,
    #[error("the link has more than one state token ({0})")]
    SeveralTokens(String),
    #[error("the state token ({0}) is empty")]
    EmptyToken(String),
}

fn kind_of(name: &str) -> Option<(TokenKind, bool)> {
    let (dollar, bare) = match name.strip_prefix('$') {
        Some(b) => (true, b),
        None => (false, name),
    };
    let kind = if bare.eq_ignore_ascii_case("skiptoken") {
        TokenKind::Skip
    } else if bare.eq_ignore_ascii_case("deltatoken") {
        TokenKind::Delta
    } else if bare.eq_ignore_ascii_case("token") {
        TokenKind::Token
    } else {
        return None;
    };
    Some((kind, dollar))
}

/// Finds the state token in a link. The part after `#` is ignored.
///
/// driveItem's links also pass the token as the function's parameter, as its docs show them:
/// `…/delta(token='abc')`, `…/delta?(token='abc')`; those are read too.
pub fn classify(link: &str) -> Result<LinkInfo, LinkError> {
    let without_fragment = link.split('#').next().unwrap_or(link);
    let (path, query) = match without_fragment.split_once('?') {
        Some((p, q)) => (p, Some(q)),
        None => (without_fragment, None),
    };
    // `delta(token=…)` in the path: the parameter list as one more pair.
    let in_path = path
        .rsplit('/')
        .next()
        .and_then(|last| last.split_once('('))
        .map(|(_, params)| params);
    if query.is_none() && in_path.is_none() {
        return Err(LinkError::NoQuery);
    }
    let mut found: Option<LinkInfo> = None;
    let pairs = query.into_iter().flat_map(|q| q.split('&')).chain(in_path);
    for pair in pairs {
        let (name, value) = pair.split_once('=').unwrap_or((pair, ""));
        // `(token='abc')`: the function-parameter spelling.
        let (name, value) = match name.strip_prefix('(') {
            Some(n) => (n, value.strip_suffix(')').unwrap_or(value)),
            None if in_path == Some(pair) => (name, value.strip_suffix(')').unwrap_or(value)),
            None => (name, value),
        };
        let value = value
            .strip_prefix('\'')
            .and_then(|v| v.strip_suffix('\''))
            .unwrap_or(value);
        // `%24` is `$` percent-encoded: some proxies do that.
        let name_decoded;
        let name = if let Some(rest) = name.strip_prefix("%24") {
            name_decoded = format!("${rest}");
            name_decoded.as_str()
        } else {
            name
        };
        let Some((kind, dollar)) = kind_of(name) else {
            continue;
        };
        if let Some(prev) = &found {
            return Err(LinkError::SeveralTokens(format!(
                "{} and {name}",
                prev.param
            )));
        }
        if value.is_empty() {
            return Err(LinkError::EmptyToken(name.to_owned()));
        }
        found = Some(LinkInfo {
            kind,
            param: name.to_owned(),
            dollar,
            token: value.to_owned(),
            latest: kind != TokenKind::Skip && value.eq_ignore_ascii_case("latest"),
        });
    }
    found.ok_or(LinkError::NoToken)
}

/// The bare state token of a link, if it has exactly one.
pub fn token(link: &str) -> Option<String> {
    classify(link).ok().map(|i| i.token)
}

/// Whether the link is on the Graph root's origin. A link that does not parse is not.
pub fn same_origin(link: &str, root: &GraphRoot) -> bool {
    url::Url::parse(link).is_ok_and(|u| root.same_origin(&u))
}

/// Why a link is not followed. The access token goes with every request, so a link is followed
/// only when it stays on the origin it came from and carries nothing else that the HTTP stack
/// would send (a user name and password become a `Basic` credential beside the bearer token).
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum Refusal {
    #[error("it is not a URL ({0})")]
    NotUrl(String),
    #[error("it points to another origin ({0}), and the access token would go there")]
    Foreign(String),
    #[error(
        "it carries a user name or password before the host, which would be sent as credentials beside the access token"
    )]
    Userinfo,
    #[error("a link with a #fragment is not a Graph link")]
    Fragment,
}

/// Checks that `link` may be followed with the access token: a URL, on an origin that
/// `on_origin` accepts, without userinfo or a fragment. The one rule the client (before it
/// sends) and the round (before it saves a link as the way on) both apply.
pub fn followable(link: &str, on_origin: impl Fn(&url::Url) -> bool) -> Result<url::Url, Refusal> {
    let url = url::Url::parse(link).map_err(|e| Refusal::NotUrl(e.to_string()))?;
    if !on_origin(&url) {
        return Err(Refusal::Foreign(url.origin().ascii_serialization()));
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err(Refusal::Userinfo);
    }
    if url.fragment().is_some() {
        return Err(Refusal::Fragment);
    }
    Ok(url)
}

/// The text the HTTP stack will put on the wire for `link`: the URL standard percent-encodes
/// characters that are not allowed in a URI (for example `{` and `}` in a path). Equal to
/// `link` for every link Graph really returns; the seed's placeholder links with braces differ.
pub fn wire_form(link: &str) -> Option<String> {
    url::Url::parse(link).ok().map(|u| u.as_str().to_owned())
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn spellings() {
        let i = classify("https://g/v1.0/contacts/delta?$skiptoken=abc")
            .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(
            (i.kind, i.dollar, i.token.as_str()),
            (TokenKind::Skip, true, "abc")
        );
        let i =
            classify("https://g/x/delta?skipToken={deltaToken1}").unwrap_or_else(|e| panic!("{e}"));
        assert!(i.ambiguous());
        assert_eq!(i.token, "{deltaToken1}");
        // driveItem, as its docs write the links.
        for (link, token) in [
            ("https://g/v1.0/me/drive/root/delta?token=abc", "abc"),
            (
                "https://g/v1.0/me/drive/delta(token=1230919asd190410jlka)",
                "1230919asd190410jlka",
            ),
            (
                "https://g/v1.0/me/drive/root/delta?(token='MzslMjM0')",
                "MzslMjM0",
            ),
            ("https://g/v1.0/me/drive/root/delta(token='Mzsl')", "Mzsl"),
        ] {
            let i = classify(link).unwrap_or_else(|e| panic!("{link}: {e}"));
            assert_eq!(
                (i.kind, i.token.as_str()),
                (TokenKind::Token, token),
                "{link}"
            );
        }
        assert!(
            classify("https://g/v1.0/me/drive/root/delta?token=latest").is_ok_and(|i| i.latest)
        );
        assert!(
            classify("https://g/v1.0/contacts/delta?$deltatoken=latest").is_ok_and(|i| i.latest)
        );
        assert_eq!(
            classify("https://g/v1.0/me/drive/root/delta()"),
            Err(LinkError::NoToken)
        );
        assert_eq!(
            classify("https://g/v1.0/users/delta"),
            Err(LinkError::NoQuery)
        );
    }

    #[test]
    fn a_link_is_followed_only_on_its_origin_without_userinfo_or_fragment() {
        let root =
            GraphRoot::parse("https://graph.microsoft.com").unwrap_or_else(|e| panic!("{e}"));
        let on_root = |u: &url::Url| root.same_origin(u);
        assert!(
            followable(
                "https://graph.microsoft.com/v1.0/x/delta?$skiptoken=a",
                on_root
            )
            .is_ok()
        );
        for (link, refusal) in [
            (
                "https://graph.microsoft.com.evil.example/v1.0/x",
                "another origin",
            ),
            (
                "https://evil:pw@graph.microsoft.com/v1.0/x?$skiptoken=a",
                "user name or password",
            ),
            (
                "https://evil@graph.microsoft.com/v1.0/x?$skiptoken=a",
                "user name or password",
            ),
            (
                "https://:pw@graph.microsoft.com/v1.0/x?$skiptoken=a",
                "user name or password",
            ),
            (
                "https://graph.microsoft.com/v1.0/x?$skiptoken=a#b",
                "#fragment",
            ),
            ("/v1.0/x?$skiptoken=a", "not a URL"),
        ] {
            let said = followable(link, on_root)
                .map(|_| ())
                .unwrap_err()
                .to_string();
            assert!(said.contains(refusal), "{link}: {said}");
        }
    }
}
