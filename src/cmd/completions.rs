//! `rolecall completions`: the completion registration for the binary alone, for shells that
//! load completions from files (the integration from `rolecall init` includes its own). The
//! candidates come from the binary at Tab time, through clap_complete's dynamic engine.

use crate::cli::CompletionsArgs;
use crate::error::{Failure, Result};
use crate::shell::Shell;
use clap_complete::env::Shells;

pub fn script(shell: Shell) -> Result<String> {
    if shell == Shell::Nu {
        // clap's engine has no nushell protocol; the integration declares the function's
        // flags and asks the binary for values itself.
        return Err(Failure::usage(
            "nushell's completion comes with its integration: `rolecall init nu`",
        ));
    }
    let shells = Shells::builtins();
    let completer = shells
        .completer(shell.name())
        .ok_or_else(|| Failure::usage(format!("no completion for {}", shell.name())))?;
    let mut buffer = Vec::new();
    completer
        .write_registration(
            crate::cli::COMPLETION_VARIABLE,
            "rolecall",
            "rolecall",
            "rolecall",
            &mut buffer,
        )
        .map_err(|e| Failure::local(format!("cannot write the completion script: {e}")))?;
    Ok(String::from_utf8_lossy(&buffer).into_owned())
}

pub fn run(args: CompletionsArgs) -> Result<()> {
    super::emit(&script(args.shell)?)
}
