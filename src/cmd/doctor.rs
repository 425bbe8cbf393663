//! `rolecall doctor`: the checks behind "the CLI is not using the credentials I expect", each
//! finding with what to do about it. Exit 0 when nothing is wrong, 1 otherwise.

use crate::cli::DoctorArgs;
use crate::env::Env;
use crate::env::EnvSession;
use crate::error::{printable, Failure, Result};
use crate::profile::{Overrides, Profiles, ENVIRONMENT_KEYS_MISSING};
use crate::shell::Shell;
use crate::time;
use std::os::unix::fs::MetadataExt;

#[derive(PartialEq, Eq, PartialOrd, Ord, Clone, Copy)]
enum Level {
    Ok,
    Warn,
    Problem,
}

struct Report {
    lines: Vec<(Level, String)>,
}

impl Report {
    fn add(&mut self, level: Level, text: impl Into<String>) {
        self.lines.push((level, text.into()));
    }

    fn worst(&self) -> Level {
        self.lines
            .iter()
            .map(|(l, _)| *l)
            .max()
            .unwrap_or(Level::Ok)
    }

    fn render(&self) -> String {
        self.lines
            .iter()
            .map(|(level, text)| {
                let tag = match level {
                    Level::Ok => "ok     ",
                    Level::Warn => "warn   ",
                    Level::Problem => "problem",
                };
                // Findings quote names and paths from outside: shown through the one filter.
                format!("{tag} {}\n", crate::error::printable_lines(text))
            })
            .collect()
    }
}

pub fn run(args: DoctorArgs) -> Result<()> {
    let env = Env::Process;
    let mut report = Report { lines: Vec::new() };
    check_environment(&mut report, &env, args.profile.as_deref());
    check_integration(&mut report, &env);
    let profiles = check_config(&mut report, &env, args.profile.as_deref());
    check_cache(&mut report);
    if let Some(profiles) = &profiles {
        check_sso(&mut report, &env, profiles);
        check_keys(&mut report, profiles);
    }
    if args.online {
        check_online(&mut report, &env);
    }
    super::emit(&report.render())?;
    if report.worst() == Level::Problem {
        return Err(Failure::silent());
    }
    Ok(())
}

fn check_environment(report: &mut Report, env: &Env, profile: Option<&str>) {
    let keys = env.get("AWS_ACCESS_KEY_ID").is_some();
    let rolecall = EnvSession::read(env);
    match (&rolecall, keys) {
        (Some(session), true) => {
            let left = session.seconds_left(time::now());
            match left {
                Some(l) if l <= 0 => report.add(
                    Level::Problem,
                    format!(
                        "the session of {} in this shell expired {} ago: run assume {0} again",
                        printable(&session.profile),
                        time::format_duration(-l)
                    ),
                ),
                Some(l) if l < crate::cache::MINIMUM_SECONDS_LEFT => report.add(
                    Level::Warn,
                    format!(
                        "the session of {} expires in {}: run assume {0} (or load the \
                         integration with --auto-refresh)",
                        printable(&session.profile),
                        time::format_duration(l)
                    ),
                ),
                Some(l) => report.add(
                    Level::Ok,
                    format!(
                        "this shell holds {} ({} left)",
                        printable(&session.profile),
                        time::format_duration(l)
                    ),
                ),
                None => report.add(
                    Level::Ok,
                    format!(
                        "this shell holds the long-term keys of {} (they do not expire)",
                        printable(&session.profile)
                    ),
                ),
            }
        }
        (None, true) => report.add(
            Level::Warn,
            "AWS_ACCESS_KEY_ID is set, but not by rolecall: every AWS tool in this shell uses \
             those keys first; run assume --unset (or unset them) to use profiles",
        ),
        (_, false) => report.add(Level::Ok, "no credentials in this shell's environment"),
    }
    if keys {
        // The AWS SDK for JavaScript v3 takes a named profile over the keys beside it, so
        // one program would sign as another session than the prompt shows.
        for variable in ["AWS_PROFILE", "AWS_DEFAULT_PROFILE"] {
            if let Some(named) = env.get(variable) {
                report.add(
                    Level::Warn,
                    format!(
                        "{variable}={} is set beside the keys in the environment: the AWS \
                         SDK for JavaScript v3 (the AWS CDK, Serverless, most Node tools) uses \
                         that profile instead of the keys, while the AWS CLI, botocore and the \
                         Rust, Go and Java SDKs use the keys; run `unset {variable}` (assume \
                         unsets it too)",
                        printable(&named)
                    ),
                );
            }
        }
        if let Some(named) = profile {
            let holds = rolecall.as_ref().is_some_and(|s| s.profile == named);
            if !holds {
                report.add(
                    Level::Warn,
                    format!(
                        "the keys in this shell's environment are not those of {}: every tool \
                         run without --profile signs with them; run assume {0}, or assume --unset",
                        printable(named)
                    ),
                );
            }
        }
    }
}

