//! rolecall: AWS temporary credentials in your shell.
//!
//! `main` parses the command line, runs one subcommand, and turns any failure into one message on
//! stderr and the exit status scripts rely on (0 done, 1 AWS or network, 2 usage or
//! configuration, 130 interrupted).

mod aws;
mod browser;
mod cache;
mod cli;
mod cmd;
mod complete;
mod console;
mod eks;
mod engine;
mod env;
mod error;
mod keys;
mod mfa;
mod os;
mod picker;
mod process;
mod profile;
mod server;
mod session;
mod shell;
mod sso;
mod terminal;
mod time;
mod webid;

use clap::error::ErrorKind;
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
    // A crash must not write the keys this process holds to a core file.
    forbid_core_dumps();
    // Tab completion: the shell runs `ROLECALL_COMPLETE=<shell> rolecall -- WORDS…` and reads
    // candidates. The variable is rolecall's own: clap's default, `COMPLETE`, is a name a
    // person may export for something else, and every command would then print a script.
    clap_complete::CompleteEnv::with_factory(<Cli as clap::CommandFactory>::command)
        .var(cli::COMPLETION_VARIABLE)
        .completer("rolecall")
        .complete();
    if let Some(args) = prompt_arguments(std::env::args_os()) {
        return finish(cmd::prompt::run(args));
    }
    session::forget_exported_settings();
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(error) => exit_on_parse_error(error),
    };
    let result = match cli.command {
        Command::Init(args) => cmd::init::run(args),
        Command::Status(args) => cmd::status::run(args),
        Command::Prompt(args) => cmd::prompt::run(args),
        Command::Doctor(args) => cmd::doctor::run(args),
        Command::Assume(args) => cmd::assume::run(args),
        Command::Exec(args) => cmd::exec::run(args),
        Command::Console(args) => cmd::console::run(args),
        Command::CredentialProcess(args) => cmd::credential_process::run(args),
        Command::Profiles(args) => cmd::profiles::run(args),
        Command::Completions(args) => cmd::completions::run(args),
        Command::Sso(command) => cmd::sso::run(command),
        Command::Keys(command) => cmd::keys::run(command),
        Command::Eks(command) => cmd::eks::run(command),
        Command::Manpage => cmd::manpage::run(),
    };
    finish(result);
}

/// `rolecall prompt`'s arguments, parsed by a command of the prompt's flags alone: the prompt runs
/// at every redraw, and building the whole command tree was a fifth of its start-up. `None` for
/// any other command line, and for anything but a clean parse (help, errors), which the whole
/// tree then handles as for every command.
fn prompt_arguments(
    command_line: impl IntoIterator<Item = std::ffi::OsString>,
) -> Option<cli::PromptArgs> {
    use clap::{Args, FromArgMatches};
    let mut args = command_line.into_iter().skip(1);
    if args.next()? != "prompt" {
        return None;
    }
    let command = cli::PromptArgs::augment_args(clap::Command::new("prompt"));
    let matches = command.try_get_matches_from(std::iter::once("prompt".into()).chain(args));
    cli::PromptArgs::from_arg_matches(&matches.ok()?).ok()
}

/// Ends a failed command: says why, and exits with its status.
fn finish(result: error::Result<()>) {
    if let Err(failure) = result {
        if failure.kind != error::Kind::Interrupted && !failure.message.is_empty() {
            // The one place failures are printed, so the one place their text is filtered.
            eprintln!("rolecall: {}", error::printable_lines(&failure.message));
        }
        std::process::exit(failure.exit_code());
    }
}

/// Help and version go to stdout as usual, except for `assume --shell`, whose stdout the shell
/// function evaluates: there they go to stderr, so `assume --help` shows help instead of running it.
/// Usage errors quote the command line, which may hold anything: they pass the printable filter.
fn exit_on_parse_error(error: clap::Error) -> ! {
    use std::io::IsTerminal;
    let informational = matches!(
        error.kind(),
        ErrorKind::DisplayHelp
            | ErrorKind::DisplayVersion
            | ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand
    );
    // Arguments need not be UTF-8; only the ASCII words looked for here matter.
    let args: Vec<std::ffi::OsString> = std::env::args_os().collect();
    let evaluated = args.get(1).is_some_and(|a| a == "assume")
        && args.iter().any(|a| {
            let a = a.to_string_lossy();
            a == "--shell" || a.starts_with("--shell=")
        });
    if !informational {
        eprint!("{}", error::printable_lines(&error.render().to_string()));
        std::process::exit(error.exit_code());
    }
    if evaluated {
        let rendered = error.render();
        if std::io::stderr().is_terminal() {
            eprint!("{}", rendered.ansi());
        } else {
            eprint!("{rendered}");
        }
        std::process::exit(0);
    }
    error.exit()
}

/// No core file for this process (it holds long-term keys and fresh session credentials), and
/// no other process of the same user reading its memory, as password managers arrange. Both
/// end at `exec`: a command run by `rolecall exec` dumps and is traced as it would anywhere.
fn forbid_core_dumps() {
    // SAFETY: plain system calls on this process with valid arguments; failure changes nothing.
    unsafe {
        let mut limit: libc::rlimit = std::mem::zeroed();
        if libc::getrlimit(libc::RLIMIT_CORE, &mut limit) == 0 {
            CORE_LIMIT_AT_START.store(limit.rlim_cur, std::sync::atomic::Ordering::Relaxed);
            limit.rlim_cur = 0;
            libc::setrlimit(libc::RLIMIT_CORE, &limit);
        }
        #[cfg(target_os = "linux")]
        libc::prctl(libc::PR_SET_DUMPABLE, 0, 0, 0, 0);
    }
}

/// The soft core-file limit rolecall started with, given back to a command `exec` runs.
pub static CORE_LIMIT_AT_START: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);

#[cfg(test)]
mod tests {
    use super::*;

    /// The prompt's own parser takes the command lines the integration and users write, and
    /// reads each exactly as the whole command line would; anything else it leaves to the whole.
    #[test]
    fn the_prompt_parser_agrees_with_the_whole_command_line() {
        let taken: &[&[&str]] = &[
            &["prompt"],
            &["prompt", "--shell", "bash"],
            &["prompt", "--shell=zsh", "--format", "{profile}"],
            &["prompt", "--format={left} {region}", "--shell", "fish"],
            &["prompt", "--format", ""],
        ];
        let left_to_the_whole: &[&[&str]] = &[
            &["prompt", "--help"],
            &["prompt", "-h"],
            &["prompt", "--bogus"],
            &["prompt", "--shell", "tcsh"],
            &["prompt", "--format"],
            &["prompt", "--format", "--shell"],
            &["prompt", "extra"],
            &["status"],
            &[],
        ];
        let line = |words: &[&str]| {
            std::iter::once("rolecall")
                .chain(words.iter().copied())
                .map(std::ffi::OsString::from)
                .collect::<Vec<_>>()
        };
        for words in taken {
            let fast = prompt_arguments(line(words))
                .unwrap_or_else(|| panic!("{words:?} left to the whole command line"));
            match Cli::try_parse_from(line(words)).map(|cli| cli.command) {
                Ok(Command::Prompt(whole)) => {
                    assert_eq!(fast.format, whole.format, "{words:?}");
                    assert_eq!(fast.shell, whole.shell, "{words:?}");
                }
                other => panic!("{words:?}: the whole command line gives {other:?}"),
            }
        }
        for words in left_to_the_whole {
            assert!(prompt_arguments(line(words)).is_none(), "{words:?} taken");
        }
    }
}
