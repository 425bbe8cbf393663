//! Shell code for `eval`: one escaping function per shell, and the export/unset renderers built
//! on them. Every value printed for a shell goes through here, so no profile name or server
//! response can run code in the user's shell.

use crate::cli::ShellKind;
use std::fmt::Write;

/// Characters that need no quoting in any of the three shells.
fn is_plain(byte: u8) -> bool {
    byte.is_ascii_alphanumeric() || b"_@%+=:,./-".contains(&byte)
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
/// Variable names are rolecall's own constants, so only values need quoting.
pub fn render(shell: ShellKind, unset: &[&str], set: &[(&str, String)]) -> String {
    let mut out = String::new();
    match shell {
        ShellKind::Bash | ShellKind::Zsh => {
            if !unset.is_empty() {
                let _ = writeln!(out, "unset {};", unset.join(" "));
            }
            for (name, value) in set {
                let _ = writeln!(out, "export {name}={};", quote_posix(value));
            }
        }
        ShellKind::Fish => {
            if !unset.is_empty() {
                // `set -e` of an unset variable fails, and fish's `set` passes the last status
                // on; `true` makes a sourced assume end with status 0.
                let _ = writeln!(out, "set -e {}; true;", unset.join(" "));
            }
            for (name, value) in set {
                let _ = writeln!(out, "set -gx {name} {};", quote_fish(value));
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

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
