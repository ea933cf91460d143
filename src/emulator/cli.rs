//! `deltascope emulator`: run the emulator until Ctrl-C / SIGTERM.
use std::io::Write as _;
use std::net::SocketAddr;
use std::time::Duration;

use super::config::{EmulatorConfig, parse_duration};

/// Run a local Graph emulator (a demo tenant serving delta queries) on loopback.
#[derive(clap::Args, Debug, Clone)]
pub struct EmulatorArgs {
    /// Address to listen on (loopback; port 0 picks a free port).
    #[arg(long, default_value = "127.0.0.1:0", value_name = "ADDR")]
    pub listen: SocketAddr,
    /// Seed of the deterministic demo tenant.
    #[arg(long, default_value_t = 42)]
    pub seed: u64,
    /// Number of org contacts (generated lazily; a million is fine).
    #[arg(long, default_value_t = 250)]
    pub contacts: usize,
    /// Number of users.
    #[arg(long, default_value_t = 50)]
    pub users: usize,
    /// Number of groups (members drawn from the users; the first, "All Company", holds
    /// everyone).
    #[arg(long, default_value_t = 12)]
    pub groups: usize,
    /// Most member links a group carries per item of a full round (larger groups come back
    /// later in the round with further slices of members@delta). Small by default so that the
    /// demo tenant's larger groups show it.
    #[arg(long, default_value_t = 20)]
    pub member_slice: usize,
    /// Number of meeting organizers (the first users).
    #[arg(long, default_value_t = 3)]
    pub organizers: usize,
    /// Number of recordings at start (spread over the organizers).
    #[arg(long, default_value_t = 40)]
    pub recordings: usize,
    /// Default page size of contacts and users (1-999).
    #[arg(long, default_value_t = 100)]
    pub page_size: usize,
    /// State token lifetime on the emulator clock (e.g. 7d, 12h, 3600s).
    #[arg(long, default_value = "7d", value_parser = parse_duration)]
    pub token_lifetime: Duration,
    /// Background changes per second (creates, updates, deletes, restores, recordings).
    #[arg(long, default_value_t = 0.0)]
    pub churn: f64,
    /// Inject a fault (repeatable), e.g. throttle:2:0.5, gone:1, empty:3, drop-next-link.
    #[arg(long = "fault", value_name = "SPEC")]
    pub faults: Vec<String>,
    /// Latency added to every Graph response, in milliseconds.
    #[arg(long, default_value_t = 0)]
    pub latency_ms: u64,
    /// Check bearer tokens on the Graph endpoints (issued by this emulator's
    /// /{tenant}/oauth2/v2.0/token): expiry, audience and the resource's permissions.
    #[arg(long)]
    pub enforce_auth: bool,
}

impl EmulatorArgs {
    pub fn to_config(&self) -> EmulatorConfig {
        EmulatorConfig {
            seed: self.seed,
            contacts: self.contacts,
            users: self.users,
            groups: self.groups,
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
        }
    }
}

/// Runs the emulator until Ctrl-C or SIGTERM. The first stdout line is
/// `deltascope emulator listening on http://HOST:PORT`.
pub async fn run_cli(args: EmulatorArgs) -> anyhow::Result<()> {
    if !args.listen.ip().is_loopback() {
        anyhow::bail!(
            "the emulator listens on loopback only; {} is not a loopback address",
            args.listen
        );
    }
    if args.member_slice == 0 {
        anyhow::bail!("--member-slice must be at least 1");
    }
    if !(1..=999).contains(&args.page_size) {
        anyhow::bail!("--page-size must be between 1 and 999");
    }
    // Listening for Ctrl-C/SIGTERM starts before the "listening" line goes out: a script may
    // stop the emulator as soon as it reads it.
    let stop = crate::signals::interrupted();
    let emu = super::start(args.to_config(), args.listen).await?;
    {
        let mut out = std::io::stdout().lock();
        writeln!(out, "deltascope emulator listening on {}", emu.base_url())?;
        out.flush()?;
    }
    let demo = emu.demo();
    eprintln!(
        "tenant {}; organizers: {}; control API: {}/_emulator/state; Ctrl-C to stop",
        demo.tenant_id,
        demo.organizers.join(", "),
        emu.base_url()
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
    Ok(())
}
