//! Shell code for `eval`: one escaping function per shell, and the export/unset renderers built
//! on them. Every value printed for a shell goes through here, so no profile name or server
//! response can run code in the user's shell.

use crate::cli::ShellKind;
use std::fmt::Write;

/// Characters that need no quoting in any of the three shells. Not among them: `=` (zsh
/// expands `=cmd` to a command's path in an `export` value) and `%` (fish expands `%self`).
fn is_plain(byte: u8) -> bool {
    byte.is_ascii_alphanumeric() || b"_@+:,./-".contains(&byte)
}

/// Quotes `value` as one word for bash or zsh: bare when it is plain, else `$'…'` with every
/// byte outside printable ASCII written as `\xHH`, so no byte is interpreted by the shell.
pub fn quote_posix(value: &str) -> String {
    if !value.is_empty() && value.bytes().all(is_plain) {
        return value.to_string();
    }
    let mut out = String::with_capacity(value.len() + 3);
    out.push_str("$'");
    for byte in value.bytes() {
        match byte {
            b'\\' => out.push_str("\\\\"),
            b'\'' => out.push_str("\\'"),
            0x20..=0x7e => out.push(byte as char),
            _ => {
                let _ = write!(out, "\\x{byte:02x}");
            }
        }
    }
    out.push('\'');
    out
}

/// Quotes `value` as one word for fish: single quotes, where only `\\` and `\'` are special;
/// control characters are written outside the quotes as `\xHH`, which fish joins to the word.
pub fn quote_fish(value: &str) -> String {
    if !value.is_empty() && value.bytes().all(is_plain) {
        return value.to_string();
    }
    let mut out = String::with_capacity(value.len() + 2);
    out.push('\'');
    for c in value.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '\'' => out.push_str("\\'"),
            c if (c as u32) < 0x20 || c as u32 == 0x7f => {
                let _ = write!(out, "'\\x{:02x}'", c as u32);
            }
            c => out.push(c),
        }
    }
    out.push('\'');
    out
}

/// Code that removes `unset` and then sets `set`, in that order, for `shell`.
/// Variable names are rolecall's own constants, so only values need quoting. The builtins are
/// named through `builtin`, so an alias or function called `export` never sees a secret.
pub fn render(shell: ShellKind, unset: &[&str], set: &[(&str, String)]) -> String {
    let mut out = String::new();
    match shell {
        ShellKind::Bash | ShellKind::Zsh => {
            if !unset.is_empty() {
                let _ = writeln!(out, "\\builtin unset -v {};", unset.join(" "));
            }
            for (name, value) in set {
                let _ = writeln!(out, "\\builtin export {name}={};", quote_posix(value));
            }
        }
        ShellKind::Fish => {
            if !unset.is_empty() {
                // Only the global scope: an unscoped `set -e` erases a universal variable of
                // the same name, in every fish session and for good. `set -e` of an unset
                // variable fails, and fish's `set` passes the last status on; `true` makes a
                // sourced assume end with status 0.
                let _ = writeln!(out, "builtin set -e -g {}; builtin true;", unset.join(" "));
            }
            for (name, value) in set {
                let _ = writeln!(out, "builtin set -gx {name} {};", quote_fish(value));
            }
        }
    }
    out
}

#[cfg(test)]
#[path = "../tests/it/common/hostile.rs"]
mod hostile;

#[cfg(test)]
mod tests {
    use super::hostile;
    use super::*;

    /// Thousands of hostile values rendered as exports and evaluated by one real process of each
    /// shell: every variable must come back byte for byte, and the sentinel must never run.
    #[test]
    fn generated_values_survive_a_real_eval_in_each_shell() {
        let values = hostile::hostile_strings(3000, false);
        let names: Vec<String> = (0..values.len()).map(|i| format!("RC_PROBE_{i}")).collect();
        let set: Vec<(&str, String)> = names
            .iter()
            .map(String::as_str)
            .zip(values.iter().cloned())
            .collect();
        for (kind, program, args) in [
            (
                ShellKind::Bash,
                "bash",
                &["--norc", "--noprofile", "-eu"][..],
            ),
            (ShellKind::Zsh, "zsh", &["--no-rcs", "-eu"][..]),
            (ShellKind::Fish, "fish", &["--no-config"][..]),
        ] {
            let dir = tempfile::tempdir().unwrap();
            // Too long for one argument: the shell reads it from a file.
            let script = dir.path().join("script");
            std::fs::write(&script, render(kind, &["RC_PROBE_GONE"], &set) + "env -0\n").unwrap();
            let output = std::process::Command::new(program)
                .args(args)
                .arg(&script)
                .current_dir(dir.path())
                .env_clear()
                .env("PATH", std::env::var("PATH").unwrap_or_default())
                .env("RC_PROBE_GONE", "still here")
                .output()
                .unwrap_or_else(|e| panic!("{program} must be installed (scripts/test does): {e}"));
            assert!(
                output.status.success(),
                "{program}: {}",
                String::from_utf8_lossy(&output.stderr)
            );
            let environment: std::collections::HashMap<&[u8], &[u8]> = output
                .stdout
                .split(|b| *b == 0)
                .filter_map(|pair| {
                    let at = pair.iter().position(|b| *b == b'=')?;
                    Some((&pair[..at], &pair[at + 1..]))
                })
                .collect();
            for (name, value) in &set {
                assert_eq!(
                    environment.get(name.as_bytes()).copied(),
                    Some(value.as_bytes()),
                    "{program}: {name} = {value:?}"
                );
            }
            assert!(
                !environment.contains_key(&b"RC_PROBE_GONE"[..]),
                "{program}: unset failed"
            );
            assert!(
                !dir.path().join("pwned").exists(),
                "{program}: a sentinel ran"
            );
        }
    }

    #[test]
    fn plain_values_stay_bare() {
        assert_eq!(quote_posix("eu-west-1"), "eu-west-1");
        assert_eq!(quote_fish("arn:aws:iam::1:role/x"), "arn:aws:iam::1:role/x");
    }

    #[test]
    fn posix_quoting_escapes_everything_active() {
        assert_eq!(quote_posix("a'b"), "$'a\\'b'");
        assert_eq!(quote_posix("$(id)"), "$'$(id)'");
        assert_eq!(quote_posix("a\nb"), "$'a\\x0ab'");
        assert_eq!(quote_posix(""), "$''");
        assert_eq!(quote_posix("é"), "$'\\xc3\\xa9'");
    }

    #[test]
    fn fish_quoting_escapes_quotes_and_controls() {
        assert_eq!(quote_fish("a'b\\c"), "'a\\'b\\\\c'");
        assert_eq!(quote_fish("a\nb"), "'a'\\x0a'b'");
        assert_eq!(quote_fish(""), "''");
    }
}
