//! `deltascope emulator`: run the emulator until Ctrl-C / SIGTERM.
use std::io::Write as _;
use std::net::SocketAddr;
use std::time::Duration;

use super::config::EmulatorConfig;
use super::limits;

// Value parsers: a number out of range is a usage error (exit 2) naming the allowed range.
fn contacts(s: &str) -> Result<usize, String> {
    limits::CONTACTS.parse_usize(s)
}
fn users(s: &str) -> Result<usize, String> {
    limits::USERS.parse_usize(s)
}
fn groups(s: &str) -> Result<usize, String> {
    limits::GROUPS.parse_usize(s)
}
fn apps(s: &str) -> Result<usize, String> {
    limits::APPS.parse_usize(s)
}
fn roles(s: &str) -> Result<usize, String> {
    limits::ROLES.parse_usize(s)
}
fn member_slice(s: &str) -> Result<usize, String> {
    limits::MEMBER_SLICE.parse_usize(s)
}
fn organizers(s: &str) -> Result<usize, String> {
    limits::ORGANIZERS.parse_usize(s)
}
fn recordings(s: &str) -> Result<usize, String> {
    limits::RECORDINGS.parse_usize(s)
}
fn page_size(s: &str) -> Result<usize, String> {
    limits::PAGE_SIZE.parse_usize(s)
}
fn latency_ms(s: &str) -> Result<u64, String> {
    limits::LATENCY_MS.parse(s)
}
fn churn(s: &str) -> Result<f64, String> {
    limits::CHURN.parse(s)
}
fn fault(s: &str) -> Result<String, String> {
    super::faults::parse(s).map(|f| f.spec)
}

/// `--demo-contacts` of the commands that start the emulator in-process (`sync`, the
/// explorer): the range of `--contacts`.
pub fn demo_contacts(s: &str) -> Result<usize, String> {
    contacts(s)
}

