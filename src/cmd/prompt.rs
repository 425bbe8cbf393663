//! `rolecall prompt`: one short line for the prompt, from the environment alone — no files, no
//! network, no runtime — because it runs before every prompt.

use crate::cli::{PromptArgs, ShellKind};
use crate::error::Result;
use crate::session::EnvSession;
use std::io::IsTerminal;

/// Under this many seconds left, the segment turns yellow.
const WARN_SECONDS: i64 = 10 * 60;

pub fn run(args: PromptArgs) -> Result<()> {
    let Some(state) = EnvSession::read() else {
        return Ok(());
    };
    let now = crate::time::now();
    let left = state.seconds_left(now);
    let colour = match left {
        Some(l) if l <= 0 => Some("31"),
        Some(l) if l < WARN_SECONDS => Some("33"),
        _ => None,
    };
    let text = safe_for_prompts(&render(&args.format, &state, left), args.shell);
    let use_colour = std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty())
        && (args.shell.is_some() || std::io::stdout().is_terminal());
    let line = match colour.filter(|_| use_colour) {
        Some(code) => {
            let (open, close) = match args.shell {
                // Readline's markers for bytes that take no room on the line.
                Some(ShellKind::Bash) => ("\x01", "\x02"),
                Some(ShellKind::Zsh) => ("%{", "%}"),
                _ => ("", ""),
            };
            format!("{open}\x1b[{code}m{close}{text}{open}\x1b[0m{close}")
        }
        None => text,
    };
    super::emit(&(line + "\n"))
}

/// The format with each placeholder replaced, in one pass over the format: a value is never
/// searched for placeholders, so a profile named `x{region}` shows as it is.
fn render(format: &str, state: &EnvSession, left: Option<i64>) -> String {
    let mut out = String::with_capacity(format.len() + state.profile.len());
    let mut rest = format;
    while let Some(open) = rest.find('{') {
        out.push_str(&rest[..open]);
        rest = &rest[open..];
        let Some(close) = rest.find('}') else { break };
        let value = match &rest[1..close] {
            "profile" => state.profile.clone(),
            "region" => state.region.clone().unwrap_or_default(),
            "account" => state.account().unwrap_or("").to_string(),
            "role" => state.role_name().unwrap_or("").to_string(),
            "left" => left.map(crate::time::format_duration).unwrap_or_default(),
            // Local time means reading the time zone database: only when the format asks.
            "expires" => state
                .expires
                .map(crate::time::local_clock)
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

/// Prompts are expanded again by the shell that shows them, so the text keeps no character that
/// bash or zsh would act on (`$`, backquote, `\`, `!`, quotes, controls), nor one that reorders
/// the rest of the line (bidirectional overrides); zsh's `%` is doubled
/// so it stays a literal percent sign.
fn safe_for_prompts(text: &str, shell: Option<ShellKind>) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '%' if shell == Some(ShellKind::Zsh) => out.push_str("%%"),
            '$' | '`' | '\\' | '!' | '"' | '\'' => out.push('?'),
            c if c.is_control() || crate::error::reorders_text(c) => out.push('?'),
            c => out.push(c),
        }
    }
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
        }
    }

    #[test]
    fn placeholders() {
        let s = state("prod");
        assert_eq!(
            render("{profile} {account} {role} {region} {left}", &s, Some(2520)),
            "prod 222222222222 admin eu-west-1 42m"
        );
        assert_eq!(render("[{profile} {left}]", &s, Some(-5)), "[prod expired]");
        assert_eq!(render("{nope} {left", &s, None), "{nope} {left");
        assert_eq!(render("{{profile}}", &s, None), "{prod}");
    }

    #[test]
    fn placeholders_in_values_stay_text() {
        let s = state("x{region}{left}");
        assert_eq!(
            render("[{profile} {left}]", &s, Some(60)),
            "[x{region}{left} 1m]"
        );
    }

    #[test]
    fn hostile_text_is_inert() {
        assert_eq!(
            safe_for_prompts("a$(x)`y`\\!%\x1b", Some(ShellKind::Zsh)),
            "a?(x)?y???%%?"
        );
        assert_eq!(safe_for_prompts("50%", Some(ShellKind::Bash)), "50%");
        assert_eq!(safe_for_prompts("a\u{202e}b\u{2067}", None), "a?b?");
    }
}
