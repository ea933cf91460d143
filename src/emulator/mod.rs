//! The embedded Graph emulator: a local stand-in for graph.microsoft.com serving delta queries
//! over a deterministic demo tenant, with a control API to change the tenant and inject faults.
//!
//! It shares no code with `crate::graph` (the client it checks): URL parsing, token encoding and
//! JSON building are its own.
//!
//! Graph routes (`{v}` = `v1.0` | `beta`; the last segment may be `delta`, `delta()`,
//! `microsoft.graph.delta` or `microsoft.graph.delta()`):
//! - `/{v}/contacts/delta` (orgContact), `/{v}/users/delta` (user, with `manager@delta` when
//!   `manager` is selected, see `managers`), `/{v}/groups/delta` (group, with `members@delta`
//!   when `members` is selected)
//! - `/{v}/applications/delta`, `/{v}/servicePrincipals/delta`, `/{v}/devices/delta`,
//!   `/{v}/administrativeUnits/delta`, `/{v}/directoryRoles/delta`,
//!   `/{v}/oauth2PermissionGrants/delta` (plain directory objects through the same machinery as
//!   contacts; grant ids are opaque strings, roles are never deleted, grants always for good)
//! - `/{v}/directoryObjects/delta`: users, groups, org contacts, applications, service
//!   principals, devices, administrative units and roles in one feed (see `routes::objects`)
//! - the demo drive's items (see `items`): `/{v}/drives/{driveId}/root/delta`,
//!   `/{v}/{me | users/{id} | sites/{id} | groups/{id}}/drive/root/delta`, OneDrive's links
//!   (`?token=`), `token=latest` and time tokens, the `deleted` facet
//! - the demo mailbox's messages: `/{v}/{me | users/{id}}/mailFolders/{id or well-known
//!   name}/messages/delta`; its calendar: `/{v}/{me | users/{id}}/calendarView/delta?startDateTime=…&endDateTime=…`
//! - `/{v}/users/{id}/onlineMeetings/getAllRecordings(meetingOrganizerUserId='{id}',startDateTime={dt})/delta`
//!   and `getAllTranscripts(...)`, also with `users({id})`.
//!
//! Control API: see [`control`].
use std::net::SocketAddr;
use std::sync::atomic::AtomicU64;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::sync::watch;
use tokio_util::sync::CancellationToken;

mod cli;
mod clock;
mod config;
pub mod control;
mod faults;
mod groups;
#[cfg(test)]
mod hardening_tests;
mod identity;
mod items;
mod json;
pub mod limits;
mod managers;
mod request;
mod routes;
mod store;
mod tenant;
mod tls;
mod token;
mod users;

pub use cli::{EmulatorArgs, demo_contacts, run_cli};
pub use config::{EmulatorConfig, parse_duration};
pub use control::Control;
pub use identity::{DEMO_ROLES, DEMO_SCOPES, EmulatorApp, IdentityConfig};

use clock::Clock;
use faults::Faults;
use routes::lock;
use store::Store;

/// State shared by the HTTP handlers, the control handle and the churn task.
pub(crate) struct Shared {
    pub config: EmulatorConfig,
    pub store: Mutex<Store>,
    pub faults: Mutex<Faults>,
    pub clock: Clock,
    /// Key of the token checksum (derived from the seed: tokens of the same seed look alike).
    pub key: u64,
    /// This run of the emulator: tokens of another run have lost their state.
    pub instance: u64,
    pub churn: watch::Sender<f64>,
    pub local_addr: SocketAddr,
    /// `https` with `config.tls`, else `http`: the scheme of every link and origin written.
    pub scheme: &'static str,
    pub requests: AtomicU64,
    pub identity: identity::IdentityState,
}

/// What the demo tenant holds, for help texts and tests.
#[derive(Clone, Debug, serde::Serialize)]
pub struct DemoInfo {
    pub tenant_id: String,
    /// User ids of the meeting organizers (use one as both userId and meetingOrganizerUserId).
    pub organizers: Vec<String>,
    /// A few contact ids.
    pub sample_contact_ids: Vec<String>,
    /// A few group ids, the one with the most members first.
    pub sample_group_ids: Vec<String>,
}

/// A running emulator.
pub struct Emulator {
    shared: Arc<Shared>,
    cancel: CancellationToken,
    server: Option<tokio::task::JoinHandle<()>>,
    churn: tokio::task::JoinHandle<()>,
    tls: Option<tls::TlsMaterial>,
}

