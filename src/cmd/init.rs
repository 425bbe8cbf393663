//! `rolecall init <shell>`: prints the shell integration (see `shell::init`).

use crate::cli::InitArgs;
use crate::error::{printable, Failure, Result};
use crate::shell::init::{is_usable_function_name, Flag, Integration};
use clap::Args;

pub fn run(args: InitArgs) -> Result<()> {
    if !is_usable_function_name(&args.cmd) {
        return Err(Failure::usage(format!(
            "`{}` cannot name the function: use letters, digits, _ and -, and no name the \
             shell or rolecall already uses",
            printable(&args.cmd)
        )));
    }
    super::emit(&args.shell.integration(&Integration {
        function: &args.cmd,
        prompt: !args.no_prompt,
        auto_refresh: args.auto_refresh,
        completion_variable: crate::cli::COMPLETION_VARIABLE,
        // The cache's own threshold, so a renewal never gets the same credentials back.
        refresh_seconds: crate::cache::MINIMUM_SECONDS_LEFT,
        prompt_inputs: &super::prompt::inputs(),
        flags: &assume_flags(),
    }))
}

/// The flags of `rolecall assume` a person passes through the function: all but those the
/// integration sets itself (`--shell`, `--json`) and help.
fn assume_flags() -> Vec<Flag> {
    let command = crate::cli::AssumeArgs::augment_args(clap::Command::new("assume"));
    command
        .get_arguments()
        .filter(|arg| !arg.is_positional() && !arg.is_hide_set())
        .filter_map(|arg| {
            let long = arg.get_long()?;
            if matches!(long, "shell" | "json" | "help") {
                return None;
            }
            let takes_value = arg.get_action().takes_values();
            let help = arg
                .get_help()
                .map(|h| h.to_string())
                .unwrap_or_default()
                .lines()
                .next()
                .unwrap_or_default()
                .to_string();
            Some(Flag {
                long: long.to_string(),
                short: arg.get_short(),
                takes_value,
                help,
            })
        })
        .collect()
}
