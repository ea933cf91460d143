//! What stops a round that goes nowhere. A server (broken, or hostile) can send a nextLink
//! that points to a page already read in this round, two pages that point to each other, or
//! page after page that brings nothing new with a fresh nextLink each time: followed blindly,
//! each is a round without end. [`RoundGuard`] notices both; the round then stops with a
//! [`Stop`] that says why, and keeps the link to continue from.
use std::fmt;
use std::hash::BuildHasher;

use hashbrown::HashSet;

/// Limits of one round, set by the caller (`--max-idle-pages`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RoundLimits {
    /// Pages in a row that bring nothing new (no items, or only items already seen in this
    /// round) before the round stops. Graph may send a few empty pages; hundreds are a loop.
    pub max_idle_pages: usize,
}

/// The default of [`RoundLimits::max_idle_pages`].
pub const DEFAULT_MAX_IDLE_PAGES: usize = 200;

impl Default for RoundLimits {
    fn default() -> Self {
        RoundLimits {
            max_idle_pages: DEFAULT_MAX_IDLE_PAGES,
        }
    }
}

/// Why a round stopped before its deltaLink.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Stop {
    /// The page's nextLink was already followed in this round: the server sends the client in a
    /// circle. The round keeps that link as its way on.
    LinkLoop { link: String },
    /// This many pages in a row brought nothing new. The round keeps the last nextLink.
    Idle { pages: usize },
    /// The page's nextLink or deltaLink cannot be followed (another origin, credentials in the
    /// link, not a URL): the round has no way on; a full resync starts a new one.
    RefusedLink {
        which: &'static str,
        link: String,
        why: String,
    },
}

impl Stop {
    /// Whether the round can go on from where it stopped (a person may decide to).
    pub fn can_go_on(&self) -> bool {
        !matches!(self, Stop::RefusedLink { .. })
    }
}

impl fmt::Display for Stop {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Stop::LinkLoop { link } => write!(
                f,
                "the nextLink {link} was already followed in this round (a link loop): the server sends the client in a circle"
            ),
            Stop::Idle { pages } => write!(
                f,
                "{pages} pages in a row brought nothing new (no items, or only items already seen in this round)"
            ),
            Stop::RefusedLink { which, link, why } => {
                write!(f, "the {which} {link} is not followed: {why}")
            }
        }
    }
}

/// The links followed in the round in progress (as two 64-bit hashes each: 16 bytes a page
/// however long the links are) and the pages in a row that brought nothing new.
#[derive(Clone, Debug, Default)]
pub(crate) struct RoundGuard {
    limits: RoundLimits,
    followed: HashSet<(u64, u64), foldhash::fast::RandomState>,
    idle_pages: usize,
}

/// Two independent fixed-seed hashes: a false "already followed" needs both to collide
/// (about one chance in 10^38 per pair of links).
fn fingerprint(link: &str) -> (u64, u64) {
    let a = foldhash::quality::FixedState::with_seed(0x6465_6c74_6173_636f);
    let b = foldhash::quality::FixedState::with_seed(0x7065_2d6c_696e_6b73);
    (a.hash_one(link), b.hash_one(link))
}

impl RoundGuard {
    pub(crate) fn new(limits: RoundLimits) -> Self {
        RoundGuard {
            limits,
            ..Default::default()
        }
    }

    /// A new round begins: nothing followed yet.
    pub(crate) fn start_round(&mut self) {
        self.followed.clear();
        self.idle_pages = 0;
    }

    /// A person chose to go on after a stop: the pages without anything new count afresh
    /// (a link already followed still stops the round at once).
    pub(crate) fn go_on(&mut self) {
        self.idle_pages = 0;
    }

    /// Records the page fetched from `url`, which brought something new or not, and says
    /// whether following `next_link` would go nowhere.
    pub(crate) fn check(&mut self, url: &str, progressed: bool, next_link: &str) -> Option<Stop> {
        self.followed.insert(fingerprint(url));
        if self.followed.contains(&fingerprint(next_link)) {
            return Some(Stop::LinkLoop {
                link: next_link.to_owned(),
            });
        }
        if progressed {
            self.idle_pages = 0;
            return None;
        }
        self.idle_pages += 1;
        (self.idle_pages >= self.limits.max_idle_pages).then_some(Stop::Idle {
            pages: self.idle_pages,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_link_followed_before_in_the_round_stops_it() {
        let mut g = RoundGuard::default();
        assert_eq!(g.check("a", true, "b"), None);
        assert_eq!(g.check("b", true, "c"), None);
        assert_eq!(
            g.check("c", true, "a"),
            Some(Stop::LinkLoop { link: "a".into() })
        );
        // A self-loop is caught on its first page.
        g.start_round();
        assert!(matches!(
            g.check("x", true, "x"),
            Some(Stop::LinkLoop { .. })
        ));
    }

    #[test]
    fn pages_that_bring_nothing_new_stop_the_round_at_the_limit() {
        let mut g = RoundGuard::new(RoundLimits { max_idle_pages: 3 });
        assert_eq!(g.check("1", false, "2"), None);
        assert_eq!(g.check("2", false, "3"), None);
        // Something new resets the count.
        assert_eq!(g.check("3", true, "4"), None);
        assert_eq!(g.check("4", false, "5"), None);
        assert_eq!(g.check("5", false, "6"), None);
        assert_eq!(g.check("6", false, "7"), Some(Stop::Idle { pages: 3 }));
        g.go_on();
        assert_eq!(g.check("7", false, "8"), None);
    }
}
