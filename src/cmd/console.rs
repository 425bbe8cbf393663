//! `rolecall console`: the AWS console in the browser, signed in as a target (resolved as
//! `assume` resolves it) or as the credentials this shell holds. Only a role's credentials can
//! sign in; the sign-in URL is a bearer credential for 15 minutes, so it goes to the browser
//! (through a private page, never its command line), or to stdout with `--url`, and nowhere else.

use crate::aws::signin::{self, Partition};
use crate::cli::{ConsoleArgs, ConsoleFlags, CredentialFlags};
use crate::console;
use crate::env::Env;
use crate::error::{printable, Failure, Result};
use crate::session::{Credentials, Origin};
use crate::shell::Shell;

pub fn run(args: ConsoleArgs) -> Result<()> {
    open(
        args.target.as_deref(),
        &args.console,
        &args.flags,
        None,
        false,
    )
}

/// Opens the console for `target` (none: this shell's credentials). With `--url` the URL goes
/// to stdout: as it is, or for `assume -c` (`shell` given) as code that prints it, since the
/// function evaluates what it captures.
pub fn open(
    target: Option<&str>,
    options: &ConsoleFlags,
    flags: &CredentialFlags,
    shell: Option<Shell>,
    quiet: bool,
) -> Result<()> {
    let env = Env::Process;
    // Everything the command line can get wrong is refused before any credentials are fetched.
    let service = options
        .service
        .as_deref()
        .map(console::service_named)
        .transpose()?;
    let destination = options
        .destination
        .as_deref()
        .map(console::checked_destination)
        .transpose()?;
    signin::endpoint(Partition::Aws)?;
    let limit = crate::aws::net::overall_timeout()?;
    let mut flags = flags.clone();
    let target = match target {
        Some("-") => Some(super::assume::previous_target(&env, &mut flags)?),
        other => other.map(String::from),
    };
    let held = match &target {
        Some(target) => {
            let request = super::request(target, &flags, &env)?;
            let session = crate::engine::obtain(&request)?;
            Held {
                credentials: session.credentials,
                origin: session.origin,
                region: session.region,
                what: format!("`{}`", printable(&session.target)),
                duration: request.overrides.duration_seconds,
            }
        }
        None => {
            if let Some(region) = &flags.region {
                crate::profile::validate::check_region(region)?;
            }
            super::refuse_target_flags(
                &flags,
                "the console opens with the credentials this shell holds, as they are",
            )?;
            let credentials = env.credentials().ok_or_else(|| {
                Failure::usage(
                    "this shell holds no credentials to sign in with: name a profile or role \
                     (`rolecall console PROFILE`)",
                )
            })?;
            let origin = match credentials.session_token {
                None => Origin::Keys,
                Some(_) => Origin::Other,
            };
            let what = env
                .get("ROLECALL_PROFILE")
                .map(|p| format!("`{}`", printable(&p)))
                .unwrap_or_else(|| "this shell's credentials".into());
            Held {
                credentials,
                origin,
                region: env.region(),
                what,
                duration: None,
            }
        }
    };
    // Whatever the profile says, keys without a session token are long-term ones (a
    // credential process may hand those out).
    if held.origin == Origin::Keys || held.credentials.session_token.is_none() {
        return Err(Failure::usage(format!(
            "{} cannot sign in to the console: long-term access keys, and the MFA sessions \
             made from them (GetSessionToken), cannot. Assume a role and open the console as \
             it: `rolecall console ROLE-PROFILE`",
            held.what
        )));
    }
    let region = flags
        .region
        .clone()
        .or(held.region.clone())
        .or_else(|| env.region())
        .unwrap_or_else(|| "us-east-1".into());
    crate::profile::validate::check_region(&region)?;
    let endpoint = signin::endpoint(Partition::of_region(&region))?;
    // AWS takes a console session length only from a role assumed straight from keys.
    let session_seconds = match held.origin {
        Origin::FirstHop => held.duration,
        _ => None,
    };
    let token = crate::aws::net::block_on(signin::signin_token(
        &endpoint,
        &held.credentials,
        session_seconds,
        limit,
    ))?;
    let destination = destination.unwrap_or_else(|| console::destination(service, &region));
    let login = signin::login_url(&endpoint, &token, &destination);
    let url = if options.logout_first {
        signin::logout_then(&endpoint, &login)
    } else {
        login
    };
    if options.url {
        return super::emit(&match shell {
            Some(shell) => shell.print_line(&url),
            None => format!("{url}\n"),
        });
    }
    let page = crate::browser::open(&url, &env, BROWSER_PATIENCE).map_err(|why| {
        Failure::local(format!(
            "could not open a browser ({}); `rolecall console --url …` prints the sign-in URL \
             instead (it signs anyone in for 15 minutes)",
            printable(&why)
        ))
    })?;
    if !page.remove_once_read(PAGE_PATIENCE) {
        return Err(Failure::local(format!(
            "the browser did not read the sign-in page within {} s, so it was removed; run \
             again, or `rolecall console --url …` prints the sign-in URL instead",
            PAGE_PATIENCE.as_secs()
        )));
    }
    if quiet {
        return Ok(());
    }
    eprintln!(
        "rolecall: opened the AWS console for {} in {}",
        held.what,
        printable(&region)
    );
    Ok(())
}

/// How long a `$BROWSER` that fails at once (no browser found) is waited for.
const BROWSER_PATIENCE: std::time::Duration = std::time::Duration::from_secs(2);

/// How long the private page waits for a browser that is starting to read it.
const PAGE_PATIENCE: std::time::Duration = std::time::Duration::from_secs(30);

/// The credentials to sign in with, and what the console needs to know of them.
struct Held {
    credentials: Credentials,
    origin: Origin,
    region: Option<String>,
    /// For messages.
    what: String,
    /// The console session asked for (`-d`), in seconds.
    duration: Option<i64>,
}
