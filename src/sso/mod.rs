//! IAM Identity Center without the AWS CLI: logging in (`login`), keeping the token where and
//! how the AWS CLI keeps it (`token`), so the CLI, botocore and the SDKs share one login,
//! renewing it silently with its refresh token, and logging out. The OIDC service is reached
//! through the SDK's own client (`oidc`).

pub mod login;
pub mod oidc;
pub mod populate;
pub mod portal;
pub mod start;
pub mod token;

use crate::aws::net::{checked_endpoint, overall_timeout, SSO_ENDPOINT_VARIABLES};
use crate::env::Env;
use crate::error::{printable, Failure, Result};
use crate::profile::SsoLogin;
use login::{Choices, REGISTERED_REDIRECT};
use oidc::{Grant, Issued, Oidc, Refusal, Registration};
use std::path::PathBuf;
use token::Token;

/// A token with less than this left is renewed (the cache's own margin: an SDK treats it as
/// expired then).
const FRESH_SECONDS: i64 = crate::cache::MINIMUM_SECONDS_LEFT;

/// A registration is reused only with this much of it left, so it does not lapse mid-login.
const REGISTRATION_MARGIN_SECONDS: i64 = 60 * 60;

/// Where the token of `login` lives.
pub fn token_path(env: &Env, login: &SsoLogin) -> Result<PathBuf> {
    token::directory(env)
        .map(|dir| dir.join(token::file_name(login.cache_key())))
        .ok_or_else(|| Failure::usage("no home directory to keep the SSO token in"))
}

/// The token of `login` when it is good for a while yet.
pub fn fresh_token(env: &Env, login: &SsoLogin) -> Option<Token> {
    let token = token::read(&token_path(env, login).ok()?)?;
    (token.expires() - crate::time::now() > FRESH_SECONDS).then_some(token)
}

/// The token of `login` while it has not expired: after `ensure_login`, which keeps a token
/// that is close to its end when the service cannot renew it.
pub fn usable_token(env: &Env, login: &SsoLogin) -> Option<Token> {
    let token = token::read(&token_path(env, login).ok()?)?;
    (token.expires() > crate::time::now()).then_some(token)
}

/// Logs in to `login` as the person chooses and writes the token file.
pub async fn log_in(env: &Env, login: &SsoLogin, choices: &Choices) -> Result<Token> {
    let path = token_path(env, login)?;
    let oidc = Oidc::new(&login.region)?;
    let device = login::uses_device_code(login, choices, env);
    let purpose = Purpose::of(login, device);
    let saved_path = path.with_file_name(token::registration_file_name(&purpose.key()));
    // A registration is reused until an hour before it expires, but only one made for this
    // very flow, start URL, region and scopes.
    let reusable = token::read_private::<token::SavedRegistration>(&saved_path).and_then(|saved| {
        let expires = crate::time::parse_rfc3339(&saved.expires_at)?;
        (expires - crate::time::now() > REGISTRATION_MARGIN_SECONDS).then_some(Registration {
            client_id: saved.client_id,
            client_secret: saved.client_secret,
            expires,
        })
    });
    let reused = reusable.is_some();
    let mut registration = match reusable {
        Some(registration) => registration,
        None => register(&oidc, login, &purpose, &saved_path).await?,
    };
    let mut issued = run_flow(&oidc, login, &registration, device, choices, env).await;
    if reused && matches!(issued, Err(Refusal::InvalidClient)) {
        registration = register(&oidc, login, &purpose, &saved_path).await?;
        issued = run_flow(&oidc, login, &registration, device, choices, env).await;
    }
    let issued = issued.map_err(|refusal| refused(refusal, login))?;
    let token = token_from(login, &registration, issued, None);
    token::write(&path, &token).map_err(Failure::local)?;
    Ok(token)
}

/// For a command the person ran to use a login (`sso populate`): a fresh token as it is, an
/// old one renewed silently, else a login as `sso login` makes it, when someone can answer it:
/// a terminal, a `$BROWSER` of theirs, or a page they asked to be shown (`--device-code`,
/// `--no-browser`). A script with none of those is told how instead of left waiting.
pub async fn log_in_unless_fresh(
    env: &Env,
    login: &SsoLogin,
    choices: &Choices,
    command_words: &str,
) -> Result<()> {
    if fresh_token(env, login).is_some() || refresh(env, login).await?.is_some() {
        return Ok(());
    }
    use std::io::IsTerminal;
    let someone_there = std::io::stderr().is_terminal()
        || env.get_os("BROWSER").is_some()
        || choices.device_code
        || !choices.open_browser;
    if !someone_there {
        return Err(Failure::aws(format!(
            "the SSO login of {} has expired or was never made: run `rolecall sso login {}`",
            login.describe(),
            printable(command_words)
        )));
    }
    log_in(env, login, choices).await.map(drop)
}

