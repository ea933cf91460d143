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
    #[serde(rename = "a")]
    Applications,
    #[serde(rename = "sp")]
    ServicePrincipals,
    #[serde(rename = "v")]
    Devices,
    #[serde(rename = "au")]
    AdministrativeUnits,
    #[serde(rename = "dr")]
    DirectoryRoles,
    #[serde(rename = "og")]
    Oauth2PermissionGrants,
    /// Several directory collections in one feed (`directoryObjects/delta`, see
    /// `routes::objects`).
    #[serde(rename = "do")]
    DirectoryObjects,
    /// The demo drive's items (`/drives/{id}/root/delta` and its aliases).
    #[serde(rename = "di")]
    DriveItems,
    /// The messages of a mail folder.
    #[serde(rename = "ms")]
    Messages,
    /// The events of a calendar view.
    #[serde(rename = "ev")]
    Events,
    /// The demo mailbox's mail folders themselves.
    #[serde(rename = "mf")]
    MailFolders,
    /// The personal (Outlook) contacts of a contact folder.
    #[serde(rename = "pc")]
    PersonalContacts,
    /// The tasks of a To Do list.
    #[serde(rename = "tt")]
    TodoTasks,
}

impl Resource {
    pub fn is_directory(self) -> bool {
        self.coll().is_some() || self == Resource::DirectoryObjects
    }

    /// The directory collection of a directory resource.
    pub fn coll(self) -> Option<crate::emulator::tenant::Coll> {
        use crate::emulator::tenant::Coll;
        match self {
            Resource::Contacts => Some(Coll::Contacts),
            Resource::Users => Some(Coll::Users),
            Resource::Groups => Some(Coll::Groups),
            Resource::Applications => Some(Coll::Applications),
            Resource::ServicePrincipals => Some(Coll::ServicePrincipals),
            Resource::Devices => Some(Coll::Devices),
            Resource::AdministrativeUnits => Some(Coll::AdministrativeUnits),
            Resource::DirectoryRoles => Some(Coll::DirectoryRoles),
            Resource::Oauth2PermissionGrants => Some(Coll::Oauth2PermissionGrants),
            _ => None,
        }
    }

    /// The resources served by their own item sets (drive items, messages, events, mail
    /// folders, personal contacts, To Do tasks): OneDrive, Outlook and To Do keep no directory
    /// change log.
    pub fn is_item_set(self) -> bool {
        matches!(
            self,
            Resource::DriveItems
                | Resource::Messages
                | Resource::Events
                | Resource::MailFolders
                | Resource::PersonalContacts
                | Resource::TodoTasks
        )
    }
}

/// The query options given on the first request of a sequence, frozen in every later token.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Frozen {
    #[serde(rename = "r")]
    pub resource: Resource,
    /// userId of the path (recordings/transcripts).
    #[serde(rename = "u", default, skip_serializing_if = "Option::is_none")]
    pub user: Option<String>,
    /// meetingOrganizerUserId.
    #[serde(rename = "o", default, skip_serializing_if = "Option::is_none")]
    pub organizer: Option<String>,
    /// startDateTime as given.
    #[serde(rename = "s", default, skip_serializing_if = "Option::is_none")]
    pub start: Option<String>,
    /// Selected properties as a bit mask over the schema (None: the default set).
    #[serde(rename = "sel", default, skip_serializing_if = "Option::is_none")]
    pub select: Option<crate::emulator::tenant::Mask>,
    /// The `$filter=id eq` ids.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub ids: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub top: Option<u32>,
    /// The relationship was selected: groups' `members` (tracked as `members@delta`), users'
    /// `manager` (tracked as `manager@delta`).
    #[serde(rename = "m", default, skip_serializing_if = "std::ops::Not::not")]
    pub members: bool,
    /// The first request was a `/beta` one: its property lists (default set, `$select`) are
    /// beta's.
    #[serde(rename = "b", default, skip_serializing_if = "std::ops::Not::not")]
    pub beta: bool,
    /// Item sets: the drive id or mail folder id (canonical, not a well-known name).
    #[serde(rename = "sc", default, skip_serializing_if = "Option::is_none")]
    pub scope: Option<String>,
    /// Calendar views: endDateTime as given (`start` holds startDateTime).
    #[serde(rename = "e", default, skip_serializing_if = "Option::is_none")]
    pub end_time: Option<String>,
    /// Messages: `changeType` (`created`, `updated` or `deleted`).
    #[serde(rename = "ct", default, skip_serializing_if = "Option::is_none")]
    pub change_type: Option<String>,
    /// directoryObjects: the types of `$filter=isof(...)`, bits over `routes::objects::TYPES`
    /// (0: every type).
    #[serde(rename = "ty", default, skip_serializing_if = "is_zero")]
    pub types: u16,
    /// directoryObjects: the `$select` of each type (`microsoft.graph.user/surname`), as
    /// (position in `routes::objects::TYPES`, mask); `select` is `Some` when one was given.
    #[serde(rename = "ts", default, skip_serializing_if = "Vec::is_empty")]
    pub type_sels: Vec<(u8, crate::emulator::tenant::Mask)>,
}

fn is_zero(v: &u16) -> bool {
    *v == 0
}

impl Frozen {
    /// The API version whose property lists apply.
    pub fn api(&self) -> crate::emulator::tenant::Api {
        if self.beta {
            crate::emulator::tenant::Api::Beta
        } else {
            crate::emulator::tenant::Api::V1
        }
    }
}

