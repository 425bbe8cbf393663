//! The integration scripts (`shell/rolecall.{bash,zsh,fish}`, embedded in the binary) and how
//! one is made: optional parts sit between `rolecall:NAME-begin` and `rolecall:NAME-end` marker
//! lines and are left out when not wanted, so the printed script holds only what runs, and the
//! placeholders are filled with the facts that live in the binary.

use super::Shell;

const BASH: &str = include_str!("../../shell/rolecall.bash");
const ZSH: &str = include_str!("../../shell/rolecall.zsh");
const FISH: &str = include_str!("../../shell/rolecall.fish");
const NU: &str = include_str!("../../shell/rolecall.nu");

/// What goes into an integration script.
pub struct Integration<'a> {
    /// The assume function's name (checked with `is_usable_function_name`).
    pub function: &'a str,
    pub prompt: bool,
    pub auto_refresh: bool,
    /// The variable that makes the binary answer Tab completion.
    pub completion_variable: &'a str,
    /// Under this many seconds left, auto-refresh renews a session.
    pub refresh_seconds: i64,
    /// The variables `rolecall prompt` reads: when one changes, the segment is drawn again.
    pub prompt_inputs: &'a [&'a str],
    /// The flags of `rolecall assume` the function passes on: nushell's signature names each.
    pub flags: &'a [Flag],
}

/// A flag of `rolecall assume`, as a shell that declares its functions' flags needs it.
pub struct Flag {
    pub long: String,
    pub short: Option<char>,
    /// It takes a value (else it is a switch).
    pub takes_value: bool,
    pub help: String,
}

/// The placeholders in the templates.
const FUNCTION_PLACEHOLDER: &str = "__ROLECALL_CMD__";
const COMPLETION_PLACEHOLDER: &str = "__ROLECALL_COMPLETION_VARIABLE__";
const REFRESH_PLACEHOLDER: &str = "__ROLECALL_REFRESH_SECONDS__";
const PROMPT_KEY_PLACEHOLDER: &str = "__ROLECALL_PROMPT_KEY__";
const NU_FLAGS_PLACEHOLDER: &str = "__ROLECALL_NU_FLAGS__";
const NU_ARGUMENTS_PLACEHOLDER: &str = "__ROLECALL_NU_ARGUMENTS__";

/// Names a function must not take: rolecall itself, and the builtins and keywords the
/// integration and the code it evaluates call.
const RESERVED_NAMES: &[&str] = &[
    "rolecall",
    "builtin",
    "command",
    "export",
    "unset",
    "eval",
    "set",
    "source",
    "local",
    "return",
    "test",
    "true",
    "false",
    "printf",
    "read",
    "trap",
    "typeset",
    "declare",
    "alias",
    "unalias",
    "function",
    "complete",
    "compdef",
    "string",
    "functions",
    "exec",
    "exit",
    "cd",
    "echo",
    "env",
    "if",
    "then",
    "else",
    "fi",
    "case",
    "esac",
    "for",
    "while",
    "do",
    "done",
    "end",
    "begin",
    "and",
    "or",
    "not",
    "def",
    "let",
    "mut",
    "print",
    "load-env",
    "hide-env",
    "with-env",
    "try",
    "catch",
    "use",
    "overlay",
    "ignore",
];

/// Whether `name` can name the assume function in every shell: letters, digits, `_` and `-`, no
/// builtin or keyword, and nothing of the integration's own (`--cmd __rolecall_assume` would
/// make the function call itself until the shell crashes).
pub fn is_usable_function_name(name: &str) -> bool {
    let well_formed = name
        .chars()
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-');
    well_formed && !RESERVED_NAMES.contains(&name) && !name.starts_with("__rolecall")
}

impl Shell {
    fn template(self) -> &'static str {
        match self {
            Shell::Bash => BASH,
            Shell::Zsh => ZSH,
            Shell::Fish => FISH,
            Shell::Nu => NU,
        }
    }

    /// The integration script for this shell.
    pub fn integration(self, parts: &Integration) -> String {
        let mut left_out = Vec::new();
        if !parts.prompt {
            left_out.push("prompt");
        }
        if !parts.auto_refresh {
            left_out.push("refresh");
        }
        // With neither part, bash needs no PROMPT_COMMAND hook at all.
        if !parts.prompt && !parts.auto_refresh {
            left_out.push("hook");
        }
        without_parts(self.template(), &left_out)
            .replace(FUNCTION_PLACEHOLDER, parts.function)
            .replace(COMPLETION_PLACEHOLDER, parts.completion_variable)
            .replace(REFRESH_PLACEHOLDER, &parts.refresh_seconds.to_string())
            .replace(
                PROMPT_KEY_PLACEHOLDER,
                &self.joined_variables(parts.prompt_inputs),
            )
            .replace(NU_FLAGS_PLACEHOLDER, &nu_signature(parts.flags))
            .replace(NU_ARGUMENTS_PLACEHOLDER, &nu_arguments(parts.flags))
    }
}

