//! Opaque state tokens: base64url of a compact JSON payload followed by an 8-byte keyed
//! checksum. The emulator's own encoding; nothing here is shared with the client.
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::{Deserialize, Serialize};

use super::tenant::mix;

/// The resource a token belongs to.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Resource {
    #[serde(rename = "c")]
    Contacts,
    #[serde(rename = "u")]
    Users,
    #[serde(rename = "r")]
    Recordings,
    #[serde(rename = "t")]
    Transcripts,
    #[serde(rename = "g")]
    Groups,
}

impl Resource {
    pub fn is_directory(self) -> bool {
        matches!(
            self,
            Resource::Contacts | Resource::Users | Resource::Groups
        )
    }
}

/// The query options given on the first request of a sequence, frozen in every later token.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Frozen {
    pub r: Resource,
    /// userId of the path (recordings/transcripts).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub u: Option<String>,
    /// meetingOrganizerUserId.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub o: Option<String>,
    /// startDateTime as given.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub s: Option<String>,
    /// Selected properties as a bit mask over the schema (None: the default set).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sel: Option<u32>,
    /// The `$filter=id eq` ids.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub ids: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub top: Option<u32>,
    /// Groups: `members` was selected (membership is tracked as `members@delta`).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub m: bool,
}

/// Which kind of link a token was issued for.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Kind {
    /// A page of an initial (full) round: `p` is the snapshot position, `n` the collection
    /// size at the snapshot, `c` the cursor.
    #[serde(rename = "i")]
    Initial,
    /// A deltaLink: the next round returns the changes after position `p`.
    #[serde(rename = "d")]
    DeltaLink,
    /// A page of a delta round over the changes in (`p`, `n`], cursor `c`.
    #[serde(rename = "p")]
    DeltaPage,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct TokenState {
    /// Emulator instance: a token from another run of the emulator has lost its state.
    pub i: u64,
    pub f: Frozen,
    pub k: Kind,
    pub p: u64,
    #[serde(default)]
    pub n: u64,
    #[serde(default)]
    pub c: u64,
    /// DeltaLink: the `p` of the round before (for the replay fault).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pf: Option<u64>,
    /// Duplicate fault: re-send the items of the previous page starting at this cursor.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub d: Option<u64>,
    /// Issue time, unix seconds on the emulator clock.
    pub t: i64,
}

impl TokenState {
    /// Whether the numbers are ones this emulator can have issued, with the change log at `pos`
    /// and the token's collection holding `next` objects (directory resources; a restart link
    /// of recordings carries the contacts' `next`, unused). A token is
    /// checksummed, not secret (the key follows from the seed), and its bounds and cursor drive
    /// the paging loops: a forged `n` far past the collection would have a full round walk
    /// there.
    pub fn fits(&self, pos: u64, next: u64) -> bool {
        let bounds = match (self.k, self.f.r) {
            (Kind::Initial, Resource::Contacts | Resource::Users) => {
                self.n <= next && self.c <= self.n
            }
            // Group rounds count slices of members in `c`.
            (Kind::Initial, Resource::Groups) => self.n <= next,
            // Artifact rounds list the recordings up to `p`; nothing walks to `n`.
            (Kind::Initial, Resource::Recordings | Resource::Transcripts) => true,
            (Kind::DeltaPage, _) => self.p <= self.n && self.n <= pos,
            (Kind::DeltaLink, _) => true,
        };
        bounds
            && self.p <= pos
            && self.pf.is_none_or(|pf| pf <= pos)
            && self.d.is_none_or(|d| d <= self.c)
    }
}

#[derive(Debug, PartialEq)]
pub enum TokenError {
    /// Not a token this emulator issued (tampered, truncated, garbage).
    Malformed,
}

fn checksum(key: u64, data: &[u8]) -> u64 {
    let mut h = mix(key ^ data.len() as u64);
    for chunk in data.chunks(8) {
        let mut w = [0u8; 8];
        w[..chunk.len()].copy_from_slice(chunk);
        h = mix(h ^ u64::from_le_bytes(w));
    }
    mix(h ^ key.rotate_left(17))
}

