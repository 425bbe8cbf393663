//! `rolecall assume`: credentials for a target, printed as code for the calling shell to eval.

use crate::cli::{AssumeArgs, ShellKind};
use crate::error::{printable, Failure, Result};
use crate::session::{env_value, MANAGED_VARIABLES};
use crate::{engine, shell, time};
use std::io::IsTerminal;

pub fn run(args: AssumeArgs) -> Result<()> {
    // JSON needs no shell; shell code needs one, named or taken from $SHELL.
    let shell_kind = match (args.json, args.shell) {
        (true, _) => None,
        (false, Some(kind)) => Some(kind),
        (false, None) => Some(shell_from_environment()?),
    };
    if let (true, Some(kind)) = (args.unset, shell_kind) {
        return super::emit(&shell::render(kind, MANAGED_VARIABLES, &[]));
    }
    if let (true, Some(kind)) = (std::io::stdout().is_terminal(), shell_kind) {
        // Secrets printed here would land on the screen and in scrollback, not in the shell.
        return Err(Failure::usage(setup_explanation(kind)));
    }
    let current = env_value("ROLECALL_PROFILE");
    let target = match args.target.as_deref() {
        Some("-") => env_value("ROLECALL_PREVIOUS")
            .ok_or_else(|| Failure::usage("this shell has no previous target for `assume -`"))?,
        Some(target) => target.to_string(),
        None if crate::picker::available() && !args.flags.no_input => pick_profile()?,
        None => return Err(Failure::usage("name a profile or role ARN to assume")),
    };
    // Re-assuming the current target keeps the older previous one, so `assume -` still moves.
    let previous = if current.as_deref() == Some(target.as_str()) {
        env_value("ROLECALL_PREVIOUS")
    } else {
        current
    };
    let session = engine::obtain(&target, &args.flags)?;
    let variables = session.variables(previous.as_deref());
    let output = if let Some(kind) = shell_kind {
        shell::render(kind, MANAGED_VARIABLES, &variables)
    } else {
        let object: serde_json::Map<String, serde_json::Value> = variables
            .into_iter()
            .map(|(name, value)| (name.to_string(), serde_json::Value::String(value)))
            .collect();
        serde_json::Value::Object(object).to_string() + "\n"
    };
    super::emit(&output)?;
    if !args.quiet {
        // A closed stderr must not turn a done assume into a failure.
        use std::io::Write;
        let _ = writeln!(std::io::stderr(), "{}", session.summary(time::now()));
    }
    Ok(())
}

fn pick_profile() -> Result<String> {
    let choices: Vec<crate::picker::Choice> = crate::profile_index::ProfileIndex::load()?
        .list()
        .into_iter()
        .map(|profile| crate::picker::Choice {
            detail: profile.description.or(profile.role_arn).unwrap_or_default(),
            name: profile.name,
        })
        .collect();
    if choices.is_empty() {
        return Err(Failure::usage(
            "no profiles to pick from: add some to ~/.aws/config",
        ));
    }
    crate::picker::pick(&choices)
}

fn shell_from_environment() -> Result<ShellKind> {
    let shell = std::env::var("SHELL").unwrap_or_default();
    match shell.rsplit('/').next().unwrap_or("") {
        "zsh" => Ok(ShellKind::Zsh),
        "fish" => Ok(ShellKind::Fish),
        "bash" | "sh" | "" => Ok(ShellKind::Bash),
        other => Err(Failure::usage(format!(
            "rolecall speaks bash, zsh and fish, not {}: pass --shell or --json",
            printable(other)
        ))),
    }
}

fn setup_explanation(shell_kind: ShellKind) -> String {
    let (line, file) = match shell_kind {
        ShellKind::Bash => ("eval \"$(rolecall init bash)\"", "~/.bashrc"),
        ShellKind::Zsh => ("eval \"$(rolecall init zsh)\"", "~/.zshrc"),
        ShellKind::Fish => ("rolecall init fish | source", "~/.config/fish/config.fish"),
    };
    format!(
        "`rolecall assume` prints shell code that sets credentials, so it shows nothing on a \
         terminal.\n  Add this line to {file}, open a new shell, then run `assume PROFILE`:\n  {}",
        printable(line)
    )
}
