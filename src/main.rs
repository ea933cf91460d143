//! The thin binary: parse the command line, set up logging, run the chosen command.
use std::process::ExitCode;

use clap::{Parser, Subcommand};

#[derive(Parser, Debug)]
#[command(
    name = "deltascope",
    version,
    about = "Explore Microsoft Graph delta queries: rounds, pages, tokens, changes.",
    long_about = "Explore Microsoft Graph delta queries: rounds, pages, tokens, changes.\n\n\
        With no subcommand, opens the explorer (a terminal UI). With no Graph root configured, \
        every command runs against an embedded Graph emulator with a demo tenant.",
    args_conflicts_with_subcommands = true
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
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    if let Some(path) = &cli.log_file
        && let Err(e) = init_logging(path)
    {
        eprintln!(
            "deltascope: cannot open the log file {}: {e}",
            path.display()
        );
        return ExitCode::from(deltascope::sync::exit::USAGE);
    }
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("deltascope: cannot start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    match cli.command {
        Some(Command::Emulator(args)) => {
            match runtime.block_on(deltascope::emulator::run_cli(args)) {
                Ok(()) => ExitCode::SUCCESS,
                Err(e) => {
                    eprintln!("deltascope emulator: {e:#}");
                    ExitCode::FAILURE
                }
            }
        }
        Some(Command::Sync(args)) => ExitCode::from(runtime.block_on(deltascope::sync::run(*args))),
        Some(Command::Token(args)) => {
            ExitCode::from(runtime.block_on(deltascope::token_cmd::run(*args)))
        }
        None => match runtime.block_on(deltascope::tui::explore::run(cli.explore)) {
            Ok(()) => ExitCode::SUCCESS,
            Err(e) => {
                eprintln!("deltascope: {e:#}");
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
