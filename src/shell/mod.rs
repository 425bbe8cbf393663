//! The shells rolecall speaks. `Shell` knows every per-shell fact: its name, how `$SHELL` names
//! it, its integration script and rc file, how to export and unset, how a prompt must quote;
//! `Output` puts JSON beside the shells as one more way to print a session.

pub mod init;
pub mod quote;

#[cfg(test)]
pub mod hostile;

use std::fmt::Write;

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Shell {
    Bash,
    Zsh,
    Fish,
    Nu,
}

impl Shell {
    pub const ALL: [Shell; 4] = [Shell::Bash, Shell::Zsh, Shell::Fish, Shell::Nu];

    pub fn name(self) -> &'static str {
        match self {
            Shell::Bash => "bash",
            Shell::Zsh => "zsh",
            Shell::Fish => "fish",
            Shell::Nu => "nu",
        }
    }

    /// The shell a `$SHELL` path names: sh and an unset `$SHELL` get bash's code; `Err` gives
    /// the name of a shell rolecall cannot speak.
    pub fn from_login_shell(path: &str) -> Result<Shell, String> {
        match path.rsplit('/').next().unwrap_or("") {
            "zsh" => Ok(Shell::Zsh),
            "fish" => Ok(Shell::Fish),
            "nu" => Ok(Shell::Nu),
            "bash" | "sh" | "" => Ok(Shell::Bash),
            other => Err(other.to_string()),
        }
    }

    /// The file that loads the integration, as people write it.
    pub fn rc_file(self) -> &'static str {
        match self {
            Shell::Bash => "~/.bashrc",
            Shell::Zsh => "~/.zshrc",
            Shell::Fish => "~/.config/fish/config.fish",
            Shell::Nu => "~/.config/nushell/config.nu",
        }
    }

    /// The line in the rc file that loads the integration.
    pub fn init_line(self) -> &'static str {
        match self {
            Shell::Bash => "eval \"$(rolecall init bash)\"",
            Shell::Zsh => "eval \"$(rolecall init zsh)\"",
            Shell::Fish => "rolecall init fish | source",
            // nushell cannot evaluate text: config.nu writes the file its autoload directory
            // then loads.
            Shell::Nu => {
                "mkdir ($nu.data-dir | path join \"vendor/autoload\"); rolecall init nu | save -f \
                 ($nu.data-dir | path join \"vendor/autoload/rolecall.nu\")"
            }
        }
    }

    /// Code that removes `unset` and then sets `set`, in that order. Variable names are
    /// rolecall's own constants, so only values need quoting. The builtins are named through
    /// `builtin`, so an alias or function called `export` never sees a secret.
    pub fn render(self, unset: &[&str], set: &[(&str, String)]) -> String {
        let mut out = String::new();
        match self {
            Shell::Bash | Shell::Zsh => {
                if !unset.is_empty() {
                    let _ = writeln!(out, "\\builtin unset -v {};", unset.join(" "));
                }
                for (name, value) in set {
                    let _ = writeln!(
                        out,
                        "\\builtin export {name}={};",
                        quote::quote_posix(value)
                    );
                }
            }
            Shell::Fish => {
                if !unset.is_empty() {
                    // Only the global scope: an unscoped `set -e` erases a universal variable of
                    // the same name, in every fish session and for good. `set -e` of an unset
                    // variable fails, and fish's `set` passes the last status on; `true` makes a
                    // sourced assume end with status 0.
                    let _ = writeln!(out, "builtin set -e -g {}; builtin true;", unset.join(" "));
                }
                for (name, value) in set {
                    let _ = writeln!(out, "builtin set -gx {name} {};", quote::quote_fish(value));
                }
            }
            // nushell applies JSON (`hide-env`, then `load-env`): values need JSON's escaping
            // only, and nothing in them is ever parsed as code.
            Shell::Nu => {
                let set: serde_json::Map<String, serde_json::Value> = set
                    .iter()
                    .map(|(name, value)| (name.to_string(), value.clone().into()))
                    .collect();
                let change = serde_json::json!({ "unset": unset, "set": set });
                let _ = writeln!(out, "{change}");
            }
        }
        out
    }

    /// Code that prints `text` as one line on stdout (what `assume -c --url` hands the
    /// function, which evaluates it): quoted like a value, so no URL runs as a command.
    pub fn print_line(self, text: &str) -> String {
        match self {
            Shell::Bash | Shell::Zsh => {
                format!("\\builtin printf '%s\\n' {};\n", quote::quote_posix(text))
            }
            Shell::Fish => format!("builtin printf '%s\\n' {};\n", quote::quote_fish(text)),
            Shell::Nu => format!("{}\n", serde_json::json!({ "print": text })),
        }
    }

    /// Where bytes that take no room on the line (colour codes) must sit in a prompt, so the
    /// line editor counts the prompt's width right.
    pub fn invisible_markers(self) -> (&'static str, &'static str) {
        match self {
            // Readline's markers.
            Shell::Bash => ("\x01", "\x02"),
            Shell::Zsh => ("%{", "%}"),
            // fish and nushell measure a prompt without its escape sequences themselves.
            Shell::Fish | Shell::Nu => ("", ""),
        }
    }

    /// Text made safe for this shell's prompt, which the shell expands again: no character that
    /// bash or zsh would act on (`$`, backquote, `\\`, `!`, quotes, controls), nor one that
    /// reorders the rest of the line (bidirectional overrides); zsh's `%` is doubled so it
    /// stays a literal percent sign. `None` is a prompt of no shell in particular.
    pub fn prompt_text(shell: Option<Shell>, text: &str) -> String {
        let mut out = String::with_capacity(text.len());
        for c in text.chars() {
            match c {
                '%' if shell == Some(Shell::Zsh) => out.push_str("%%"),
                '$' | '`' | '\\' | '!' | '"' | '\'' => out.push('?'),
                c if c.is_control() || crate::error::reorders_text(c) => out.push('?'),
                c => out.push(c),
            }
        }
        out
    }

    /// An expression of this shell that joins the values of `names` with `|` (unset ones as
    /// empty): what the integration compares to tell that the prompt's inputs changed.
    pub fn joined_variables(self, names: &[&str]) -> String {
        let parts: Vec<String> = names
            .iter()
            .map(|name| match self {
                Shell::Bash | Shell::Zsh => format!("${{{name}-}}"),
                Shell::Fish => format!("${name}"),
                Shell::Nu => format!("($env.{name}? | default '')"),
            })
            .collect();
        match self {
            Shell::Nu => format!("$\"{}\"", parts.join("|")),
            _ => format!("\"{}\"", parts.join("|")),
        }
    }
}

