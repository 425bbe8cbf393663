//! `rolecall assume`: credentials for a target, printed as code for the calling shell to eval
//! (or as JSON).

use crate::cli::AssumeArgs;
use crate::env::Env;
use crate::error::{printable, Failure, Result};
use crate::session::variables_to_unset;
use crate::shell::{Output, Shell};
use crate::{engine, time};
use std::io::IsTerminal;

pub fn run(args: AssumeArgs) -> Result<()> {
    let env = Env::Process;
    if args.github_env {
        return for_later_steps(&args, &env);
    }
    // JSON needs no shell; shell code needs one, named or taken from $SHELL.
    let output = match (args.json, args.shell) {
        (true, _) => Output::Json,
        (false, Some(shell)) => Output::Shell(shell),
        (false, None) => Output::Shell(shell_from_environment(&env)?),
    };
    if args.unset {
        return super::emit(&output.render(&variables_to_unset(&env), &[]));
    }
    if args.console_flags.any() && !args.console {
        return Err(Failure::usage(
            "--service, --destination, --url and --logout-first open the console: add -c",
        ));
    }
    if args.console {
        // The shell keeps what it holds: only a `--url` is handed back, as code that prints it.
        let shell = match output {
            Output::Shell(shell) => Some(shell),
            Output::Json => None,
        };
        return super::console::open(
            args.target.as_deref(),
            &args.console_flags,
            &args.flags,
            shell,
            args.quiet,
        );
    }
    if let (true, Output::Shell(shell)) = (std::io::stdout().is_terminal(), output) {
        // Secrets printed here would land on the screen and in scrollback, not in the shell.
        return Err(Failure::usage(if super::integration_loaded_here(&env) {
            loaded_explanation(args.target.as_deref())
        } else {
            setup_explanation(shell)
        }));
    }
    let current = env.get("ROLECALL_PROFILE").map(|profile| {
        Recorded {
            target: profile,
            source_profile: env.get("ROLECALL_SOURCE_PROFILE"),
        }
        .to_string()
    });
    let mut flags = args.flags.clone();
    let target = match args.target.as_deref() {
        Some("-") => previous_target(&env, &mut flags)?,
        Some(target) => target.to_string(),
        None if crate::picker::available() && !args.flags.no_input => pick_profile(&env)?,
        None => return Err(Failure::usage("name a profile or role ARN to assume")),
    };
    let session = engine::obtain(&super::request(&target, &flags, &env)?)?;
    let now_holding = Recorded {
        target: session.target.clone(),
        source_profile: session.source_profile.clone(),
    }
    .to_string();
    // Re-assuming the current target keeps the older previous one, so `assume -` still moves.
    let previous = if current.as_deref() == Some(now_holding.as_str()) {
        env.get("ROLECALL_PREVIOUS")
    } else {
        current
    };
    let variables = session.variables(previous.as_deref());
    super::emit(&output.render(&variables_to_unset(&env), &variables))?;
    if !args.quiet {
        // A closed stderr must not turn a done assume into a failure.
        use std::io::Write;
        let _ = writeln!(std::io::stderr(), "{}", session.summary(time::now()));
    }
    Ok(())
}

/// `assume --github-env`: the variables go to `$GITHUB_ENV` for the job's later steps, and
/// only the runner's masks for the secrets to stdout.
fn for_later_steps(args: &AssumeArgs, env: &Env) -> Result<()> {
    let target = match args.target.as_deref() {
        None | Some("-") => {
            return Err(Failure::usage(
                "--github-env needs a TARGET: a profile name or a role ARN",
            ))
        }
        Some(target) => target,
    };
    if std::io::stdout().is_terminal() {
        return Err(Failure::usage(
            "--github-env prints the secrets for GitHub's runner to mask, which would show them \
             on this terminal; it is for a step of a GitHub Actions job",
        ));
    }
    let session = engine::obtain(&super::request(target, &args.flags, env)?)?;
    let masks =
        crate::webid::github::hand_over(env, &session.variables(None), &session.credentials)?;
    super::emit(&masks)?;
    if !args.quiet {
        use std::io::Write;
        let _ = writeln!(std::io::stderr(), "{}", session.summary(time::now()));
    }
    Ok(())
}

/// The target `-` stands for: the previous one of this shell, with the source profile it was
/// assumed from unless `flags` name another.
pub(super) fn previous_target(
    env: &Env,
    flags: &mut crate::cli::CredentialFlags,
) -> Result<String> {
    let previous = env
        .get("ROLECALL_PREVIOUS")
        .ok_or_else(|| Failure::usage("this shell has no previous target for `-`"))?;
    let recorded = Recorded::parse(&previous);
    if flags.source_profile.is_none() && flags.web_identity.is_none() {
        flags.source_profile = recorded.source_profile;
    }
    Ok(recorded.target)
}

/// A target as `ROLECALL_PREVIOUS` records it: the target, and for a role ARN assumed from a
/// named profile, that profile after one space (neither a profile name nor an ARN holds one).
struct Recorded {
    target: String,
    source_profile: Option<String>,
}

impl Recorded {
    fn parse(text: &str) -> Recorded {
        match text.split_once(' ') {
            Some((target, source)) => Recorded {
                target: target.to_string(),
                source_profile: Some(source.to_string()),
            },
            None => Recorded {
                target: text.to_string(),
                source_profile: None,
            },
        }
    }
}

impl std::fmt::Display for Recorded {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.source_profile {
            Some(source) => write!(f, "{} {source}", self.target),
            None => f.write_str(&self.target),
        }
    }
}

fn pick_profile(env: &Env) -> Result<String> {
    let index = crate::profile::index::ProfileIndex::load(env)?;
    let choices: Vec<crate::picker::Choice> = index
        .list()
        .into_iter()
        .map(|profile| crate::picker::Choice {
            name: profile.name,
            detail: profile.description.or(profile.role_arn).unwrap_or_default(),
        })
        .collect();
    if choices.is_empty() {
        return Err(Failure::usage(
            "no profiles to pick from: add some to ~/.aws/config",
        ));
    }
    crate::picker::pick(&choices)
}

fn shell_from_environment(env: &Env) -> Result<Shell> {
    Shell::from_login_shell(&env.get("SHELL").unwrap_or_default()).map_err(|other| {
        Failure::usage(format!(
            "rolecall speaks bash, zsh, fish and nushell, not {}: pass --shell or --json",
            printable(&other)
        ))
    })
}

/// For `rolecall assume X` typed in a shell that has the integration: the function is what
/// changes the shell.
fn loaded_explanation(target: Option<&str>) -> String {
    let example = match target {
        Some(target) => format!("assume {}", printable(target)),
        None => "assume".into(),
    };
    format!(
        "`rolecall assume` prints shell code that sets credentials, so it shows nothing on a \
         terminal.\n  This shell has the integration: run `{example}` (or the name you gave it \
         with `rolecall init --cmd`)"
    )
}

fn setup_explanation(shell: Shell) -> String {
    format!(
        "`rolecall assume` prints shell code that sets credentials, so it shows nothing on a \
         terminal.\n  Add this line to {}, open a new shell, then run `assume PROFILE`:\n  {}",
        shell.rc_file(),
        shell.init_line()
    )
}
