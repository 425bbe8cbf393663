//! `rolecall status`: what this shell holds, read from its environment; exit 0 only while a valid
//! session is active, so scripts can test it. `--verify` asks STS who the credentials are.

use crate::cli::StatusArgs;
use crate::env::Env;
use crate::env::EnvSession;
use crate::error::{printable, Failure, Result};
use crate::time;
use serde_json::json;

pub fn run(args: StatusArgs) -> Result<()> {
    let now = time::now();
    let env = Env::Process;
    let state = EnvSession::read(&env);
    let has_credentials = env.credentials().is_some();
    let Some(state) = state.filter(|_| has_credentials) else {
        return Err(quiet_unless(
            args.quiet,
            "no rolecall session in this shell: run assume PROFILE",
        ));
    };
    let left = state.seconds_left(now);
    let valid = left.is_none_or(|l| l > 0);
    let identity = if args.verify && valid {
        Some(verify(&env, &state)?)
    } else {
        None
    };
    // Parsing the config only for what is shown: `-q` answers from the environment alone.
    let sso_login = (!args.quiet)
        .then(|| sso_login_expiry(&env, &state.profile))
        .flatten();
    if args.json {
        let document = json!({
            "sso_login_expiration": sso_login.as_ref().map(|(_, expires, _)| time::rfc3339(*expires)),
            "profile": state.profile,
            "role_arn": state.role_arn,
            "account": state.account(),
            "region": state.region,
            "expiration": state.expires.map(time::rfc3339),
            "seconds_left": left,
            "valid": valid,
            "identity": identity,
        });
        super::emit(&(document.to_string() + "\n"))?;
    } else if !args.quiet {
        let mut text = String::new();
        let mut row = |label: &str, value: &str| {
            if !value.is_empty() {
                text.push_str(&format!("{label:<9}{}\n", printable(value)));
            }
        };
        row("profile", &state.profile);
        row("role", state.role_arn.as_deref().unwrap_or(""));
        row("account", state.account().unwrap_or(""));
        row("region", state.region.as_deref().unwrap_or(""));
        if let (Some(expires), Some(left)) = (state.expires, left) {
            row(
                "expires",
                &format!(
                    "{} ({})",
                    time::local_clock(expires),
                    time::rfc3339(expires)
                ),
            );
            row("left", &time::format_duration(left));
        }
        if let Some((what, expires, renewable)) = &sso_login {
            row(
                "sso",
                &format!(
                    "{what}, login until {} ({} left{})",
                    time::local_clock(*expires),
                    time::format_duration(expires - now),
                    if *renewable {
                        "; renewed silently with its refresh token"
                    } else {
                        ""
                    }
                ),
            );
        }
        row("identity", identity.as_deref().unwrap_or(""));
        super::emit(&text)?;
    }
    if valid {
        Ok(())
    } else {
        Err(quiet_unless(
            args.quiet,
            &format!(
                "the session of {} has expired: run assume {} again",
                printable(&state.profile),
                printable(&state.profile)
            ),
        ))
    }
}

/// For a session from an SSO profile (directly or down its chain): the login in words, when its
/// token expires, and whether a refresh token renews it.
fn sso_login_expiry(env: &Env, profile: &str) -> Option<(String, i64, bool)> {
    let profiles = crate::profile::Profiles::load(env).ok()?;
    let chain = profiles.chain(env, profile, &Default::default()).ok()?;
    let crate::profile::Base::Sso { login, .. } = chain.base else {
        return None;
    };
    let token = crate::sso::token::read(&crate::sso::token_path(env, &login).ok()?)?;
    Some((
        login.describe(),
        token.expires(),
        token.refresh_token.is_some(),
    ))
}

/// An exit status of 1, with a message unless `-q`.
fn quiet_unless(quiet: bool, message: &str) -> Failure {
    if quiet {
        Failure::silent()
    } else {
        Failure::local(message)
    }
}

fn verify(env: &Env, state: &EnvSession) -> Result<String> {
    let credentials = state
        .credentials(env)
        .ok_or_else(|| Failure::local("no credentials in this shell to verify"))?;
    let sts = crate::aws::sts::Sts::new(state.region.as_deref())?;
    crate::aws::net::block_on(sts.get_caller_identity(&credentials, &state.profile))
}