/// Which kind of link a token was issued for.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Kind {
    /// A page of an initial (full) round: `position` is the snapshot's, `end` the collection
    /// size at the snapshot, `cursor` how far it has paged.
    #[serde(rename = "i")]
    Initial,
    /// A deltaLink: the next round returns the changes after `position`.
    #[serde(rename = "d")]
    DeltaLink,
    /// A page of a delta round over the changes in (`position`, `end`], paged to `cursor`.
    #[serde(rename = "p")]
    DeltaPage,
}

/// What a state token carries. Field names are short on the wire (the token's JSON is in every
/// link), long in the code.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct TokenState {
    /// Emulator instance: a token from another run of the emulator has lost its state.
    #[serde(rename = "i")]
    pub instance: u64,
    /// The query's options, frozen at its first request.
    #[serde(rename = "f")]
    pub query: Frozen,
    #[serde(rename = "k")]
    pub kind: Kind,
    /// The change-log position (a snapshot's, or where a delta round starts).
    #[serde(rename = "p")]
    pub position: u64,
    /// The end of what the round covers: the collection size at the snapshot, or the last
    /// change of a delta round.
    #[serde(rename = "n", default)]
    pub end: u64,
    /// How far the round has paged.
    #[serde(rename = "c", default)]
    pub cursor: u64,
    /// DeltaLink: the `position` of the round before (for the replay fault).
    #[serde(rename = "pf", default, skip_serializing_if = "Option::is_none")]
    pub previous_position: Option<u64>,
    /// Duplicate fault: re-send the items of the previous page starting at this cursor.
    #[serde(rename = "d", default, skip_serializing_if = "Option::is_none")]
    pub duplicate_from: Option<u64>,
    /// Issue time, unix seconds on the emulator clock.
    #[serde(rename = "t")]
    pub issued_at: i64,
    /// Item sets (drive items, messages, events): the index of the last item served, the
    /// second half of the cursor (`cursor` is that item's change position).
    #[serde(rename = "x", default, skip_serializing_if = "Option::is_none")]
    pub after: Option<u64>,
    /// Item sets: a round from a time (`token=2024-01-01T00:00:00Z`), unix seconds: the items
    /// changed since then, whatever their position.
    #[serde(rename = "s", default, skip_serializing_if = "Option::is_none")]
    pub since: Option<i64>,
    /// directoryObjects' full rounds: each type's collection size at the snapshot (`end` of
    /// the others); the cursor is (type << 48 | index).
    #[serde(rename = "ns", default, skip_serializing_if = "Vec::is_empty")]
    pub ends: Vec<u64>,
}

impl TokenState {
    /// Whether the numbers are ones this emulator can have issued, with the change log at `pos`
    /// and the token's collection holding `next` objects (directory resources; a restart link
    /// of recordings carries the contacts' `next`, unused). A token is
    /// checksummed, not secret (the key follows from the seed), and its bounds and cursor drive
    /// the paging loops: a forged `n` far past the collection would have a full round walk
    /// there.
    pub fn fits(&self, pos: u64, next: u64) -> bool {
        let bounds = match (self.kind, self.query.resource) {
            (
                Kind::Initial,
                Resource::Contacts
                | Resource::Users
                | Resource::Applications
                | Resource::ServicePrincipals
                | Resource::Devices
                | Resource::AdministrativeUnits
                | Resource::DirectoryRoles
                | Resource::Oauth2PermissionGrants,
            ) => self.end <= next && self.cursor <= self.end,
            // Item sets: `end` is a log position, the cursor a position within (0, end].
            (
                Kind::Initial,
                Resource::DriveItems
                | Resource::Messages
                | Resource::Events
                | Resource::MailFolders
                | Resource::PersonalContacts
                | Resource::TodoTasks,
            ) => self.end <= pos && self.cursor <= self.end,
            // Checked against every type's size by `routes::objects::fits`.
            (Kind::Initial, Resource::DirectoryObjects) => true,
            // Group rounds count slices of members in `c`.
            (Kind::Initial, Resource::Groups) => self.end <= next,
            // Artifact rounds list the recordings up to `p`; nothing walks to `n`.
            (Kind::Initial, Resource::Recordings | Resource::Transcripts) => true,
            (Kind::DeltaPage, _) => self.position <= self.end && self.end <= pos,
            (Kind::DeltaLink, _) => true,
        };
        bounds
            && self.position <= pos
            && self.previous_position.is_none_or(|pf| pf <= pos)
            && self.duplicate_from.is_none_or(|d| d <= self.cursor)
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
            instance: 9,
            query: Frozen {
                resource: Resource::Contacts,
                user: None,
                organizer: None,
                start: None,
                select: Some(0b101),
                ids: vec![],
                top: Some(5),
                members: false,
                beta: true,
                scope: None,
                end_time: None,
                change_type: None,
                types: 0,
                type_sels: Vec::new(),
            },
            kind: Kind::Initial,
            position: 3,
            end: 100,
            cursor: 7,
            previous_position: None,
            duplicate_from: None,
            issued_at: 1_700_000_000,
            after: None,
            since: None,
            ends: Vec::new(),
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
        assert!(
            !TokenState {
                cursor: 101,
                ..sample()
            }
            .fits(3, 100)
        );
        assert!(
            !TokenState {
                end: u64::MAX,
                ..sample()
            }
            .fits(3, 100)
        );
        assert!(
            !TokenState {
                duplicate_from: Some(8),
                ..sample()
            }
            .fits(3, 100)
        );
        let page = TokenState {
            kind: Kind::DeltaPage,
            position: 3,
            end: 10,
            ..sample()
        };
        assert!(page.fits(10, 0));
        assert!(!page.fits(9, 0));
        assert!(
            !TokenState {
                position: 11,
                ..page
            }
            .fits(20, 0)
        );
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