/// Run a local Graph emulator (a demo tenant serving delta queries) on loopback.
#[derive(clap::Args, Debug, Clone)]
pub struct EmulatorArgs {
    /// Address to listen on (loopback; port 0 picks a free port).
    #[arg(long, default_value = "127.0.0.1:0", value_name = "ADDR")]
    pub listen: SocketAddr,
    /// Seed of the deterministic demo tenant.
    #[arg(long, default_value_t = 42)]
    pub seed: u64,
    /// Number of org contacts (generated lazily; a million is fine), 0-10000000.
    #[arg(long, default_value_t = 250, value_parser = contacts)]
    pub contacts: usize,
    /// Number of users, 0-100000.
    #[arg(long, default_value_t = 50, value_parser = users)]
    pub users: usize,
    /// Number of groups (members drawn from the users; the first, "All Company", holds
    /// everyone), 0-100.
    #[arg(long, default_value_t = 12, value_parser = groups)]
    pub groups: usize,
    /// Number of app registrations (applications/delta), 0-1000000.
    #[arg(long, default_value_t = 40, value_parser = apps)]
    pub applications: usize,
    /// Number of service principals (servicePrincipals/delta: Microsoft's apps, then those of
    /// the app registrations), 0-1000000.
    #[arg(long, default_value_t = 60, value_parser = apps)]
    pub service_principals: usize,
    /// Number of devices (devices/delta), 0-1000000.
    #[arg(long, default_value_t = 30, value_parser = apps)]
    pub devices: usize,
    /// Number of administrative units (administrativeUnits/delta), 0-1000000.
    #[arg(long, default_value_t = 8, value_parser = apps)]
    pub administrative_units: usize,
    /// Number of activated directory roles (directoryRoles/delta: Global Administrator, User
    /// Administrator, … one per built-in template), 0-20.
    #[arg(long, default_value_t = 10, value_parser = roles)]
    pub directory_roles: usize,
    /// Number of delegated permission grants (oauth2PermissionGrants/delta), 0-1000000.
    #[arg(long, default_value_t = 24, value_parser = apps)]
    pub grants: usize,
    /// Files in the demo drive (driveItems delta; besides its folders), 0-1000000.
    #[arg(long, default_value_t = 36, value_parser = apps)]
    pub drive_files: usize,
    /// Messages in the demo mailbox's inbox (messages delta), 0-1000000.
    #[arg(long, default_value_t = 36, value_parser = apps)]
    pub inbox_messages: usize,
    /// Personal contacts in the demo mailbox's Contacts folder (personalContacts delta),
    /// 0-1000000.
    #[arg(long, default_value_t = 36, value_parser = apps)]
    pub personal_contacts: usize,
    /// Tasks in the demo user's default To Do list (todoTasks delta), 0-1000000.
    #[arg(long, default_value_t = 20, value_parser = apps)]
    pub todo_tasks: usize,
    /// Most member links a group carries per item of a full round (larger groups come back
    /// later in the round with further slices of members@delta). Small by default so that the
    /// demo tenant's larger groups show it. 1-100000.
    #[arg(long, default_value_t = 20, value_parser = member_slice)]
    pub member_slice: usize,
    /// Number of meeting organizers (the first users), 0-1000.
    #[arg(long, default_value_t = 3, value_parser = organizers)]
    pub organizers: usize,
    /// Number of recordings at start (spread over the organizers), 0-100000.
    #[arg(long, default_value_t = 40, value_parser = recordings)]
    pub recordings: usize,
    /// Default page size of contacts and users (1-999).
    #[arg(long, default_value_t = 100, value_parser = page_size)]
    pub page_size: usize,
    /// State token lifetime on the emulator clock (e.g. 7d, 12h, 3600s), 1s-3650d.
    #[arg(long, default_value = "7d", value_parser = limits::token_lifetime)]
    pub token_lifetime: Duration,
    /// Background changes per second (creates, updates, deletes, restores, recordings),
    /// 0-1000.
    #[arg(long, default_value_t = 0.0, value_parser = churn)]
    pub churn: f64,
    /// Inject a fault (repeatable, at most 100), e.g. throttle:2:0.5, gone:1, empty:3,
    /// drop-next-link.
    #[arg(long = "fault", value_name = "SPEC", value_parser = fault)]
    pub faults: Vec<String>,
    /// Latency added to every Graph response, in milliseconds (0-60000).
    #[arg(long, default_value_t = 0, value_parser = latency_ms)]
    pub latency_ms: u64,
    /// Check bearer tokens on the Graph endpoints (issued by this emulator's
    /// /{tenant}/oauth2/v2.0/token): expiry, audience and the resource's permissions.
    #[arg(long)]
    pub enforce_auth: bool,
    /// Serve https: a certificate authority is made at start and signs a certificate for
    /// localhost, 127.0.0.1 and ::1; its certificate (never its key) is written to --ca-out for
    /// the clients to trust (`deltascope --ca-cert FILE`, `curl --cacert FILE`).
    #[arg(long)]
    pub tls: bool,
    /// With --tls: where to write the CA certificate (PEM). Default: a new file in the system's
    /// temporary directory, removed when the emulator stops.
    #[arg(long, value_name = "FILE", requires = "tls")]
    pub ca_out: Option<std::path::PathBuf>,
}

impl EmulatorArgs {
    pub fn to_config(&self) -> EmulatorConfig {
        EmulatorConfig {
            seed: self.seed,
            contacts: self.contacts,
            users: self.users,
            groups: self.groups,
            applications: self.applications,
            service_principals: self.service_principals,
            devices: self.devices,
            administrative_units: self.administrative_units,
            directory_roles: self.directory_roles,
            grants: self.grants,
            drive_files: self.drive_files,
            inbox_messages: self.inbox_messages,
            personal_contacts: self.personal_contacts,
            todo_tasks: self.todo_tasks,
            member_slice: self.member_slice,
            organizers: self.organizers,
            recordings: self.recordings,
            page_size: self.page_size,
            token_lifetime: self.token_lifetime,
            churn_per_sec: self.churn,
            faults: self.faults.clone(),
            latency: Duration::from_millis(self.latency_ms),
            identity: super::identity::IdentityConfig {
                enforce: self.enforce_auth,
                ..Default::default()
            },
            tls: self.tls,
        }
    }
}