/// What a registration is made for: the flow and its grants, and the login's own settings.
struct Purpose<'a> {
    login: &'a SsoLogin,
    grants: &'static [&'static str],
    redirect: Option<&'static str>,
}

impl<'a> Purpose<'a> {
    fn of(login: &'a SsoLogin, device: bool) -> Purpose<'a> {
        let (grants, redirect): (&'static [&'static str], _) = match (device, &login.session) {
            (false, _) => (
                &["authorization_code", "refresh_token"],
                Some(REGISTERED_REDIRECT),
            ),
            // An sso-session's device login can be refreshed too, as the AWS CLI registers it.
            (true, Some(_)) => (
                &[
                    "urn:ietf:params:oauth:grant-type:device_code",
                    "refresh_token",
                ],
                None,
            ),
            (true, None) => (&[], None),
        };
        Purpose {
            login,
            grants,
            redirect,
        }
    }

    /// The registration's identity: everything a reused one must have been made for.
    fn key(&self) -> String {
        serde_json::json!({
            "tool": "rolecall",
            "startUrl": self.login.start_url,
            "region": self.login.region,
            "scopes": self.login.scopes,
            "session": self.login.session,
            "grantTypes": self.grants,
        })
        .to_string()
    }
}

async fn run_flow(
    oidc: &Oidc,
    login: &SsoLogin,
    registration: &Registration,
    device: bool,
    choices: &Choices,
    env: &Env,
) -> std::result::Result<Issued, Refusal> {
    if device {
        login::with_device_code(oidc, login, registration, choices, env).await
    } else {
        login::with_pkce(oidc, login, registration.clone(), choices, env).await
    }
}

async fn register(
    oidc: &Oidc,
    login: &SsoLogin,
    purpose: &Purpose<'_>,
    saved_path: &std::path::Path,
) -> Result<Registration> {
    let label: String = login
        .cache_key()
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' {
                c
            } else {
                '_'
            }
        })
        .take(64)
        .collect();
    let registration = oidc
        .register(
            &label,
            &login.scopes,
            &login.start_url,
            purpose.grants,
            purpose.redirect,
        )
        .await?;
    let saved = token::SavedRegistration {
        client_id: registration.client_id.clone(),
        client_secret: registration.client_secret.clone(),
        expires_at: crate::time::rfc3339(registration.expires),
    };
    // Not keeping it only costs a registration next time.
    let _ = token::write_private(saved_path, &saved);
    Ok(registration)
}

/// Renews the token of `login` with its refresh token, when it has one and a registration
/// that is still good. `None` when it cannot be renewed that way (a person must log in).
pub async fn refresh(env: &Env, login: &SsoLogin) -> Result<Option<Token>> {
    let path = token_path(env, login)?;
    let Some(old) = token::read(&path) else {
        return Ok(None);
    };
    let (Some(refresh_token), Some(registration)) =
        (old.refresh_token.clone(), registration_of(&old))
    else {
        return Ok(None);
    };
    let oidc = Oidc::new(&login.region)?;
    match oidc
        .create_token(&registration, &Grant::Refresh(&refresh_token))
        .await
    {
        Ok(issued) => {
            let token = token_from(login, &registration, issued, Some(refresh_token));
            token::write(&path, &token).map_err(Failure::local)?;
            Ok(Some(token))
        }
        // The service could not be asked: a token not yet expired still serves.
        Err(Refusal::Failed(failure)) => {
            if old.expires() > crate::time::now() {
                Ok(Some(old))
            } else {
                Err(failure)
            }
        }
        // Any refusal means a new login, unless another tool renewed the token meanwhile (its
        // refresh token may have replaced the one this process read).
        Err(_) => Ok(token::read(&path)
            .filter(|now| now.access_token != old.access_token)
            .filter(|now| now.expires() - crate::time::now() > FRESH_SECONDS)),
    }
}