fn check_integration(report: &mut Report, env: &Env) {
    if super::integration_loaded_here(env) {
        report.add(Level::Ok, "the shell integration is loaded in this shell");
    } else {
        let lines: Vec<String> = Shell::ALL
            .iter()
            .map(|shell| format!("{} in {}", shell.init_line(), shell.rc_file()))
            .collect();
        report.add(
            Level::Warn,
            format!(
                "the shell integration is not loaded in this shell: add {}",
                lines.join("; or ")
            ),
        );
    }
}

/// The config's checks; the parsed profiles, for the checks after it, when they parse.
fn check_config(report: &mut Report, env: &Env, profile: Option<&str>) -> Option<Profiles> {
    let config = match Profiles::load(env) {
        Ok(config) => config,
        Err(failure) => {
            report.add(Level::Problem, failure.message);
            return None;
        }
    };
    let mut names: Vec<String> = match profile {
        Some(name) => vec![name.to_string()],
        None => config.names().map(String::from).collect(),
    };
    names.sort();
    let overrides = Overrides::default();
    let mut problems: Vec<String> = Vec::new();
    for name in &names {
        match config.chain(env, name, &overrides) {
            // Keys this shell lacks are not a fault of the config.
            Err(failure) if failure.code.as_deref() == Some(ENVIRONMENT_KEYS_MISSING) => {
                report.add(Level::Warn, failure.message);
            }
            // Profiles that share a broken source report the same problem once.
            Err(failure) if !problems.contains(&failure.message) => problems.push(failure.message),
            _ => {}
        }
    }
    let healthy = problems.is_empty();
    for problem in problems {
        report.add(Level::Problem, problem);
    }
    if healthy {
        report.add(
            Level::Ok,
            format!(
                "{} profile(s) resolve to a source of credentials",
                names.len()
            ),
        );
    }
    let ignored = crate::profile::index::ProfileIndex::load(env)
        .map(|index| index.ignored)
        .unwrap_or_default();
    for ignored in ignored {
        report.add(
            Level::Warn,
            format!(
                "section [{}] is ignored by every AWS tool: profile names may only hold letters, \
                 digits and _-/.%@:+",
                printable(&ignored)
            ),
        );
    }
    Some(config)
}

/// Which keyring `rolecall keys` uses and whether it answers, and the profiles whose long-term
/// keys still lie in plaintext in the files. Nothing is read from the keyring: that could ask
/// for its password.
fn check_keys(report: &mut Report, profiles: &Profiles) {
    let mut plaintext: Vec<&str> = Vec::new();
    let mut in_keyring = 0;
    for name in profiles.names() {
        let Some(profile) = profiles.profile(name) else {
            continue;
        };
        if profile.get("aws_access_key_id").is_some() && profile.get("aws_session_token").is_none()
        {
            plaintext.push(name);
        }
        let command = profile.get("credential_process").unwrap_or_default();
        if crate::profile::keyring_line::keyring_profile(command).is_some() {
            in_keyring += 1;
        }
    }
    plaintext.sort_unstable();
    let backend = crate::keys::vault::backend_name();
    match crate::keys::vault::Vault::open() {
        Ok(_) => report.add(
            Level::Ok,
            format!(
                "keyring: the {backend} answers; {in_keyring} profile(s) take their key from it"
            ),
        ),
        Err(failure) if in_keyring > 0 => report.add(
            Level::Problem,
            format!(
                "{in_keyring} profile(s) take their key from the keyring, but {}",
                failure.message
            ),
        ),
        Err(failure) if !plaintext.is_empty() => report.add(Level::Warn, failure.message),
        Err(_) => report.add(
            Level::Ok,
            format!("keyring: no {backend} here (only `rolecall keys` needs one)"),
        ),
    }
    if !plaintext.is_empty() {
        report.add(
            Level::Warn,
            format!(
                "{} profile(s) keep a long-term key in plaintext in the files: {}; `rolecall \
                 keys import --all` moves them into the {backend}",
                plaintext.len(),
                plaintext.join(", ")
            ),
        );
    }
}

fn check_cache(report: &mut Report) {
    let Some(dir) = crate::cache::directory() else {
        report.add(
            Level::Warn,
            "no cache directory can be found: nothing is cached",
        );
        return;
    };
    let shown = printable(&dir.to_string_lossy());
    let meta = match crate::cache::inspect_directory(&dir) {
        Ok(Some(meta)) => meta,
        Ok(None) => {
            report.add(Level::Ok, format!("the cache {shown} is empty"));
            return;
        }
        Err(problem) => {
            report.add(
                Level::Problem,
                format!("{problem}; nothing is cached until then"),
            );
            return;
        }
    };
    if meta.mode() & 0o077 != 0 {
        report.add(
            Level::Warn,
            format!(
                "the cache {shown} is open to others (mode {:o}): chmod 700 it (rolecall does \
                 on its next write)",
                meta.mode() & 0o777
            ),
        );
    }
    let untrusted: Vec<String> = std::fs::read_dir(&dir)
        .into_iter()
        .flatten()
        .flatten()
        // DirEntry::metadata does not follow links: a link is reported, not its target.
        .filter(|e| {
            !e.metadata()
                .is_ok_and(|m| crate::cache::entry_is_trusted(&m))
        })
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    if untrusted.is_empty() {
        report.add(Level::Ok, format!("the cache {shown} is private"));
    } else {
        report.add(
            Level::Warn,
            format!(
                "{} cache file(s) are not private files of yours and will be ignored and \
                 replaced: {}",
                untrusted.len(),
                printable(&untrusted.join(", "))
            ),
        );
    }
}

