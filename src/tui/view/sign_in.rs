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

/// The sign-in state machine, one state at a time. `previous` is the sign-in still in force
/// (its description) while another one runs or after one failed.
#[derive(Clone, Debug, PartialEq)]
pub enum SignInState {
    /// No sign-in yet (the explorer's own starts with the runtime).
    SignedOut,
    /// Tokens are there; `who` says whose (`AuthPlan::describe`; empty when not known).
    Active { who: String },
    /// A sign-in runs in the background; `prompt` once the service handed out a device code.
    /// `renewal`: the sign-in in force needs the person again (its refresh token was refused,
    /// e.g. by a sign-in frequency policy) while a request waits for the token.
    Running {
        attempt: u64,
        target: SignInTarget,
        since: Instant,
        prompt: Option<DeviceCodeView>,
        previous: Option<String>,
        renewal: bool,
    },
    /// The last sign-in failed or was cancelled.
    Failed {
        target: SignInTarget,
        error: String,
        previous: Option<String>,
    },
}

impl Default for SignInState {
    fn default() -> Self {
        SignInState::Active { who: String::new() }
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
