//! `rolecall sso login`, `logout` and `populate`: which login the person means, then the work
//! of `sso`.

use crate::cli::{SsoCommand, SsoLoginArgs, SsoLogoutArgs, SsoPopulateArgs, SsoWhich};
use crate::env::Env;
use crate::error::{printable, Failure, Result};
use crate::profile::{Profiles, SsoLogin};
use crate::sso::login::Choices;
use crate::sso::populate::Template;

pub fn run(command: SsoCommand) -> Result<()> {
    match command {
        SsoCommand::Login(args) => login(args),
        SsoCommand::Logout(args) => logout(args),
        SsoCommand::Populate(args) => populate(args),
    }
}

fn login(args: SsoLoginArgs) -> Result<()> {
    let env = Env::Process;
    let login = match args.target.as_deref().filter(|t| is_start_url(t)) {
        Some(url) => {
            let session = session_of_url(
                &env,
                url,
                args.sso_region.as_deref(),
                args.sso_session.as_deref(),
            )?;
            Profiles::load(&env)?.sso_login_of_session(&session)?
        }
        None => {
            if args.sso_region.is_some() {
                return Err(Failure::usage(
                    "--sso-region goes with a start URL (https://…), for its new sso-session",
                ));
            }
            if args.target.is_some() && args.sso_session.is_some() {
                return Err(Failure::usage(
                    "name a profile or an --sso-session, not both",
                ));
            }
            let which = SsoWhich {
                profile: args.target,
                profile_flag: args.profile_flag,
                sso_session: args.sso_session,
            };
            chosen(&Profiles::load(&env)?, &env, &which)?.0
        }
    };
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

/// A command-line word that is a start URL rather than a profile name: no profile name the
/// AWS tools read holds `://`.
fn is_start_url(word: &str) -> bool {
    word.contains("://")
}

/// The sso-session of the config that has start URL `url`, written first when there is none
/// (and said so).
fn session_of_url(
    env: &Env,
    url: &str,
    region: Option<&str>,
    name: Option<&str>,
) -> Result<String> {
    use crate::sso::start::{ensure_session, StartUrl};
    let url = StartUrl::parse(url).map_err(Failure::usage)?;
    let session = ensure_session(env, &url, region, name)?;
    if session.written {
        let path = crate::profile::files::config_path(env)
            .map(|p| printable(&p.to_string_lossy()))
            .unwrap_or_default();
        eprintln!(
            "rolecall: wrote [sso-session {}] for {} to {path}",
            printable(&session.name),
            printable(&url.text)
        );
    }
    Ok(session.name)
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

/// `sso populate`: the sessions the person named (a start URL's, written first when new;
/// `--all`; or one), each populated in turn with a summary line of its own. With `--all`, one
/// session that fails does not keep the others.
fn populate(args: SsoPopulateArgs) -> Result<()> {
    let env = Env::Process;
    let template = Template::parse(&args.name).map_err(Failure::usage)?;
    if let Some(region) = &args.region {
        crate::profile::validate::check_region(region)?;
    }
    let sessions = if args.all {
        let profiles = Profiles::load(&env)?;
        let all: Vec<String> = profiles
            .sso_sessions()
            .into_iter()
            .map(String::from)
            .collect();
        if all.is_empty() {
            return Err(Failure::usage(NO_SESSION));
        }
        all
    } else if let Some(url) = &args.start_url {
        vec![session_of_url(
            &env,
            url,
            args.sso_region.as_deref(),
            args.sso_session.as_deref(),
        )?]
    } else {
        match &args.sso_session {
            Some(session) => vec![session.clone()],
            None => vec![only_session(&Profiles::load(&env)?)?],
        }
    };
    let choices = Choices {
        device_code: args.device_code,
        open_browser: !args.no_browser,
    };
    let mut first_failure = None;
    for session in &sessions {
        match populate_session(&env, session, &template, &args, &choices) {
            Ok(()) => {}
            Err(failure) if args.all => {
                eprintln!(
                    "rolecall: sso-session {}: {}",
                    printable(session),
                    crate::error::printable_lines(&failure.message)
                );
                first_failure.get_or_insert(failure.kind);
            }
            Err(failure) => return Err(failure),
        }
    }
    match first_failure {
        // Said above, each in its turn; the exit status is the first one's.
        Some(kind) => Err(Failure {
            kind,
            message: String::new(),
            code: None,
        }),
        None => Ok(()),
    }
}

const NO_SESSION: &str = "there is no [sso-session …] in your config to populate from: run \
    `rolecall sso populate https://NAME.awsapps.com/start --sso-region REGION` to write one";

/// Writes the profiles of every account × role the sso-session's login is granted into its
/// block of the config file, logging in first when the login is missing or over. Everything
/// that can be refused (the region, a config that does not parse, a broken block) is refused
/// before the portal is asked; the portal's listing is done before the file is locked, and the
/// file is read again under the lock, so a listing that fails changes nothing and two
/// populates never interleave.
fn populate_session(
    env: &Env,
    session: &str,
    template: &Template,
    args: &SsoPopulateArgs,
    choices: &Choices,
) -> Result<()> {
    use crate::profile::{block, files, index::ProfileIndex};
    use crate::sso::populate::{profiles as generated_profiles, Plan};
    // One read serves the checks before the listing; the file is read again under the lock.
    let first_read = files::config_files(env)?;
    let profiles = Profiles::from_files(&first_read)?;
    let session = session.to_string();
    let login = profiles.sso_login_of_session(&session)?;
    let region = args.region.clone().unwrap_or_else(|| login.region.clone());
    let config_path = files::config_path(env).ok_or_else(|| {
        Failure::usage("no home directory and no AWS_CONFIG_FILE: nowhere to write the profiles")
    })?;
    let shown_path = printable(&config_path.to_string_lossy());
    let config_text = |files: &[files::ConfigFile]| -> String {
        files
            .iter()
            .find(|f| f.is_config())
            .map(|f| f.contents.clone())
            .unwrap_or_default()
    };
    let broken_block = |e: String| Failure::usage(format!("{shown_path}: {}", printable(&e)));
    block::find(&config_text(&first_read), &session).map_err(broken_block)?;

    let mut progress = Progress::new();
    let grants = crate::aws::net::block_on(async {
        let words = format!("--sso-session {session}");
        let asking = crate::sso::Asking::AsChosen(choices);
        let token = crate::sso::ensure_login(env, &login, &words, asking)
            .await?
            .token;
        let portal = crate::sso::portal::Portal::new(&login, &token.access_token)?;
        portal.grants(&mut |step| progress.show(step)).await
    });
    progress.clear();
    let grants = grants?;

    // From here to the write, no other rolecall changes the file.
    let rewrite = if args.dry_run {
        None
    } else {
        Some(block::Rewrite::begin(&config_path)?)
    };
    let index = ProfileIndex::build(files::config_files(env)?);
    files::parse_attributed(&index.files)?;
    let text = config_text(&index.files);
    let found = block::find(&text, &session).map_err(broken_block)?;
    let outside = block::names_outside(&index, found.as_ref().map(|b| &b.range))
        .into_iter()
        .collect();
    let (generated, skipped) = generated_profiles(&grants, template, &session, &region);
    let old = found.as_ref().map(|b| b.sections.as_slice()).unwrap_or(&[]);
    if args.prune && grants.is_empty() && !old.is_empty() {
        // More likely a portal's bad moment than an organisation that took every role away.
        return Err(Failure::aws(format!(
            "the SSO portal lists no account for {}, so --prune would remove every profile \
             generated for it; nothing was changed (without --prune they are kept)",
            login.describe()
        )));
    }
    let plan = Plan::new(generated, skipped, old, &outside, args.prune);
    let sections: Vec<&str> = plan.sections.iter().map(String::as_str).collect();
    let new_text = block::splice(
        &text,
        found.as_ref().map(|b| &b.range),
        &block::render(&session, &sections),
    );
    let unchanged = new_text == text;
    match rewrite {
        None => super::emit(&dry_run_lines(&plan))?,
        Some(rewrite) if !unchanged => rewrite.commit(&new_text).map_err(Failure::local)?,
        Some(_) => {}
    }
    eprintln!(
        "rolecall: {}",
        summary(&plan, &session, &shown_path, args.dry_run, unchanged)
    );
    Ok(())
}

/// The config's only sso-session, for a populate that names none.
fn only_session(profiles: &Profiles) -> Result<String> {
    match profiles.sso_sessions().as_slice() {
        [only] => Ok(only.to_string()),
        [] => Err(Failure::usage(NO_SESSION)),
        many => Err(Failure::usage(format!(
            "name the sso-session to populate from with --sso-session: {}",
            printable(&many.join(", "))
        ))),
    }
}

/// `--dry-run`'s report: a line per difference, by kind, each kind in name order.
fn dry_run_lines(plan: &crate::sso::populate::Plan) -> String {
    let mut out = String::new();
    for (word, names) in [
        ("add", &plan.added),
        ("change", &plan.changed),
        ("remove", &plan.removed),
        ("stale", &plan.stale),
    ] {
        for name in names {
            out.push_str(&format!("{word} {}\n", printable(name)));
        }
    }
    for skipped in &plan.skipped {
        out.push_str(&format!(
            "skip {} ({})\n",
            printable(&skipped.name),
            printable(&skipped.reason)
        ));
    }
    out
}

/// The one line a populate ends with.
fn summary(
    plan: &crate::sso::populate::Plan,
    session: &str,
    path: &str,
    dry_run: bool,
    unchanged: bool,
) -> String {
    let mut line = format!(
        "sso-session {}{}: {} profiles in {path}: {} added, {} changed, {} removed, {} skipped",
        printable(session),
        if dry_run {
            " (dry run, nothing written)"
        } else {
            ""
        },
        plan.sections.len(),
        plan.added.len(),
        plan.changed.len(),
        plan.removed.len(),
        plan.skipped.len(),
    );
    if !plan.skipped.is_empty() {
        let mut names: Vec<String> = plan
            .skipped
            .iter()
            .take(3)
            .map(|s| printable(&s.name))
            .collect();
        if plan.skipped.len() > 3 {
            names.push("…".into());
        }
        line.push_str(&format!(" ({}; --dry-run says why)", names.join(", ")));
    }
    if !plan.stale.is_empty() {
        line.push_str(&format!(
            ", {} stale (kept; --prune removes them)",
            plan.stale.len()
        ));
    }
    if unchanged {
        line.push_str("; nothing to change");
    }
    line
}

/// The listing's progress on a terminal: one line, redrawn at most every 100 ms. Off a
/// terminal nothing, so scripts see only the summary.
struct Progress {
    shown: bool,
    on_terminal: bool,
    last: Option<std::time::Instant>,
}

impl Progress {
    fn new() -> Progress {
        use std::io::IsTerminal;
        Progress {
            shown: false,
            on_terminal: std::io::stderr().is_terminal(),
            last: None,
        }
    }

    fn show(&mut self, step: crate::sso::portal::Progress) {
        use crate::sso::portal::Progress as Step;
        if !self.on_terminal {
            return;
        }
        let last_one = matches!(step, Step::Roles { done, of } if done == of);
        if !last_one && self.last.is_some_and(|t| t.elapsed().as_millis() < 100) {
            return;
        }
        self.last = Some(std::time::Instant::now());
        let text = match step {
            Step::Accounts(n) => format!("listing accounts: {n}"),
            Step::Roles { done, of } => format!("listing roles: {done} of {of} accounts"),
        };
        eprint!("\r\x1b[Krolecall: {text}");
        self.shown = true;
    }

    fn clear(&mut self) {
        if self.shown {
            eprint!("\r\x1b[K");
        }
    }
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
