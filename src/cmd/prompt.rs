//! `rolecall prompt`: one short line for the prompt, from the environment alone — no files, no
//! network, no runtime — because it runs before every prompt.

use crate::cli::PromptArgs;
use crate::env::{Env, EnvSession};
use crate::error::Result;
use crate::shell::Shell;
use std::io::IsTerminal;

/// Under this many seconds left, the segment turns yellow.
const WARN_SECONDS: i64 = 10 * 60;

/// Every variable the segment's text depends on: the session's, and NO_COLOR. The integration
/// draws the segment again when one of them changes (`init` writes this list into it).
pub fn inputs() -> Vec<&'static str> {
    EnvSession::VARIABLES
        .iter()
        .copied()
        .chain(["NO_COLOR"])
        .collect()
}

/// With `--shell` (the integration), a second line says when the text next changes, in Unix
/// seconds, so the shell redraws only then (or when an input changed).
pub fn run(args: PromptArgs) -> Result<()> {
    let env = Env::Process;
    let Some(state) = EnvSession::read(&env) else {
        return Ok(());
    };
    let now = crate::time::now();
    let left = state.seconds_left(now);
    let colour = match left {
        Some(l) if l <= 0 => Some("31"),
        Some(l) if l < WARN_SECONDS => Some("33"),
        _ => None,
    };
    let text = Shell::prompt_text(args.shell, &render(&args.format, &state, left, now));
    let use_colour =
        env.get("NO_COLOR").is_none() && (args.shell.is_some() || std::io::stdout().is_terminal());
    let mut out = match colour.filter(|_| use_colour) {
        Some(code) => {
            let (open, close) = args.shell.map_or(("", ""), Shell::invisible_markers);
            format!("{open}\x1b[{code}m{close}{text}{open}\x1b[0m{close}\n")
        }
        None => text + "\n",
    };
    if args.shell.is_some() {
        // The login's minutes tick too, when the format shows them.
        let login_left = state
            .login_expires
            .filter(|_| args.format.contains("{login}"))
            .map(|e| e.saturating_sub(now));
        let changes_in = [left, login_left]
            .into_iter()
            .flatten()
            .filter_map(crate::time::next_change)
            .min()
            .unwrap_or(UNCHANGING);
        out.push_str(&format!("{}\n", now + changes_in));
    }
    super::emit(&out)
}

/// When the text will not change with time (no expiry, or expired already): the shell is told
/// to ask again a day later, long after any real change of session.
const UNCHANGING: i64 = 86_400;

/// A target as the prompt shows it: a profile name as it is, a bare role ARN (which
/// `ROLECALL_PROFILE` holds whole, for `assume -`) as `role@account`.
fn shown_target(target: &str) -> String {
    if !target.starts_with("arn:") {
        return target.to_string();
    }
    let role = crate::session::arn_role_name(target);
    let account = crate::session::arn_account(target);
    if role.is_empty() || account.is_empty() {
        return target.to_string();
    }
    format!("{role}@{account}")
}

/// The format with each placeholder replaced, in one pass over the format: a value is never
/// searched for placeholders, so a profile named `x{region}` shows as it is.
fn render(format: &str, state: &EnvSession, left: Option<i64>, now: i64) -> String {
    let mut out = String::with_capacity(format.len() + state.profile.len());
    let mut rest = format;
    while let Some(open) = rest.find('{') {
        out.push_str(&rest[..open]);
        rest = &rest[open..];
        let Some(close) = rest.find('}') else { break };
        let value = match &rest[1..close] {
            "profile" => shown_target(&state.profile),
            "region" => state.region.clone().unwrap_or_default(),
            "account" => state.account().unwrap_or("").to_string(),
            "role" => state.role_name().unwrap_or("").to_string(),
            // Long-term keys do not expire: the segment says that is what the shell holds.
            "left" => left
                .map(crate::time::format_duration)
                .unwrap_or_else(|| "keys".into()),
            // Local time means reading the time zone database: only when the format asks.
            "expires" => state
                .expires
                .map(crate::time::local_clock)
                .unwrap_or_default(),
            // The Identity Center login's own time left; nothing for other sessions.
            "login" => state
                .login_expires
                .map(|e| crate::time::format_duration(e.saturating_sub(now)))
                .unwrap_or_default(),
            _ => {
                out.push('{');
                rest = &rest[1..];
                continue;
            }
        };
        out.push_str(&value);
        rest = &rest[close + 1..];
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn state(profile: &str) -> EnvSession {
        EnvSession {
            profile: profile.into(),
            role_arn: Some("arn:aws:iam::222222222222:role/ops/admin".into()),
            region: Some("eu-west-1".into()),
            expires: Some(1000),
            login_expires: None,
        }
    }

    #[test]
    fn placeholders() {
        let s = state("prod");
        assert_eq!(
            render(
                "{profile} {account} {role} {region} {left}",
                &s,
                Some(2520),
                0
            ),
            "prod 222222222222 admin eu-west-1 42m"
        );
        assert_eq!(
            render("[{profile} {left}]", &s, Some(-5), 0),
            "[prod expired]"
        );
        assert_eq!(render("{nope} {left", &s, None, 0), "{nope} {left");
        assert_eq!(render("{{profile}}", &s, None, 0), "{prod}");
        assert_eq!(render("[{login}]", &s, None, 0), "[]");
        let sso = EnvSession {
            login_expires: Some(7 * 3600 + 60),
            ..state("sso-dev")
        };
        assert_eq!(render("{profile} {login}", &sso, None, 60), "sso-dev 7h00m");
    }

    #[test]
    fn a_role_arn_shows_as_role_and_account_and_keys_say_so() {
        let mut s = state("arn:aws:iam::222222222222:role/ops/admin");
        assert_eq!(
            render("[{profile} {left}]", &s, Some(2520), 0),
            "[admin@222222222222 42m]"
        );
        s.profile = "demo-base".into();
        s.expires = None;
        assert_eq!(
            render("[{profile} {left}]", &s, None, 0),
            "[demo-base keys]"
        );
    }

    #[test]
    fn placeholders_in_values_stay_text() {
        let s = state("x{region}{left}");
        assert_eq!(
            render("[{profile} {left}]", &s, Some(60), 0),
            "[x{region}{left} 1m]"
        );
    }
}
