//! rolecall: AWS temporary credentials in your shell.
//!
//! `main` parses the command line, runs one subcommand, and turns any failure into one message on
//! stderr and the exit status scripts rely on (0 done, 1 AWS or network, 2 usage or
//! configuration, 130 interrupted).

mod cache;
mod cli;
mod cmd;
mod config;
mod engine;
mod error;
mod mfa;
mod session;
mod shell;
mod source;
mod sts;
mod time;

use clap::Parser;
use cli::{Cli, Command};

fn main() {
    std::panic::set_hook(Box::new(|info| {
        // A bug must not dump internals (or anything secret) on the user's terminal.
        let location = info
            .location()
            .map(|l| format!(" at {}:{}", l.file(), l.line()))
            .unwrap_or_default();
        eprintln!("rolecall: internal error{location}; please report it");
    }));
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Assume(args) => cmd::assume::run(args),
        Command::Exec(args) => cmd::exec::run(args),
        Command::CredentialProcess(args) => cmd::credential_process::run(args),
        Command::Profiles(args) => cmd::profiles::run(args),
        Command::Completions(args) => cmd::completions::run(args),
    };
    if let Err(failure) = result {
        if failure.kind != error::Kind::Interrupted {
            eprintln!("rolecall: {failure}");
        }
        std::process::exit(failure.exit_code());
    }
}
