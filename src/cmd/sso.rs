//! `rolecall sso login` and `rolecall sso logout`: which login the person means, then the work
//! of `sso`.

use crate::cli::{SsoCommand, SsoLoginArgs, SsoLogoutArgs, SsoWhich};
use crate::env::Env;
use crate::error::{printable, Failure, Result};
use crate::profile::{Profiles, SsoLogin};
use crate::sso::login::Choices;

pub fn run(command: SsoCommand) -> Result<()> {
    match command {
        SsoCommand::Login(args) => login(args),
        SsoCommand::Logout(args) => logout(args),
    }
}

fn login(args: SsoLoginArgs) -> Result<()> {
    let env = Env::Process;
    let profiles = Profiles::load(&env)?;
    let (login, _) = chosen(&profiles, &env, &args.which)?;
    let choices = Choices {
        device_code: args.device_code,
        open_browser: !args.no_browser,
    };
    let token = crate::aws::net::block_on(crate::sso::log_in(&env, &login, &choices))?;
    eprintln!(
        "rolecall: logged in to {} until {}",
        login.describe(),
        crate::time::local_clock(token.expires())
    );
    Ok(())
}

fn logout(args: SsoLogoutArgs) -> Result<()> {
    let env = Env::Process;
    let profiles = Profiles::load(&env)?;
    let logins: Vec<SsoLogin> = if args.all {
        every_login(&profiles)
    } else {
        vec![chosen(&profiles, &env, &args.which)?.0]
    };
    let mut ended = 0;
    let mut first_failure = None;
    // One login that cannot be ended does not keep the others.
    for login in &logins {
        match crate::aws::net::block_on(crate::sso::log_out(&env, login)) {
            Ok(true) => ended += 1,
            Ok(false) => {}
            Err(failure) => {
                eprintln!(
                    "rolecall: {}",
                    crate::error::printable_lines(&failure.message)
                );
                first_failure.get_or_insert(failure.kind);
            }
        }
        forget_role_credentials(&profiles, login);
    }
    if let Some(kind) = first_failure {
        // Said above, each in its turn; the exit status is the first one's.
        return Err(Failure {
            kind,
            message: String::new(),
            code: None,
        });
    }
    let what = match logins.as_slice() {
        [one] => one.describe(),
        _ => format!("{ended} SSO login(s)"),
    };
    eprintln!("rolecall: logged out of {what}");
    Ok(())
}

/// The login the person named: a PROFILE (or `--profile`), an `--sso-session`, else
/// `$AWS_PROFILE`, else the config's only sso-session. The name is for messages.
fn chosen(profiles: &Profiles, env: &Env, which: &SsoWhich) -> Result<(SsoLogin, String)> {
    if let Some(session) = &which.sso_session {
        return Ok((profiles.sso_login_of_session(session)?, session.clone()));
    }
    let profile = which
        .profile
        .clone()
        .or_else(|| which.profile_flag.clone())
        .or_else(|| env.get("AWS_PROFILE"));
    if let Some(profile) = profile {
        return Ok((login_of_profile(profiles, env, &profile)?, profile));
    }
    match profiles.sso_sessions().as_slice() {
        [only] => Ok((profiles.sso_login_of_session(only)?, only.to_string())),
        [] => Err(Failure::usage(
            "name the SSO profile to log in with (no [sso-session …] in your config to default to)",
        )),
        many => Err(Failure::usage(format!(
            "name the SSO profile, or one of the sso-sessions with --sso-session: {}",
            printable(&many.join(", "))
        ))),
    }
}

/// The login a profile uses: its own, or for a role profile, that of the SSO profile its chain
/// starts from (so `sso login prod-admin` works for a role assumed from an SSO profile).
fn login_of_profile(profiles: &Profiles, env: &Env, name: &str) -> Result<SsoLogin> {
    let own = profiles.sso_login_of_profile(name);
    if own.is_ok() {
        return own;
    }
    match profiles.chain(env, name, &Default::default()) {
        Ok(crate::profile::ProfileChain {
            base: crate::profile::Base::Sso { login, .. },
            ..
        }) => Ok(login),
        _ => own,
    }
}

/// Every login the config names: its sso-sessions and its legacy SSO profiles.
fn every_login(profiles: &Profiles) -> Vec<SsoLogin> {
    let mut logins: Vec<SsoLogin> = profiles
        .sso_sessions()
        .into_iter()
        .filter_map(|name| profiles.sso_login_of_session(name).ok())
        .collect();
    for name in profiles.names() {
        if let Ok(login) = profiles.sso_login_of_profile(name) {
            if !logins.contains(&login) {
                logins.push(login);
            }
        }
    }
    logins
}

/// Removes the role credentials rolecall cached from profiles that use `login`.
fn forget_role_credentials(profiles: &Profiles, login: &SsoLogin) {
    let Some(dir) = crate::cache::directory() else {
        return;
    };
    let users: Vec<String> = profiles
        .names()
        .filter(|name| profiles.sso_login_of_profile(name).ok().as_ref() == Some(login))
        .map(|name| format!("|{}|", crate::profile::Base::sso_identity(name)))
        .collect();
    crate::cache::remove_where(&dir, |key| users.iter().any(|mark| key.contains(mark)));
}
