//! The `credential_process` line a keyring profile gets, so every other AWS tool reaches its key
//! through rolecall: `credential_process = <rolecall> keys credential-process PROFILE`. rolecall
//! itself recognises the line and reads the keyring directly, never running itself.

use crate::error::{printable, Failure, Result};
use std::path::Path;

/// The words after the program.
const SUBCOMMAND: [&str; 2] = ["keys", "credential-process"];

/// The characters AWS tools accept in a profile name. With only these, a name needs no quoting
/// in the line, which botocore splits as a shell would and the Rust SDK hands to `sh -c`.
pub fn is_profile_name_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || "_-/.%@:+".contains(c)
}

/// Refuses a name the line could not carry as one plain word.
pub fn check_profile_name(name: &str) -> Result<()> {
    if !name.is_empty() && name.chars().all(is_profile_name_char) {
        return Ok(());
    }
    Err(Failure::usage(format!(
        "`{}` is not a profile name AWS tools accept: use letters, digits and _ - / . % @ : +",
        printable(name)
    )))
}

/// The value of the line for `profile`, naming `program` (rolecall's own path).
pub fn render(program: &str, profile: &str) -> String {
    let [keys, process] = SUBCOMMAND;
    format!("{program} {keys} {process} {profile}")
}

/// How the line names rolecall: `rolecall` when that is what PATH finds first, else the
/// binary's own path (quoted when it needs to be), so the line works for tools started without
/// rolecall on their PATH.
pub fn program_word(path_variable: Option<&std::ffi::OsStr>) -> Result<String> {
    let own = std::env::current_exe()
        .and_then(std::fs::canonicalize)
        .map_err(|e| Failure::local(format!("cannot tell where rolecall is installed: {e}")))?;
    let found_first = path_variable.and_then(|paths| {
        std::env::split_paths(paths)
            .map(|dir| dir.join("rolecall"))
            .find(|candidate| candidate.is_file())
    });
    if found_first.and_then(|p| std::fs::canonicalize(p).ok()) == Some(own.clone()) {
        return Ok("rolecall".into());
    }
    quote_path(&own)
}

fn quote_path(path: &Path) -> Result<String> {
    let text = path
        .to_str()
        .filter(|t| !t.contains('\'') && !t.chars().any(char::is_control) && !t.contains('\u{7f}'));
    let Some(text) = text else {
        return Err(Failure::usage(format!(
            "rolecall's path {} has a quote or control character in it, which a \
             credential_process line cannot carry safely; install it elsewhere",
            printable(&path.to_string_lossy())
        )));
    };
    let plain = text
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || "_-/.+@%:,=".contains(c));
    Ok(if plain {
        text.to_string()
    } else {
        format!("'{text}'")
    })
}

/// The profile whose keyring key `command` asks for, when it is rolecall's line; `None` for any
/// other command, which is then run as the SDKs would.
pub fn keyring_profile(command: &str) -> Option<String> {
    let words = split_words(command.trim())?;
    let [program, keys, process, profile] = words.as_slice() else {
        return None;
    };
    let is_rolecall = Path::new(program).file_name()? == "rolecall";
    (is_rolecall && [keys.as_str(), process.as_str()] == SUBCOMMAND)
        .then(|| profile.clone())
        .filter(|name| check_profile_name(name).is_ok())
}

/// Splits what `render` writes into words: plain words and single-quoted ones. Anything a shell
/// would treat specially outside quotes makes it not rolecall's line (`None`).
fn split_words(text: &str) -> Option<Vec<String>> {
    let mut words = Vec::new();
    let mut current: Option<String> = None;
    let mut chars = text.chars();
    while let Some(c) = chars.next() {
        match c {
            ' ' | '\t' => words.extend(current.take()),
            '\'' => {
                let word = current.get_or_insert_with(String::new);
                loop {
                    match chars.next()? {
                        '\'' => break,
                        inner => word.push(inner),
                    }
                }
            }
            c if c.is_ascii_alphanumeric() || "_-/.+@%:,=".contains(c) => {
                current.get_or_insert_with(String::new).push(c)
            }
            _ => return None,
        }
    }
    words.extend(current);
    Some(words)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_line_rolecall_writes_is_the_line_it_recognises() {
        for (program, profile) in [
            ("rolecall", "dev"),
            ("/usr/bin/rolecall", "team/ops@acme:1+x%y"),
            ("'/home/ana smith/bin/rolecall'", "a.b_c-d"),
        ] {
            let line = render(program, profile);
            assert_eq!(keyring_profile(&line).as_deref(), Some(profile), "{line}");
        }
        assert_eq!(
            quote_path(Path::new("/home/ana smith/rolecall")).unwrap(),
            "'/home/ana smith/rolecall'"
        );
        assert!(quote_path(Path::new("/tmp/it's/rolecall")).is_err());
    }

    #[test]
    fn other_commands_are_not_mistaken_for_it() {
        for command in [
            "rolecall credential-process dev",
            "rolecall keys credential-process",
            "rolecall keys credential-process dev extra",
            "notrolecall keys credential-process dev",
            "rolecall keys credential-process $(whoami)",
            "rolecall keys credential-process dev; rm -rf ~",
            "rolecall keys credential-process 'unterminated",
            "rolecall keys credential-process \"dev\"",
            "rolecall keys credential-process 'a b'",
            "aws-vault export --format=json dev",
        ] {
            assert_eq!(keyring_profile(command), None, "{command}");
        }
    }

    #[test]
    fn profile_names_outside_what_aws_tools_accept_are_refused() {
        for bad in [
            "",
            "a b",
            "$(touch x)",
            "a;b",
            "a'b",
            "a\nb",
            "é",
            "[x]",
            "a=b",
        ] {
            assert!(check_profile_name(bad).is_err(), "{bad:?}");
        }
        check_profile_name("prod-admin/eu_1.x@acme:2+%").unwrap();
    }
}
