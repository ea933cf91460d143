//! Text that copy actions and panes derive from requests: state tokens, curl commands, sizes.

/// The bare state token of a link: the value of `$skiptoken`, `$deltatoken`, `skipToken`,
/// `deltaToken` or `token` (names matched case-insensitively), as it appears in the link.
pub fn state_token(link: &str) -> Option<&str> {
    let query = link.split_once('?')?.1;
    let query = query.split('#').next().unwrap_or(query);
    query.split('&').find_map(|pair| {
        let (name, value) = pair.split_once('=')?;
        let name = name.trim_start_matches('$').to_ascii_lowercase();
        matches!(name.as_str(), "skiptoken" | "deltatoken" | "token").then_some(value)
    })
}

/// A shell-quoted curl command for a request; the token is the shell variable `$TOKEN`
/// (double-quoted so that the shell expands it).
pub fn curl_command(url: &str, headers: &[(String, String)]) -> String {
    curl_command_inner(url, headers, "\"Authorization: Bearer $TOKEN\"".to_owned())
}

/// A shell-quoted curl command for a request, with `token` as the bearer token.
pub fn curl_command_with_token(url: &str, headers: &[(String, String)], token: &str) -> String {
    curl_command_inner(
        url,
        headers,
        shell_quote(&format!("Authorization: Bearer {token}")),
    )
}

pub(super) fn shell_quote(s: &str) -> String {
    format!("'{}'", s.replace('\'', "'\\''"))
}

pub(super) fn curl_command_inner(url: &str, headers: &[(String, String)], auth: String) -> String {
    let q = shell_quote;
    let mut out = String::from("curl -sS");
    out.push_str(" -H ");
    out.push_str(&auth);
    for (n, v) in headers {
        if n.eq_ignore_ascii_case("authorization") || n.eq_ignore_ascii_case("client-request-id") {
            continue;
        }
        out.push_str(" -H ");
        out.push_str(&q(&format!("{n}: {v}")));
    }
    out.push(' ');
    out.push_str(&q(url));
    out
}

pub fn human_bytes(n: usize) -> String {
    human_bytes_u64(u64::try_from(n).unwrap_or(u64::MAX))
}

pub fn human_bytes_u64(n: u64) -> String {
    if n < 1024 {
        format!("{n} B")
    } else if n < 1024 * 1024 {
        format!("{:.1} KB", n as f64 / 1024.0)
    } else {
        format!("{:.1} MB", n as f64 / (1024.0 * 1024.0))
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn bare_token_handles_every_spelling() {
        assert_eq!(
            state_token("https://g/v1.0/contacts/delta?$skiptoken=abc"),
            Some("abc")
        );
        assert_eq!(
            state_token("https://g/v1.0/contacts/delta?$deltaToken=x1&$select=a"),
            Some("x1")
        );
        assert_eq!(
            state_token("https://g/v1.0/users({u})/x/delta?skipToken=s2"),
            Some("s2")
        );
        assert_eq!(
            state_token("https://g/drives/1/root/delta?token=t"),
            Some("t")
        );
        assert_eq!(state_token("https://g/v1.0/contacts/delta"), None);
    }

    #[test]
    fn curl_uses_a_placeholder_and_quotes() {
        let c = curl_command(
            "https://g/v1.0/contacts/delta?$select=a's",
            &[
                ("Authorization".into(), "Bearer secret".into()),
                ("Prefer".into(), "return=minimal".into()),
            ],
        );
        assert!(!c.contains("secret"));
        assert!(c.contains(" -H \"Authorization: Bearer $TOKEN\" "), "{c}");
        let t = curl_command_with_token("https://g/x", &[], "eyJ0");
        assert!(t.contains(" -H 'Authorization: Bearer eyJ0' "), "{t}");
        assert!(c.contains("'Prefer: return=minimal'"));
        assert!(c.ends_with("'https://g/v1.0/contacts/delta?$select=a'\\''s'"));
    }
}
