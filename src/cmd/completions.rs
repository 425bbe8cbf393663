//! `rolecall completions`: the completion script for the binary, generated from the clap
//! definitions so it never drifts from them.

use crate::cli::{Cli, CompletionsArgs, ShellKind};
use crate::error::Result;
use clap::CommandFactory;
use clap_complete::Shell;

pub fn script(shell: ShellKind) -> String {
    let target = match shell {
        ShellKind::Bash => Shell::Bash,
        ShellKind::Zsh => Shell::Zsh,
        ShellKind::Fish => Shell::Fish,
    };
    let mut buffer = Vec::new();
    clap_complete::generate(target, &mut Cli::command(), "rolecall", &mut buffer);
    String::from_utf8_lossy(&buffer).into_owned()
}

pub fn run(args: CompletionsArgs) -> Result<()> {
    super::emit(&script(args.shell))
}
