//! The thin binary: parse the command line, set up logging, run the chosen command.
use std::process::ExitCode;

use clap::parser::ValueSource;
use clap::{CommandFactory, FromArgMatches, Parser, Subcommand};

#[derive(Parser, Debug)]
#[command(
    name = "deltascope",
    version,
    about = "Explore Microsoft Graph delta queries: rounds, pages, tokens, changes.",
    long_about = "Explore Microsoft Graph delta queries: rounds, pages, tokens, changes.\n\n\
        With no subcommand, opens the explorer (a terminal UI). With no Graph root configured, \
        every command runs against an embedded Graph emulator with a demo tenant."
)]
struct Cli {
    /// Write diagnostic logs to this file (never to the terminal; secrets are never logged).
    #[arg(long, global = true, env = "DELTASCOPE_LOG_FILE", value_name = "FILE")]
    log_file: Option<std::path::PathBuf>,

    /// The explorer's options (when no subcommand is given).
    #[command(flatten)]
    explore: deltascope::tui::explore::ExploreArgs,

    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Run the embedded Graph emulator (a local graph.microsoft.com with a demo tenant).
    Emulator(deltascope::emulator::EmulatorArgs),
    /// Run delta rounds headlessly: items as JSON lines on stdout, progress on stderr.
    Sync(Box<deltascope::sync::SyncArgs>),
    /// Get an access token and show what it can do: kind, tenant, cloud, permissions, expiry.
    Token(Box<deltascope::token_cmd::TokenArgs>),
    /// List the sessions of the session store (what the explorer and `sync --record` recorded).
    Sessions(deltascope::store_cmd::SessionsArgs),
    /// Export a stored session: its items (NDJSON), its replica (NDJSON, CSV) or its requests (HAR).
    Export(deltascope::store_cmd::ExportArgs),
}

/// Parses the command line. The explorer's options belong to `deltascope` alone, so one given
/// together with a subcommand is a usage error (clap's `args_conflicts_with_subcommands` would
/// also refuse the global `--log-file` before a subcommand, hence this check of our own).
fn parse_cli() -> Cli {
    let mut command = Cli::command();
    let matches = command.get_matches_mut();
    if let Some((name, _)) = matches.subcommand() {
        let explorer_only = command
            .get_arguments()
            .filter(|a| !a.is_global_set())
            .find(|a| matches.value_source(a.get_id().as_str()) == Some(ValueSource::CommandLine));
        if let Some(arg) = explorer_only {
            let flag = arg
                .get_long()
                .map(|l| format!("--{l}"))
                .unwrap_or_else(|| arg.get_id().to_string());
            command
                .error(
                    clap::error::ErrorKind::ArgumentConflict,
                    format!(
                        "{flag} is an option of the explorer (`deltascope` alone); give it after `{name}` if `deltascope {name}` takes it (see `deltascope {name} --help`)"
                    ),
                )
                .exit();
        }
    }
    Cli::from_arg_matches(&matches).unwrap_or_else(|e| e.exit())
}

fn main() -> ExitCode {
    let cli = parse_cli();
    if let Some(path) = &cli.log_file
        && let Err(e) = init_logging(path)
    {
        deltascope::safe_eprintln!(
            "deltascope: cannot open the log file {}: {e}",
            path.display()
        );
        return ExitCode::from(deltascope::sync::exit::USAGE);
    }
    // `sync` runs on one thread: its loop and the network share it (page bodies are parsed on
    // the blocking pool), which costs fewer thread switches per page than a pool of workers.
    let mut builder = match cli.command {
        Some(Command::Sync(_)) => tokio::runtime::Builder::new_current_thread(),
        _ => tokio::runtime::Builder::new_multi_thread(),
    };
    let runtime = match builder.enable_all().build() {
        Ok(rt) => rt,
        Err(e) => {
            deltascope::safe_eprintln!("deltascope: cannot start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    match cli.command {
        Some(Command::Emulator(args)) => {
            match runtime.block_on(deltascope::emulator::run_cli(args)) {
                Ok(()) => ExitCode::SUCCESS,
                Err(e) => {
                    deltascope::safe_eprintln!("deltascope emulator: {e:#}");
                    ExitCode::FAILURE
                }
            }
        }
        Some(Command::Sync(args)) => ExitCode::from(runtime.block_on(deltascope::sync::run(*args))),
        Some(Command::Token(args)) => {
            ExitCode::from(runtime.block_on(deltascope::token_cmd::run(*args)))
        }
        Some(Command::Sessions(args)) => ExitCode::from(deltascope::store_cmd::run_sessions(args)),
        Some(Command::Export(args)) => ExitCode::from(deltascope::store_cmd::run_export(args)),
        None => match runtime.block_on(deltascope::tui::explore::run(cli.explore)) {
            Ok(()) => ExitCode::SUCCESS,
            Err(e) => {
                deltascope::safe_eprintln!("deltascope: {e:#}");
                ExitCode::FAILURE
            }
        },
    }
}

fn init_logging(path: &std::path::Path) -> std::io::Result<()> {
    let file = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)?;
    let filter = tracing_subscriber::EnvFilter::try_from_env("DELTASCOPE_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("deltascope=info"));
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_ansi(false)
        .with_writer(std::sync::Mutex::new(file))
        .init();
    Ok(())
}