/// Makes sure `login` has a token good for a while, before an SSO profile's credentials are
/// fetched: a fresh one is used as it is, an old one renewed silently, and a missing or
/// unrenewable one logged in anew when a person is there to do it (`may_ask` and a terminal).
/// Two processes needing the same login take turns: the second finds the first's token.
pub async fn ensure_login(env: &Env, login: &SsoLogin, profile: &str, may_ask: bool) -> Result<()> {
    if fresh_token(env, login).is_some() {
        return Ok(());
    }
    let cache_dir = crate::cache::directory();
    let patience = std::time::Duration::from_secs(if may_ask { 600 } else { 3 });
    let _turn = cache_dir.as_deref().and_then(|dir| {
        crate::cache::lock(
            dir,
            &format!("sso-{}", token::file_name(login.cache_key())),
            patience,
        )
    });
    if fresh_token(env, login).is_some() || refresh(env, login).await?.is_some() {
        return Ok(());
    }
    use std::io::IsTerminal;
    let person_there = may_ask && std::io::stderr().is_terminal() && std::io::stdin().is_terminal();
    if !person_there {
        let path = token_path(env, login)?;
        let ignored = if path.exists() && token::read(&path).is_none() {
            format!(
                " (its token file {} is not a private file of yours, so it was not used)",
                printable(&path.to_string_lossy())
            )
        } else {
            String::new()
        };
        return Err(Failure::aws(format!(
            "the SSO login of {} has expired or was never made{ignored}: run `rolecall sso \
             login {}`",
            login.describe(),
            printable(profile)
        )));
    }
    eprintln!(
        "rolecall: the SSO login of {} has expired or was never made; logging in",
        login.describe()
    );
    let choices = Choices {
        device_code: false,
        open_browser: true,
    };
    log_in(env, login, &choices).await.map(drop)
}

/// Ends `login`: the portal's Logout with its token (when there is one), then the token file is
/// removed. A portal that cannot be reached does not keep the file: the person asked to end it.
pub async fn log_out(env: &Env, login: &SsoLogin) -> Result<bool> {
    let path = token_path(env, login)?;
    let Some(token) = token::read(&path) else {
        let existed = path.exists();
        let _ = std::fs::remove_file(&path);
        return Ok(existed);
    };
    if let Err(why) = portal_logout(login, &token.access_token).await {
        eprintln!("rolecall: warning: {why}; the token is removed here anyway");
    }
    std::fs::remove_file(&path).map_err(|e| {
        Failure::local(format!(
            "cannot remove {}: {e}",
            printable(&path.to_string_lossy())
        ))
    })?;
    Ok(true)
}

async fn portal_logout(login: &SsoLogin, access_token: &str) -> std::result::Result<(), String> {
    let timeout = overall_timeout().map_err(|f| f.message)?;
    let endpoint = checked_endpoint(SSO_ENDPOINT_VARIABLES).map_err(|f| f.message)?;
    let mut builder = aws_sdk_sso::Config::builder()
        .behavior_version(aws_sdk_sso::config::BehaviorVersion::latest())
        .region(aws_sdk_sso::config::Region::new(login.region.clone()))
        .retry_config(crate::aws::net::retries())
        .timeout_config(crate::aws::net::time_limits(timeout));
    if let Some(url) = &endpoint {
        builder = builder.endpoint_url(url.clone());
    }
    let client = aws_sdk_sso::Client::from_conf(builder.build());
    client
        .logout()
        .access_token(access_token)
        .send()
        .await
        .map(drop)
        .map_err(|e| {
            use aws_sdk_sso::error::ProvideErrorMetadata;
            let code = e.code().unwrap_or("no answer");
            format!(
                "the SSO portal's Logout for {} failed ({})",
                login.describe(),
                printable(code)
            )
        })
}

/// The registration a token file carries, for its refresh token, when it has not expired.
fn registration_of(token: &Token) -> Option<Registration> {
    let expires = token.registration_expires()?;
    if expires <= crate::time::now() {
        return None;
    }
    Some(Registration {
        client_id: token.client_id.clone()?,
        client_secret: token.client_secret.clone()?,
        expires,
    })
}

fn token_from(
    login: &SsoLogin,
    registration: &Registration,
    issued: Issued,
    kept_refresh_token: Option<String>,
) -> Token {
    let now = crate::time::now();
    Token {
        start_url: Some(login.start_url.clone()),
        region: Some(login.region.clone()),
        access_token: issued.access_token,
        expires_at: crate::time::rfc3339(now + issued.expires_in),
        client_id: Some(registration.client_id.clone()),
        client_secret: Some(registration.client_secret.clone()),
        registration_expires_at: Some(crate::time::rfc3339(registration.expires)),
        refresh_token: issued.refresh_token.or(kept_refresh_token),
    }
}

/// A token call's refusal, said for a person.
fn refused(refusal: Refusal, login: &SsoLogin) -> Failure {
    let what = login.describe();
    match refusal {
        Refusal::Failed(failure) => failure,
        Refusal::Denied => Failure::aws(format!(
            "the sign-in to {what} was declined in the browser; nothing was saved"
        )),
        Refusal::Expired | Refusal::Pending | Refusal::SlowDown => Failure::aws(format!(
            "the sign-in to {what} was not approved in time; run `rolecall sso login` again"
        )),
        Refusal::InvalidGrant => Failure::aws(format!(
            "IAM Identity Center no longer accepts this sign-in to {what}; run `rolecall sso \
             login` again"
        )),
        Refusal::InvalidClient => Failure::aws(format!(
            "IAM Identity Center does not know rolecall's registration for {what}; run \
             `rolecall sso login` again"
        )),
    }
}
