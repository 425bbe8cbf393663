//! One module per subcommand; each turns parsed arguments into output and a `Result`. This is
//! the only layer that knows the command line's types: it turns flags into an engine request.

pub mod assume;
pub mod completions;
pub mod console;
pub mod credential_process;
pub mod doctor;
pub mod eks;
pub mod exec;
pub mod init;
pub mod keys;
pub mod manpage;
pub mod profiles;
pub mod prompt;
pub mod sso;
pub mod status;

use crate::cli::CredentialFlags;
use crate::engine::{CachePolicy, MfaInput, Request};
use crate::env::Env;
use crate::error::{Failure, Result};
use crate::profile::TokenSource;
use crate::profile::{validate, Overrides};
use std::io::Write;

/// The engine request for `target` and the shared credential flags, each value checked first.
pub fn request<'a>(target: &str, flags: &CredentialFlags, env: &'a Env) -> Result<Request<'a>> {
    let duration_seconds = flags
        .duration
        .as_deref()
        .map(validate::duration_flag)
        .transpose()?;
    if let Some(id) = &flags.external_id {
        validate::check_external_id(id)?;
    }
    if let Some(region) = &flags.region {
        validate::check_region(region)?;
    }
    if let Some(name) = &flags.session_name {
        validate::check_session_name(name)?;
    }
    let web_identity = flags
        .web_identity
        .as_deref()
        .map(|source| TokenSource::parse(source, flags.audience.as_deref()))
        .transpose()?;
    Ok(Request {
        target: target.to_string(),
        overrides: Overrides {
            duration_seconds,
            region: flags.region.clone(),
            session_name: flags.session_name.clone(),
            external_id: flags.external_id.clone(),
            source_profile: flags.source_profile.clone(),
            web_identity,
        },
        cache: CachePolicy {
            read: !flags.no_cache && !flags.refresh,
            write: !flags.no_cache,
        },
        mfa: MfaInput {
            code: flags.mfa_token.clone(),
            may_ask: !flags.no_input,
        },
        env,
    })
}

/// The flags that shape how credentials are fetched mean nothing for the credentials a shell
/// already holds: said, rather than ignored.
pub fn refuse_target_flags(flags: &CredentialFlags, without_target: &str) -> Result<()> {
    let given: Vec<&str> = [
        ("-d/--duration", flags.duration.is_some()),
        ("--mfa-token", flags.mfa_token.is_some()),
        ("--session-name", flags.session_name.is_some()),
        ("--external-id", flags.external_id.is_some()),
        ("--source-profile", flags.source_profile.is_some()),
        ("--web-identity", flags.web_identity.is_some()),
        ("--no-cache", flags.no_cache),
        ("--refresh", flags.refresh),
    ]
    .into_iter()
    .filter_map(|(name, set)| set.then_some(name))
    .collect();
    if given.is_empty() {
        return Ok(());
    }
    Err(Failure::usage(format!(
        "{} shape how a TARGET's credentials are fetched; without a TARGET {without_target}",
        given.join(", ")
    )))
}

/// Whether the shell that started this rolecall has the integration loaded: it exports its own
/// process ID as `ROLECALL_SHELL_PID` when it loads it.
pub fn integration_loaded_here(env: &Env) -> bool {
    // SAFETY: getppid has no preconditions and cannot fail.
    let parent = unsafe { libc::getppid() };
    env.get("ROLECALL_SHELL_PID")
        .and_then(|p| p.parse::<i32>().ok())
        == Some(parent)
}

/// Writes the whole output at once; a closed pipe ends the command quietly.
pub fn emit(text: &str) -> Result<()> {
    let mut stdout = std::io::stdout().lock();
    match stdout
        .write_all(text.as_bytes())
        .and_then(|_| stdout.flush())
    {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(()),
        Err(e) => Err(Failure::local(format!("cannot write the output: {e}"))),
    }
}
