//! `rolecall init <shell>`: prints the shell integration from `shell/`, embedded in the binary.
//! Optional parts sit between `rolecall:NAME-begin` and `rolecall:NAME-end` marker lines and
//! are left out when not wanted, so the printed script holds only what runs.

use crate::cli::{InitArgs, ShellKind};
use crate::error::{printable, Failure, Result};

const BASH: &str = include_str!("../../shell/rolecall.bash");
const ZSH: &str = include_str!("../../shell/rolecall.zsh");
const FISH: &str = include_str!("../../shell/rolecall.fish");

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
];

/// The placeholders in the templates: the function's name, and the seconds left under which a
/// session is renewed (the cache's own threshold, so a renewal never gets the same credentials).
const CMD_PLACEHOLDER: &str = "__ROLECALL_CMD__";
const COMPLETION_PLACEHOLDER: &str = "__ROLECALL_COMPLETION_VARIABLE__";
const REFRESH_PLACEHOLDER: &str = "__ROLECALL_REFRESH_SECONDS__";

pub fn run(args: InitArgs) -> Result<()> {
    super::emit(&script(&args)?)
}

pub fn script(args: &InitArgs) -> Result<String> {
    let valid_name = args
        .cmd
        .chars()
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && args
            .cmd
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-');
    // The integration's own functions start with `__rolecall`: `--cmd __rolecall_assume` would
    // make the function call itself until the shell crashes.
    if !valid_name
        || RESERVED_NAMES.contains(&args.cmd.as_str())
        || args.cmd.starts_with("__rolecall")
    {
        return Err(Failure::usage(format!(
            "`{}` cannot name the function: use letters, digits, _ and -, and no name the \
             shell or rolecall already uses",
            printable(&args.cmd)
        )));
    }
    let template = match args.shell {
        ShellKind::Bash => BASH,
        ShellKind::Zsh => ZSH,
        ShellKind::Fish => FISH,
    };
    let mut left_out = Vec::new();
    if args.no_prompt {
        left_out.push("prompt");
    }
    if !args.auto_refresh {
        left_out.push("refresh");
    }
    // With neither part, bash needs no PROMPT_COMMAND hook at all.
    if args.no_prompt && !args.auto_refresh {
        left_out.push("hook");
    }
    Ok(without_parts(template, &left_out)
        .replace(CMD_PLACEHOLDER, &args.cmd)
        .replace(COMPLETION_PLACEHOLDER, crate::cli::COMPLETION_VARIABLE)
        .replace(
            REFRESH_PLACEHOLDER,
            &crate::cache::MINIMUM_SECONDS_LEFT.to_string(),
        ))
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

    fn bash(no_prompt: bool, auto_refresh: bool) -> String {
        script(&InitArgs {
            shell: ShellKind::Bash,
            cmd: "assume".into(),
            no_prompt,
            auto_refresh,
        })
        .unwrap()
    }

    #[test]
    fn bash_gets_a_prompt_hook_only_when_a_part_needs_one() {
        assert!(!bash(true, false).contains("PROMPT_COMMAND"));
        assert!(bash(true, true).contains("PROMPT_COMMAND"));
        assert!(bash(false, false).contains("PROMPT_COMMAND"));
        assert!(!bash(false, false).contains("DEBUG"));
        assert!(
            !bash(false, true).contains("__ROLECALL_"),
            "a placeholder was left"
        );
    }

    #[test]
    fn builtin_names_cannot_name_the_function() {
        for name in [
            "export",
            "unset",
            "rolecall",
            "1abc",
            "a b",
            "__rolecall_assume",
            "__rolecall_hook",
            "__rolecall",
        ] {
            let args = InitArgs {
                shell: ShellKind::Zsh,
                cmd: name.into(),
                no_prompt: false,
                auto_refresh: false,
            };
            assert!(script(&args).is_err(), "{name}");
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