/// XORs the payload with a key stream, so that tokens do not read as JSON (they are opaque).
fn veil(key: u64, bytes: &mut [u8]) {
    for (i, chunk) in bytes.chunks_mut(8).enumerate() {
        let ks = mix(key ^ 0x7E11 ^ (i as u64)).to_le_bytes();
        for (b, k) in chunk.iter_mut().zip(ks) {
            *b ^= k;
        }
    }
}

pub fn encode(key: u64, state: &TokenState) -> String {
    let mut bytes = serde_json::to_vec(state).unwrap_or_default();
    let sum = checksum(key, &bytes);
    veil(key, &mut bytes);
    bytes.extend_from_slice(&sum.to_le_bytes());
    URL_SAFE_NO_PAD.encode(bytes)
}

pub fn decode(key: u64, token: &str) -> Result<TokenState, TokenError> {
    let token = token.trim().trim_end_matches('=');
    let bytes = URL_SAFE_NO_PAD
        .decode(token)
        .map_err(|_| TokenError::Malformed)?;
    if bytes.len() < 9 {
        return Err(TokenError::Malformed);
    }
    let (payload, sum) = bytes.split_at(bytes.len() - 8);
    let mut payload = payload.to_vec();
    veil(key, &mut payload);
    let mut s = [0u8; 8];
    s.copy_from_slice(sum);
    if u64::from_le_bytes(s) != checksum(key, &payload) {
        return Err(TokenError::Malformed);
    }
    serde_json::from_slice(&payload).map_err(|_| TokenError::Malformed)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn sample() -> TokenState {
        TokenState {
            i: 9,
            f: Frozen {
                r: Resource::Contacts,
                u: None,
                o: None,
                s: None,
                sel: Some(0b101),
                ids: vec![],
                top: Some(5),
                m: false,
            },
            k: Kind::Initial,
            p: 3,
            n: 100,
            c: 7,
            pf: None,
            d: None,
            t: 1_700_000_000,
        }
    }

    #[test]
    fn round_trip() {
        let t = encode(1, &sample());
        assert!(
            t.bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        );
        assert_eq!(decode(1, &t), Ok(sample()));
        assert_eq!(decode(2, &t), Err(TokenError::Malformed));
    }

    #[test]
    fn only_numbers_the_emulator_can_have_issued_fit() {
        let t = sample();
        assert!(t.fits(3, 100));
        assert!(!t.fits(2, 100), "a position past the log");
        assert!(!t.fits(3, 99), "a round past the collection");
        assert!(!TokenState { c: 101, ..sample() }.fits(3, 100));
        assert!(
            !TokenState {
                n: u64::MAX,
                ..sample()
            }
            .fits(3, 100)
        );
        assert!(
            !TokenState {
                d: Some(8),
                ..sample()
            }
            .fits(3, 100)
        );
        let page = TokenState {
            k: Kind::DeltaPage,
            p: 3,
            n: 10,
            ..sample()
        };
        assert!(page.fits(10, 0));
        assert!(!page.fits(9, 0));
        assert!(!TokenState { p: 11, ..page }.fits(20, 0));
    }

    #[test]
    fn tampering_is_detected() {
        let t = encode(1, &sample());
        let mut chars: Vec<char> = t.chars().collect();
        for i in [0, chars.len() / 2, chars.len() - 1] {
            let orig = chars[i];
            chars[i] = if orig == 'A' { 'B' } else { 'A' };
            let s: String = chars.iter().collect();
            assert_eq!(decode(1, &s), Err(TokenError::Malformed), "pos {i}");
            chars[i] = orig;
        }
        assert_eq!(decode(1, "garbage!"), Err(TokenError::Malformed));
        assert_eq!(decode(1, ""), Err(TokenError::Malformed));
    }
}
