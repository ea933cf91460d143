//! The sign-in state machine's data, device codes and the profile picker.
use std::time::Instant;

/// Which sign-in to run: the one the explorer was started with (command line, environment), or
/// a profile of the config file.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub enum SignInTarget {
    #[default]
    Startup,
    Profile(String),
}

impl std::fmt::Display for SignInTarget {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            SignInTarget::Startup => f.write_str("the start-up sign-in"),
            SignInTarget::Profile(name) => write!(f, "profile {name}"),
        }
    }
}

/// A device code to show: open `url` and enter `code` before `expires_at`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DeviceCodeView {
    pub code: String,
    pub url: String,
    /// The sign-in service's own sentence.
    pub message: String,
    pub expires_at: Instant,
}

/// A sign-in in force: whose tokens, and the attempt and target that made it (attempt 0: one
/// that never asks the person, such as a token given at start). A renewal's device code is
/// matched against the attempt.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct SignedIn {
    /// Whose tokens (`AuthPlan::describe`; empty when not known).
    pub who: String,
    pub attempt: u64,
    pub target: SignInTarget,
}

impl SignedIn {
    /// The start-up sign-in, in force from the start (it needed no step).
    pub fn at_start(who: impl Into<String>) -> Self {
        SignedIn {
            who: who.into(),
            attempt: 0,
            target: SignInTarget::Startup,
        }
    }
}

/// The sign-in state machine, one state at a time: everything the model knows about signing in
/// is here. `previous` is the sign-in still in force while another one runs or after one failed.
#[derive(Clone, Debug, PartialEq)]
pub enum SignInState {
    /// No sign-in yet, and none asked for.
    SignedOut,
    /// No sign-in yet: the runtime starts `target`'s as it starts (`Msg::Started`).
    Starting { target: SignInTarget },
    /// Tokens are there.
    Active(SignedIn),
    /// A sign-in runs in the background; `prompt` once the service handed out a device code.
    /// `renewal`: the sign-in in force needs the person again (its refresh token was refused,
    /// e.g. by a sign-in frequency policy) while a request waits for the token.
    /// `fetch_after`: a fetch asked for meanwhile (`Some(follow)`), sent once signed in.
    Running {
        attempt: u64,
        target: SignInTarget,
        since: Instant,
        prompt: Option<DeviceCodeView>,
        previous: Option<SignedIn>,
        renewal: bool,
        fetch_after: Option<bool>,
    },
    /// The last sign-in (`attempt`) failed or was cancelled.
    Failed {
        attempt: u64,
        target: SignInTarget,
        error: String,
        previous: Option<SignedIn>,
    },
}

impl Default for SignInState {
    fn default() -> Self {
        SignInState::Active(SignedIn::default())
    }
}

impl SignInState {
    /// The sign-in in force, if any: requests can be sent with it.
    pub fn in_force(&self) -> Option<&SignedIn> {
        match self {
            SignInState::SignedOut | SignInState::Starting { .. } => None,
            SignInState::Active(s) => Some(s),
            SignInState::Running { previous, .. } | SignInState::Failed { previous, .. } => {
                previous.as_ref()
            }
        }
    }

    /// The newest attempt the model knows of; the next one is numbered after it.
    pub fn last_attempt(&self) -> u64 {
        match self {
            SignInState::SignedOut | SignInState::Starting { .. } => 0,
            SignInState::Active(s) => s.attempt,
            SignInState::Running { attempt, .. } | SignInState::Failed { attempt, .. } => *attempt,
        }
    }

    /// The sign-in that "sign in again" repeats: the last one asked for.
    pub fn target(&self) -> SignInTarget {
        match self {
            SignInState::SignedOut => SignInTarget::Startup,
            SignInState::Active(s) => s.target.clone(),
            SignInState::Starting { target }
            | SignInState::Running { target, .. }
            | SignInState::Failed { target, .. } => target.clone(),
        }
    }

    pub fn running(&self) -> bool {
        matches!(self, SignInState::Running { .. })
    }
}

/// One profile of the config file, as the picker lists it (profiles hold no secrets).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ProfileEntry {
    pub name: String,
    pub method: String,
    pub cloud: String,
    pub tenant: String,
    /// The Graph root when the profile names its own (else the cloud's).
    pub graph_root: Option<String>,
}

/// What the profile picker shows.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ProfilesView {
    /// The config file read (or looked for).
    pub path: Option<String>,
    /// The sign-in the explorer was started with, offered as the first choice.
    pub startup: String,
    pub entries: Vec<ProfileEntry>,
    /// Why there are no profiles to offer: no config file, or an invalid one (with its path).
    pub problem: Option<String>,
}