/// Runs the emulator until Ctrl-C or SIGTERM. The first stdout line is
/// `deltascope emulator listening on http://HOST:PORT` (`https://` with `--tls`, and then a
/// second line: `deltascope emulator CA certificate: FILE`).
pub async fn run_cli(args: EmulatorArgs) -> anyhow::Result<()> {
    if !args.listen.ip().is_loopback() {
        anyhow::bail!(
            "the emulator listens on loopback only; {} is not a loopback address",
            args.listen
        );
    }
    if args.faults.len() > limits::ACTIVE_FAULTS_MAX {
        // A usage error like the value parsers' (exit 2), before anything starts.
        clap::Error::raw(
            clap::error::ErrorKind::TooManyValues,
            format!(
                "--fault was given {} times; the allowed range is at most {} faults\n",
                args.faults.len(),
                limits::ACTIVE_FAULTS_MAX
            ),
        )
        .exit();
    }
    // Listening for Ctrl-C/SIGTERM starts before the "listening" line goes out: a script may
    // stop the emulator as soon as it reads it.
    let stop = crate::signals::interrupted();
    let emu = super::start(args.to_config(), args.listen).await?;
    // The CA file is written before the "listening" line: a client that reads the line can use
    // the file at once.
    let ca_file = match emu.ca_pem() {
        Some(pem) => Some(CaFile::write(args.ca_out.as_deref(), pem)?),
        None => None,
    };
    {
        let mut out = std::io::stdout().lock();
        writeln!(out, "deltascope emulator listening on {}", emu.base_url())?;
        if let Some(f) = &ca_file {
            writeln!(
                out,
                "deltascope emulator CA certificate: {}",
                f.path.display()
            )?;
        }
        out.flush()?;
    }
    if let (Some(f), Some(name)) = (&ca_file, emu.ca_name()) {
        eprintln!(
            "https with a certificate of this run's CA \"{name}\", written to {path}; trust it with: deltascope --ca-cert {path}, curl --cacert {path}, SSL_CERT_FILE={path} (Python); nothing else trusts it",
            path = f.path.display()
        );
    }
    let demo = emu.demo();
    eprintln!(
        "tenant {}; organizers: {}; control API: {}/_emulator/state; Ctrl-C to stop",
        demo.tenant_id,
        demo.organizers.join(", "),
        emu.base_url()
    );
    eprintln!(
        "delta: {base}/v1.0/{{contacts,users,groups,applications,servicePrincipals,devices,administrativeUnits,directoryRoles,oauth2PermissionGrants,directoryObjects}}/delta, {base}/v1.0/me/drive/root/delta, {base}/v1.0/me/mailFolders/inbox/messages/delta, {base}/v1.0/me/calendarView/delta?startDateTime=…&endDateTime=…",
        base = emu.base_url()
    );
    let ctl = emu.control();
    let first = |ids: Vec<String>| ids.into_iter().next().unwrap_or_default();
    eprintln!(
        "delta: {base}/v1.0/me/mailFolders/delta, {base}/v1.0/me/contactFolders/{folder}/contacts/delta, {base}/v1.0/me/todo/lists/{list}/tasks/delta",
        base = emu.base_url(),
        folder = first(ctl.contact_folder_ids()),
        list = first(ctl.todo_list_ids()),
    );
    eprintln!(
        "sign-in: {base}/{tenant}/oauth2/v2.0/token and .../devicecode (any client id; device codes are approved at {base}/_emulator/devicelogin); tokens {}",
        if args.enforce_auth {
            "are checked on Graph requests (--enforce-auth)"
        } else {
            "are not checked (any bearer works; --enforce-auth to check them)"
        },
        base = emu.base_url(),
        tenant = demo.tenant_id,
    );
    stop.await;
    emu.shutdown().await;
    drop(ca_file);
    Ok(())
}

/// The CA certificate's file: `--ca-out`, or a new file in the temporary directory (removed
/// when the emulator stops: the CA is good for this run only).
struct CaFile {
    path: std::path::PathBuf,
    remove: bool,
}

impl CaFile {
    fn write(to: Option<&std::path::Path>, pem: &str) -> anyhow::Result<CaFile> {
        use anyhow::Context as _;
        if let Some(path) = to {
            std::fs::write(path, pem).with_context(|| {
                format!("cannot write the CA certificate to {}", path.display())
            })?;
            return Ok(CaFile {
                path: path.to_path_buf(),
                remove: false,
            });
        }
        let path = std::env::temp_dir().join(format!(
            "deltascope-emulator-ca-{}-{}.pem",
            std::process::id(),
            &uuid::Uuid::new_v4().simple().to_string()[..12]
        ));
        // A new file (never one that is there already, nor through a link someone left).
        let mut file = std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&path)
            .with_context(|| format!("cannot create the CA certificate file {}", path.display()))?;
        let written = file
            .write_all(pem.as_bytes())
            .and_then(|()| file.sync_all());
        if let Err(e) = written {
            let _ = std::fs::remove_file(&path);
            return Err(e).with_context(|| format!("cannot write {}", path.display()));
        }
        Ok(CaFile { path, remove: true })
    }
}

impl Drop for CaFile {
    fn drop(&mut self) {
        if self.remove {
            let _ = std::fs::remove_file(&self.path);
        }
    }
}
