//! The thin binary (emulator branch: only the `emulator` subcommand; the lead merges the rest).
use std::process::ExitCode;

use clap::{Parser, Subcommand};

#[derive(Parser, Debug)]
#[command(
    name = "deltascope",
    version,
    about = "Explore Microsoft Graph delta queries."
)]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Run the embedded Graph emulator (a local graph.microsoft.com with a demo tenant).
    Emulator(deltascope::emulator::EmulatorArgs),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
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
        None => {
            use clap::CommandFactory;
            let _ = Cli::command().print_help();
            println!();
            ExitCode::SUCCESS
        }
    }
}