/// Binds `addr` (loopback) and serves the emulator in the background.
/// A number of `config` out of its allowed range (see [`limits`]) is an `InvalidInput` error.
pub async fn start(config: EmulatorConfig, addr: SocketAddr) -> std::io::Result<Emulator> {
    let invalid = |e: String| std::io::Error::new(std::io::ErrorKind::InvalidInput, e);
    config.validate().map_err(invalid)?;
    let mut fault_list = Faults::default();
    for spec in &config.faults {
        fault_list
            .add(faults::parse(spec).map_err(invalid)?)
            .map_err(invalid)?;
    }
    let listener = tokio::net::TcpListener::bind(addr).await?;
    let local_addr = listener.local_addr()?;
    let tls = if config.tls {
        Some(tls::make(local_addr.ip())?)
    } else {
        None
    };
    let clock = Clock::default();
    let mut store = Store::new(
        config.seed,
        config.contacts as u64,
        config.users as u64,
        config.organizers as u64,
        config.recordings as u64,
        clock.now(),
    )
    .with_groups(config.groups as u64, config.member_slice)
    .with_apps(
        config.applications as u64,
        config.service_principals as u64,
        config.devices as u64,
    )
    .with_directory_extras(
        config.administrative_units as u64,
        config.directory_roles as u64,
        config.grants as u64,
    );
    store.sets = items::Sets::generate_sized(
        config.seed,
        clock.now(),
        items::Sizes {
            files: config.drive_files as u64,
            inbox: config.inbox_messages as u64,
            contacts: config.personal_contacts as u64,
            tasks: config.todo_tasks as u64,
        },
    );
    store.page_size = config.page_size;
    let (churn_tx, churn_rx) = watch::channel(config.churn_per_sec);
    let shared = Arc::new(Shared {
        key: tenant::mix(config.seed ^ 0xD31_7A5C_0BE0),
        instance: tenant::mix(uuid::Uuid::new_v4().as_u128() as u64 ^ std::process::id() as u64),
        config,
        store: Mutex::new(store),
        faults: Mutex::new(fault_list),
        clock,
        churn: churn_tx,
        local_addr,
        scheme: if tls.is_some() { "https" } else { "http" },
        requests: AtomicU64::new(0),
        identity: Default::default(),
    });
    let cancel = CancellationToken::new();
    let app = control::router(shared.clone());
    let stop = cancel.clone();
    let server = match &tls {
        None => tokio::spawn(async move {
            let _ = axum::serve(listener, app)
                .with_graceful_shutdown(async move { stop.cancelled().await })
                .await;
        }),
        Some(material) => {
            let listener =
                tls::TlsListener::new(listener, material.server.clone(), cancel.clone())?;
            tokio::spawn(async move {
                let _ = axum::serve(listener, app)
                    .with_graceful_shutdown(async move { stop.cancelled().await })
                    .await;
            })
        }
    };
    let churn = tokio::spawn(churn_task(shared.clone(), churn_rx, cancel.clone()));
    Ok(Emulator {
        shared,
        cancel,
        server: Some(server),
        churn,
        tls,
    })
}

impl Shared {
    /// `{scheme}://{host}`: `host` as the request's Host header gave it, else the address
    /// listened on.
    pub(crate) fn origin(&self, host: Option<&str>) -> String {
        match host {
            Some(h) => format!("{}://{h}", self.scheme),
            None => format!("{}://{}", self.scheme, self.local_addr),
        }
    }
}

impl Emulator {
    /// `http://127.0.0.1:PORT`, or `https://…` with TLS (no trailing slash).
    pub fn base_url(&self) -> String {
        self.shared.origin(None)
    }

    /// With TLS: the PEM of this run's certificate authority, the one certificate a client
    /// must trust to reach it (made at start; its key never leaves this process).
    pub fn ca_pem(&self) -> Option<&str> {
        self.tls.as_ref().map(|t| t.ca_pem.as_str())
    }

    /// With TLS: the CA's common name (`deltascope emulator CA (made …)`).
    pub fn ca_name(&self) -> Option<&str> {
        self.tls.as_ref().map(|t| t.ca_name.as_str())
    }

    pub fn local_addr(&self) -> SocketAddr {
        self.shared.local_addr
    }

    pub fn demo(&self) -> DemoInfo {
        self.control().demo()
    }

    pub fn control(&self) -> Control {
        Control::new(self.shared.clone())
    }