/// How `assume` prints a session: code for a shell to evaluate, or JSON for programs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Output {
    Shell(Shell),
    Json,
}

impl Output {
    /// The output that removes `unset` and sets `set`. JSON has no "unset": it carries the
    /// variables that are set.
    pub fn render(self, unset: &[&str], set: &[(&str, String)]) -> String {
        match self {
            Output::Shell(shell) => shell.render(unset, set),
            Output::Json => {
                let object: serde_json::Map<String, serde_json::Value> = set
                    .iter()
                    .map(|(name, value)| {
                        (name.to_string(), serde_json::Value::String(value.clone()))
                    })
                    .collect();
                serde_json::Value::Object(object).to_string() + "\n"
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn login_shells() {
        assert_eq!(Shell::from_login_shell("/usr/bin/zsh"), Ok(Shell::Zsh));
        assert_eq!(Shell::from_login_shell("/bin/sh"), Ok(Shell::Bash));
        assert_eq!(Shell::from_login_shell(""), Ok(Shell::Bash));
        assert_eq!(Shell::from_login_shell("/bin/tcsh"), Err("tcsh".into()));
    }

    #[test]
    fn prompt_text_is_inert() {
        assert_eq!(
            Shell::prompt_text(Some(Shell::Zsh), "a$(x)`y`\\!%\x1b"),
            "a?(x)?y???%%?"
        );
        assert_eq!(Shell::prompt_text(Some(Shell::Bash), "50%"), "50%");
        assert_eq!(Shell::prompt_text(None, "a\u{202e}b\u{2067}"), "a?b?");
    }

    #[test]
    fn json_is_one_more_renderer() {
        let set = [("ROLECALL_PROFILE", "a\"b".to_string())];
        assert_eq!(
            Output::Json.render(&["GONE"], &set),
            "{\"ROLECALL_PROFILE\":\"a\\\"b\"}\n"
        );
        assert_eq!(
            Output::Shell(Shell::Fish).render(&["GONE"], &set),
            "builtin set -e -g GONE; builtin true;\nbuiltin set -gx ROLECALL_PROFILE 'a\"b';\n"
        );
        assert_eq!(Shell::Bash.joined_variables(&["A", "B"]), "\"${A-}|${B-}\"");
        assert_eq!(Shell::Fish.joined_variables(&["A", "B"]), "\"$A|$B\"");
    }
}