/// Under this much time left, doctor warns about an SSO token that cannot renew itself, or a
/// client registration (which a login needs to renew the token at all).
const SSO_TOKEN_WARNING_SECONDS: i64 = 60 * 60;
const SSO_REGISTRATION_WARNING_SECONDS: i64 = 7 * 86_400;

fn check_sso(report: &mut Report, env: &Env, profiles: &Profiles) {
    let mut logins: Vec<(crate::profile::SsoLogin, String)> = Vec::new();
    for name in profiles.names() {
        if let Ok(login) = profiles.sso_login_of_profile(name) {
            if !logins.iter().any(|(known, _)| *known == login) {
                logins.push((login, name.to_string()));
            }
        }
    }
    logins.sort_by(|a, b| a.1.cmp(&b.1));
    let now = time::now();
    for (login, profile) in logins {
        let what = login.describe();
        let token = crate::sso::token_path(env, &login)
            .ok()
            .and_then(|path| crate::sso::token::read(&path));
        let Some(token) = token else {
            report.add(
                Level::Ok,
                format!(
                    "not logged in to {what}: `rolecall sso login {}` (or an assume on a \
                     terminal) logs in",
                    printable(&profile)
                ),
            );
            continue;
        };
        let left = token.expires() - now;
        let renewable =
            token.refresh_token.is_some() && token.registration_expires().is_some_and(|r| r > now);
        let renew = format!("rolecall sso login {}", printable(&profile));
        match (left, renewable) {
            (l, _) if l > SSO_TOKEN_WARNING_SECONDS => report.add(
                Level::Ok,
                format!("logged in to {what} ({} left)", time::format_duration(l)),
            ),
            (l, true) if l > 0 => report.add(
                Level::Ok,
                format!(
                    "the login to {what} has {} left and is renewed with its refresh token",
                    time::format_duration(l)
                ),
            ),
            (_, true) => report.add(
                Level::Ok,
                format!("the login to {what} has expired; the next assume renews it with its refresh token"),
            ),
            (l, false) if l > 0 => report.add(
                Level::Warn,
                format!(
                    "the login to {what} expires in {} and cannot be renewed: run `{renew}`",
                    time::format_duration(l)
                ),
            ),
            _ => report.add(
                Level::Warn,
                format!("the login to {what} has expired: run `{renew}`"),
            ),
        }
        if let Some(registration) = token.registration_expires() {
            let when = match registration - now {
                left if left <= 0 => "has expired".to_string(),
                left => format!("expires in {}", time::format_duration(left)),
            };
            if registration - now < SSO_REGISTRATION_WARNING_SECONDS {
                report.add(
                    Level::Warn,
                    format!(
                        "the client registration behind the login to {what} {when}: the token \
                         cannot be renewed after that; `{renew}` makes a new one"
                    ),
                );
            }
        }
    }
}

fn check_online(report: &mut Report, env: &Env) {
    let Some(session) = EnvSession::read(env).or_else(|| {
        env.credentials().map(|_| EnvSession {
            profile: "the environment".into(),
            role_arn: None,
            region: env.region(),
            expires: None,
            login_expires: None,
        })
    }) else {
        report.add(
            Level::Warn,
            "--online: no credentials in this shell to check",
        );
        return;
    };
    let Some(credentials) = session.credentials(env) else {
        report.add(
            Level::Warn,
            "--online: no credentials in this shell to check",
        );
        return;
    };
    let result = crate::aws::sts::Sts::new(session.region.as_deref()).and_then(|sts| {
        crate::aws::net::block_on(sts.identity_and_clock(&credentials, &session.profile))
    });
    match result {
        Ok((arn, offset)) => {
            report.add(
                Level::Ok,
                format!("STS says these credentials are {}", printable(&arn)),
            );
            match offset {
                Some(o) if o.abs() > 300 => report.add(
                    Level::Problem,
                    format!(
                        "the local clock is {}s {} STS's: signatures will fail; fix the system time",
                        o.abs(),
                        if o > 0 { "ahead of" } else { "behind" }
                    ),
                ),
                Some(o) => report.add(Level::Ok, format!("the local clock is within {}s of STS's", o.abs().max(1))),
                None => report.add(Level::Warn, "STS sent no Date header to compare the clock with"),
            }
        }
        Err(failure) => report.add(Level::Problem, failure.message),
    }
}
