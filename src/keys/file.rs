//! The edits `keys` makes to the credentials file, as text in, text out: only the lines of one
//! profile's sections change, every other byte stays as it was (comments, other profiles, line
//! endings). Which profile a section is comes from the same index that lists profiles; what
//! its keys are is aws-config's parser's word (the caller's).

use crate::profile::files::ConfigFile;
use crate::profile::index::ProfileIndex;
use crate::profile::keyring_line::keyring_profile;
use aws_runtime::env_config::file::EnvConfigFileKind;
use std::ops::Range;

const ACCESS_KEY_ID: &str = "aws_access_key_id";
const SECRET_ACCESS_KEY: &str = "aws_secret_access_key";
const PROCESS: &str = "credential_process";

/// One line of a section: where it is (its ending included) and the property it sets, if any.
struct Line {
    range: Range<usize>,
    property: Option<String>,
    value: String,
}

/// The sections of `profile` in a credentials file's `text`: their header lines' ranges and
/// their other lines.
fn sections_of(text: &str, profile: &str) -> Vec<(Range<usize>, Vec<Line>)> {
    let index = ProfileIndex::build(vec![ConfigFile {
        kind: EnvConfigFileKind::Credentials,
        path: String::new(),
        contents: text.to_string(),
    }]);
    index
        .sections()
        .filter(|section| section.is_profile && section.name == profile)
        .map(|section| {
            let mut lines = lines_in(text, section.lines.clone()).into_iter();
            let header = lines
                .next()
                .map(|l| l.range)
                .unwrap_or(section.lines.start..section.lines.start);
            (header, lines.collect())
        })
        .collect()
}

fn lines_in(text: &str, range: Range<usize>) -> Vec<Line> {
    let mut lines = Vec::new();
    let mut start = range.start;
    while start < range.end {
        let end = text[start..range.end]
            .find('\n')
            .map_or(range.end, |at| start + at + 1);
        let body = text[start..end].trim_end_matches(['\n', '\r']);
        // A continuation line (indented) belongs to the property before it; a comment sets none.
        let starts_plain = !body.starts_with([' ', '\t', '#', ';']);
        let (property, value) = match body.split_once('=') {
            Some((key, value)) if starts_plain => (
                Some(key.trim().to_ascii_lowercase()),
                value.trim().to_string(),
            ),
            _ => (None, String::new()),
        };
        lines.push(Line {
            range: start..end,
            property,
            value,
        });
        start = end;
    }
    lines
}

/// The line ending `text` uses after its line at `range`, for lines added beside it.
fn ending_of(text: &str, range: &Range<usize>) -> &'static str {
    if text[range.clone()].ends_with("\r\n") {
        "\r\n"
    } else {
        "\n"
    }
}

/// `text` with these ranges replaced (ranges in order, not overlapping).
fn rewritten(text: &str, mut changes: Vec<(Range<usize>, String)>) -> String {
    changes.sort_by_key(|(range, _)| range.start);
    let mut out = String::with_capacity(text.len() + 128);
    let mut at = 0;
    for (range, replacement) in changes {
        out.push_str(&text[at..range.start]);
        out.push_str(&replacement);
        at = range.end;
    }
    out.push_str(&text[at..]);
    out
}

/// The text with `profile`'s keys replaced by `credential_process = {command}`: the first
/// access key ID line becomes the process line, every secret key line goes.
pub fn keys_replaced(text: &str, profile: &str, command: &str) -> String {
    let mut changes = Vec::new();
    let mut placed = false;
    for (_, lines) in sections_of(text, profile) {
        for line in lines {
            match line.property.as_deref() {
                Some(ACCESS_KEY_ID) if !placed => {
                    let ending = ending_of(text, &line.range);
                    changes.push((line.range, format!("{PROCESS} = {command}{ending}")));
                    placed = true;
                }
                Some(ACCESS_KEY_ID | SECRET_ACCESS_KEY) => {
                    changes.push((line.range, String::new()))
                }
                _ => {}
            }
        }
    }
    rewritten(text, changes)
}

/// The text with `credential_process = {command}` added to `profile`'s section, right under its
/// header, or in a new section at the end.
pub fn line_added(text: &str, profile: &str, command: &str) -> String {
    if let Some((header, _)) = sections_of(text, profile).into_iter().last() {
        let ending = ending_of(text, &header);
        let mut added = String::new();
        if !text[header.clone()].ends_with('\n') {
            added.push_str(ending);
        }
        added.push_str(&format!("{PROCESS} = {command}{ending}"));
        return rewritten(text, vec![(header.end..header.end, added)]);
    }
    let separator = match text {
        "" => "",
        t if t.ends_with("\n\n") || t.ends_with("\r\n\r\n") => "",
        t if t.ends_with('\n') => "\n",
        _ => "\n\n",
    };
    format!("{text}{separator}[{profile}]\n{PROCESS} = {command}\n")
}

/// The text without `profile`'s rolecall keyring line(s); the section itself stays.
pub fn line_removed(text: &str, profile: &str) -> String {
    let changes = sections_of(text, profile)
        .into_iter()
        .flat_map(|(_, lines)| lines)
        .filter(|line| {
            line.property.as_deref() == Some(PROCESS) && keyring_profile(&line.value).is_some()
        })
        .map(|line| (line.range, String::new()))
        .collect();
    rewritten(text, changes)
}

#[cfg(test)]
mod tests {
    use super::*;

    const LINE: &str = "/bin/rolecall keys credential-process dev";

    #[test]
    fn import_touches_only_the_keys_of_that_profile() {
        let text = "# mine\r\n[other]\r\naws_access_key_id = AKIAOTHER\r\n\r\n[dev]\r\n\
                    aws_access_key_id = AKIADEV\r\n# note\r\nregion = eu-west-1\r\n\
                    aws_secret_access_key = s3cr3t\r\n[dev2]\r\naws_access_key_id = AKIAX\r\n";
        let out = keys_replaced(text, "dev", LINE);
        assert_eq!(
            out,
            format!(
                "# mine\r\n[other]\r\naws_access_key_id = AKIAOTHER\r\n\r\n[dev]\r\n\
                 credential_process = {LINE}\r\n# note\r\nregion = eu-west-1\r\n\
                 [dev2]\r\naws_access_key_id = AKIAX\r\n"
            )
        );
        assert!(!out.contains("s3cr3t"));
    }

    #[test]
    fn a_line_is_added_under_the_header_or_in_a_new_section() {
        assert_eq!(
            line_added("[dev]\nregion = x\n", "dev", LINE),
            format!("[dev]\ncredential_process = {LINE}\nregion = x\n")
        );
        assert_eq!(
            line_added("[dev]", "dev", LINE),
            format!("[dev]\ncredential_process = {LINE}\n")
        );
        assert_eq!(
            line_added("[a]\nx = 1", "dev", LINE),
            format!("[a]\nx = 1\n\n[dev]\ncredential_process = {LINE}\n")
        );
        assert_eq!(
            line_added("", "dev", LINE),
            format!("[dev]\ncredential_process = {LINE}\n")
        );
    }

    #[test]
    fn remove_takes_only_rolecall_s_own_line() {
        let text = format!(
            "[dev]\ncredential_process = {LINE}\nregion = x\n[ops]\ncredential_process = {LINE}\n"
        );
        assert_eq!(
            line_removed(&text, "dev"),
            format!("[dev]\nregion = x\n[ops]\ncredential_process = {LINE}\n")
        );
        let foreign = "[dev]\ncredential_process = /bin/other\n";
        assert_eq!(line_removed(foreign, "dev"), foreign);
    }
}