/// nushell's variable for a flag: `--no-cache` is `$no_cache`.
fn nu_variable(flag: &Flag) -> String {
    flag.long.replace('-', "_")
}

/// One signature line per flag, with its help as nushell's description comment. Values are
/// completed by the binary, like the target.
fn nu_signature(flags: &[Flag]) -> String {
    flags
        .iter()
        .map(|flag| {
            let short = flag.short.map(|c| format!("(-{c})")).unwrap_or_default();
            let kind = if flag.takes_value {
                ": string@__rolecall_complete"
            } else {
                ""
            };
            let help: String = flag.help.chars().filter(|c| !c.is_control()).collect();
            format!("    --{}{short}{kind}  # {help}\n", flag.long)
        })
        .collect::<String>()
        .trim_end()
        .to_string()
}

/// The pipeline lines that turn the given flags back into `rolecall assume` arguments.
fn nu_arguments(flags: &[Flag]) -> String {
    flags
        .iter()
        .map(|flag| {
            let (long, variable) = (&flag.long, nu_variable(flag));
            if flag.takes_value {
                format!(
                    "        | append (if ${variable} != null {{ [\"--{long}\" ${variable}] }} else {{ [] }})\n"
                )
            } else {
                format!("        | append (if ${variable} {{ [\"--{long}\"] }} else {{ [] }})\n")
            }
        })
        .collect::<String>()
        .trim_end()
        .to_string()
}

/// The template without the marked parts named in `left_out`, and without any marker lines.
fn without_parts(template: &str, left_out: &[&str]) -> String {
    let mut out = String::with_capacity(template.len());
    let mut skipping: Option<&str> = None;
    for line in template.lines() {
        let marker = line.trim().strip_prefix("# rolecall:");
        match (marker, skipping) {
            (Some(m), None) => {
                if let Some(part) = m.strip_suffix("-begin") {
                    skipping = left_out.iter().copied().find(|p| *p == part);
                }
            }
            (Some(m), Some(part)) => {
                if m.strip_suffix("-end") == Some(part) {
                    skipping = None;
                }
            }
            (None, None) => {
                out.push_str(line);
                out.push('\n');
            }
            (None, Some(_)) => {}
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn script(shell: Shell, prompt: bool, auto_refresh: bool) -> String {
        shell.integration(&Integration {
            function: "assume",
            prompt,
            auto_refresh,
            completion_variable: "ROLECALL_COMPLETE",
            refresh_seconds: 300,
            prompt_inputs: &["ROLECALL_PROFILE", "NO_COLOR"],
            flags: &[
                Flag {
                    long: "no-cache".into(),
                    short: None,
                    takes_value: false,
                    help: "no cache".into(),
                },
                Flag {
                    long: "region".into(),
                    short: Some('r'),
                    takes_value: true,
                    help: "region".into(),
                },
            ],
        })
    }

    #[test]
    fn bash_gets_a_prompt_hook_only_when_a_part_needs_one() {
        assert!(!script(Shell::Bash, false, false).contains("PROMPT_COMMAND"));
        assert!(script(Shell::Bash, false, true).contains("PROMPT_COMMAND"));
        assert!(script(Shell::Bash, true, false).contains("PROMPT_COMMAND"));
        assert!(!script(Shell::Bash, true, false).contains("DEBUG"));
    }

    #[test]
    fn every_placeholder_and_marker_is_gone() {
        for shell in Shell::ALL {
            for (prompt, refresh) in [(true, true), (true, false), (false, true), (false, false)] {
                let text = script(shell, prompt, refresh);
                assert!(
                    !text.contains("__ROLECALL_"),
                    "{shell:?}: a placeholder was left"
                );
                assert!(
                    !text.contains("# rolecall:"),
                    "{shell:?}: a marker was left"
                );
            }
        }
        assert!(script(Shell::Zsh, true, false).contains("\"${ROLECALL_PROFILE-}|${NO_COLOR-}\""));
    }

    #[test]
    fn builtin_and_internal_names_cannot_name_the_function() {
        for name in [
            "export",
            "unset",
            "rolecall",
            "1abc",
            "a b",
            "",
            "__rolecall_assume",
            "__rolecall_hook",
            "__rolecall",
        ] {
            assert!(!is_usable_function_name(name), "{name:?}");
        }
        for name in ["assume", "become", "aws-as", "_a"] {
            assert!(is_usable_function_name(name), "{name:?}");
        }
    }

    #[test]
    fn marked_parts_are_left_out_and_markers_removed() {
        let template = "a\n# rolecall:prompt-begin\nb\n# rolecall:prompt-end\n  # rolecall:refresh-begin\nc\n  # rolecall:refresh-end\nd\n";
        assert_eq!(without_parts(template, &["prompt"]), "a\nc\nd\n");
        assert_eq!(without_parts(template, &[]), "a\nb\nc\nd\n");
        assert_eq!(without_parts(template, &["prompt", "refresh"]), "a\nd\n");
    }
}
