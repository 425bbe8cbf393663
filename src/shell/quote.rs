//! Quoting for `eval`: one function per dialect that makes any string one inert word. Every
//! value printed for a shell goes through here, so no profile name or server response can run
//! code in the user's shell. nushell needs none of it: it gets JSON and applies it as data. The
//! property test feeds thousands of hostile strings through real shells, nushell included.

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

#[cfg(test)]
mod tests {
    use super::super::{hostile, Shell};
    use super::*;

    /// Thousands of hostile values rendered as exports and evaluated by one real process of each
    /// shell: every variable must come back byte for byte, and the sentinel must never run. For
    /// nushell the values are its JSON, applied by the integration's own code (`hide-env`,
    /// `load-env`), which gets it from a stand-in `rolecall` as it would from the binary.
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
            (Shell::Bash, "bash", &["--norc", "--noprofile", "-eu"][..]),
            (Shell::Zsh, "zsh", &["--no-rcs", "-eu"][..]),
            (Shell::Fish, "fish", &["--no-config"][..]),
            (Shell::Nu, "nu", &["--no-config-file"][..]),
        ] {
            let dir = tempfile::tempdir().unwrap();
            let rendered = kind.render(&["RC_PROBE_GONE"], &set);
            let mut path = std::env::var("PATH").unwrap_or_default();
            // Too long for one argument: the shell reads it from a file.
            let script = dir.path().join("script");
            let text = match kind {
                Shell::Nu => {
                    path = format!("{}:{path}", stand_in_rolecall(dir.path(), &rendered));
                    nu_integration() + "__rolecall_apply []\n^env -0\n"
                }
                _ => rendered + "env -0\n",
            };
            std::fs::write(&script, text).unwrap();
            let output = std::process::Command::new(program)
                .args(args)
                .arg(&script)
                .current_dir(dir.path())
                .env_clear()
                .env("PATH", path)
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

    /// nushell's integration as `rolecall init nu` prints it, without the optional parts.
    fn nu_integration() -> String {
        Shell::Nu.integration(&super::super::init::Integration {
            function: "assume",
            prompt: false,
            auto_refresh: false,
            completion_variable: "ROLECALL_COMPLETE",
            refresh_seconds: 300,
            prompt_inputs: &[],
            flags: &[],
        })
    }

    /// A `rolecall` in `dir`/bin that prints `output` whatever it is asked; that bin directory.
    fn stand_in_rolecall(dir: &std::path::Path, output: &str) -> String {
        use std::os::unix::fs::PermissionsExt;
        let bin = dir.join("bin");
        std::fs::create_dir(&bin).unwrap();
        std::fs::write(dir.join("output"), output).unwrap();
        let program = bin.join("rolecall");
        std::fs::write(
            &program,
            format!("#!/bin/sh\nexec cat '{}'\n", dir.join("output").display()),
        )
        .unwrap();
        std::fs::set_permissions(&program, std::fs::Permissions::from_mode(0o755)).unwrap();
        bin.display().to_string()
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