    /// Stops serving (in-flight requests finish; waits at most 5 s).
    pub async fn shutdown(mut self) {
        self.cancel.cancel();
        self.churn.abort();
        if let Some(mut server) = self.server.take()
            && tokio::time::timeout(Duration::from_secs(5), &mut server)
                .await
                .is_err()
        {
            server.abort();
        }
    }
}

impl Drop for Emulator {
    fn drop(&mut self) {
        self.cancel.cancel();
    }
}

/// Length of a churn tick: the changes owed are made once per tick.
const CHURN_TICK: Duration = Duration::from_millis(100);
/// Most changes made per hold of the store's lock: between batches the lock is free for the
/// Graph and control requests, and the task yields so that they (and shutdown) get a turn.
const CHURN_BATCH: u64 = 16;

/// Applies `per_sec` random changes per second while the rate is above zero: contacts and
/// recordings as before, and one group change (when there are groups) and one user change for
/// every four of those.
///
/// A tick's burst is at most `per_sec / 10` changes (a hundred at the largest allowed rate),
/// made in batches of [`CHURN_BATCH`]; a tick that ran late is not made up for, so the task never
/// falls into a catch-up loop.
async fn churn_task(sh: Arc<Shared>, mut rate: watch::Receiver<f64>, cancel: CancellationToken) {
    let mut owed = 0.0f64;
    let mut group_owed = 0.0f64;
    let mut user_owed = 0.0f64;
    let mut other_owed = 0.0f64;
    // Round-robin over the plain directory collections, drive items, messages and events.
    let mut other_turn = 0u64;
    loop {
        // The control API and `start` check the range; clamping again keeps this task bounded
        // whatever reaches the channel.
        let r = *rate.borrow_and_update();
        let r = if limits::CHURN.contains(r) {
            r
        } else if r > limits::CHURN.max {
            limits::CHURN.max
        } else {
            0.0
        };
        if r <= 0.0 {
            tokio::select! {
                _ = cancel.cancelled() => return,
                changed = rate.changed() => if changed.is_err() { return },
            }
            continue;
        }
        tokio::select! {
            _ = cancel.cancelled() => return,
            _ = tokio::time::sleep(CHURN_TICK) => {}
            _ = rate.changed() => { continue; }
        }
        let burst = r * CHURN_TICK.as_secs_f64();
        owed = (owed + burst).min(burst + 1.0);
        let n = owed.floor();
        owed -= n;
        let mut contacts = n as u64;
        let mut groups = 0;
        if n >= 1.0 && lock(&sh.store).groups.next > 0 {
            group_owed += n / 4.0;
            let g = group_owed.floor();
            group_owed -= g;
            groups = g as u64;
        }
        let mut users = 0;
        if n >= 1.0 {
            user_owed += n / 4.0;
            let u = user_owed.floor();
            user_owed -= u;
            users = u as u64;
        }
        let mut others = 0;
        if n >= 1.0 {
            other_owed += n / 4.0;
            let o = other_owed.floor();
            other_owed -= o;
            others = o as u64;
        }
        while contacts + groups + users + others > 0 {
            if cancel.is_cancelled() {
                return;
            }
            let c = contacts.min(CHURN_BATCH);
            let g = groups.min(CHURN_BATCH);
            let u = users.min(CHURN_BATCH);
            let o = others.min(CHURN_BATCH);
            let now = sh.clock.now();
            {
                let mut store = lock(&sh.store);
                if c > 0 {
                    store.mutate(c, now);
                }
                if g > 0 {
                    store.mutate_groups(g, now);
                }
                if u > 0 {
                    store.mutate_users(u, now);
                }
                for _ in 0..o {
                    other_turn += 1;
                    const SETS: [token::Resource; 6] = [
                        token::Resource::DriveItems,
                        token::Resource::Messages,
                        token::Resource::Events,
                        token::Resource::MailFolders,
                        token::Resource::PersonalContacts,
                        token::Resource::TodoTasks,
                    ];
                    let plain = tenant::Coll::PLAIN.len() as u64;
                    let k = other_turn % (plain + SETS.len() as u64);
                    match k.checked_sub(plain) {
                        None => store.mutate_apps(tenant::Coll::PLAIN[k as usize], 1, now),
                        Some(s) => items::mutate(&mut store, SETS[s as usize], 1, now),
                    };
                }
            }
            others -= o;
            contacts -= c;
            groups -= g;
            users -= u;
            tokio::task::yield_now().await;
        }
    }
}
