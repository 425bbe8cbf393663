//! A fast index of the profile files: section names, where each section's text lies, and the few
//! keys that completion, the picker and chain-walking need. aws-config's parser stays the
//! authority on what a profile means; this index only decides what to list, and which sections
//! to hand that parser, so a config of thousands of profiles costs milliseconds, not tens of them.
//!
//! It follows the parser's rules for lines, comments, headers and profile names. Where it meets
//! anything it does not understand (a malformed header), it says so, and callers fall back to
//! parsing everything.
//!
//! The scan copies nothing: a section keeps byte ranges into its file's text, and listing lends
//! out slices of that text. Generated configs hold tens of thousands of sections, and a string
//! per name and value was most of what listing them cost.

use super::files::ConfigFile;
use crate::env::Env;
use aws_runtime::env_config::file::EnvConfigFileKind;
use std::ops::Range;

/// Where some text lies within one file's text. `u32` offsets: files are at most 64 MiB, and the
/// smaller record keeps the index of a huge config small.
#[derive(Clone, Copy)]
struct Span {
    start: u32,
    end: u32,
}

impl Span {
    /// The span of `part`, a slice of `text`.
    fn within(text: &str, part: &str) -> Span {
        let start = part.as_ptr() as usize - text.as_ptr() as usize;
        Span {
            start: start as u32,
            end: (start + part.len()) as u32,
        }
    }

    fn of(self, text: &str) -> &str {
        &text[self.start as usize..self.end as usize]
    }

    fn range(self) -> Range<usize> {
        self.start as usize..self.end as usize
    }
}

/// One `[section]` of one file.
struct Section {
    /// Index into `ProfileIndex::files`.
    file: usize,
    kind: SectionKind,
    name: Span,
    /// The section's lines, header included.
    lines: Span,
    role_arn: Option<Span>,
    source_profile: Option<Span>,
    description: Option<Span>,
}

#[derive(PartialEq, Eq, Clone, Copy)]
enum SectionKind {
    Profile,
    SsoSession,
    Other,
}

pub struct ProfileIndex {
    pub files: Vec<ConfigFile>,
    sections: Vec<Section>,
    /// A line the index could not read; the full parser will explain it.
    pub confused: bool,
    /// Profile headers every AWS tool ignores because of the characters in the name.
    pub ignored: Vec<String>,
}

/// A section as the rest of rolecall sees it: which file it is in, what it is, and where.
pub struct SectionAt<'a> {
    /// Index into `ProfileIndex::files`.
    pub file: usize,
    /// A profile (`[profile …]`, `[default]`, a credentials file's `[name]`), not an
    /// sso-session or another kind.
    pub is_profile: bool,
    pub name: &'a str,
    /// Its lines, header included, within its file's text.
    pub lines: Range<usize>,
}

/// One profile as listed: name, role and description (later sections win, as in the SDKs),
/// borrowed from the files' text.
#[derive(Debug, PartialEq, Eq)]
pub struct Listed<'a> {
    pub name: &'a str,
    pub role_arn: Option<&'a str>,
    pub description: Option<&'a str>,
}

fn is_blank(byte: u8) -> bool {
    byte == b' ' || byte == b'\t'
}

/// `text` without the spaces and tabs around it. Byte by byte: both are ASCII, so every cut
/// falls between characters, and it is several times faster than `trim_matches` on the tens of
/// thousands of lines of a generated config.
fn trim_blanks(text: &str) -> &str {
    let bytes = text.as_bytes();
    let start = bytes
        .iter()
        .position(|b| !is_blank(*b))
        .unwrap_or(bytes.len());
    let end = bytes
        .iter()
        .rposition(|b| !is_blank(*b))
        .map_or(start, |at| at + 1);
    &text[start..end]
}

/// Where a comment starts in `text`: `#` or `;` after whitespace, or anywhere when `anywhere`.
/// Only a marker's neighbour is decoded, never the whole text.
fn comment_start(text: &str, anywhere: bool) -> Option<usize> {
    let bytes = text.as_bytes();
    let mut from = 0;
    while let Some(found) = memchr::memchr2(b'#', b';', &bytes[from..]) {
        let at = from + found;
        if anywhere
            || text[..at]
                .chars()
                .next_back()
                .is_some_and(char::is_whitespace)
        {
            return Some(at);
        }
        from = at + 1;
    }
    None
}

/// A line without its comment and the whitespace around it.
fn without_comment(line: &str, anywhere: bool) -> &str {
    let line = trim_blanks(line);
    let end = comment_start(line, anywhere).unwrap_or(line.len());
    trim_blanks(&line[..end])
}

/// `key = value` split at the first `=`: the key trimmed, the value as written (comment and all,
/// see `value_of`). None when the line is no property: no `=` before any comment, or no key.
fn split_property(line: Line<'_>) -> Option<(&str, &str)> {
    // Keys are short: a plain loop finds the `=` sooner than a vectorised search starts up.
    let equals = line.text.bytes().position(|b| b == b'=')?;
    let (key, value) = (&line.text[..equals], &line.text[equals + 1..]);
    if line.has_comment_marker && comment_start(key, false).is_some() {
        return None;
    }
    let key = trim_blanks(key);
    (!key.is_empty()).then_some((key, value))
}

/// A property's value without its comment. The `=` before it is no whitespace, so a `#` right
/// after the `=` starts no comment, as when the whole line is read at once.
fn value_of(raw: &str, has_comment_marker: bool) -> &str {
    let end = match has_comment_marker {
        true => comment_start(raw, false).unwrap_or(raw.len()),
        false => raw.len(),
    };
    trim_blanks(&raw[..end])
}

fn valid_name(name: &str) -> bool {
    !name.is_empty()
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"_-/.%@:+".contains(&b))
}

/// What a section header says, as the SDKs read it.
enum Header<'a> {
    /// A section they use: a profile, an sso-session or another kind, with its name.
    Section(SectionKind, &'a str),
    /// A profile whose name every SDK rejects: ignored, and worth telling the person about.
    IgnoredProfile,
    /// Another section they ignore (a header without a name, say).
    Ignored,
}

/// What a header's inside names, in a file of `kind`.
fn classify(inside: &str, kind: EnvConfigFileKind) -> Header<'_> {
    let inside = trim_blanks(inside);
    let (section, name) = match kind {
        EnvConfigFileKind::Credentials => (SectionKind::Profile, inside),
        EnvConfigFileKind::Config if inside == "default" => (SectionKind::Profile, inside),
        EnvConfigFileKind::Config => {
            let Some(blank) = inside.bytes().position(is_blank) else {
                return Header::Ignored;
            };
            let (prefix, rest) = inside.split_at(blank);
            let kind = match prefix {
                "profile" => SectionKind::Profile,
                "sso-session" => SectionKind::SsoSession,
                _ => SectionKind::Other,
            };
            (kind, trim_blanks(rest))
        }
    };
    if valid_name(name) {
        Header::Section(section, name)
    } else if section == SectionKind::Profile {
        Header::IgnoredProfile
    } else {
        Header::Ignored
    }
}

/// One line of a file, without its line break.
#[derive(Clone, Copy)]
struct Line<'a> {
    text: &'a str,
    /// The offset just past the line break.
    end: usize,
    /// Whether a `#` or `;` is in the line: without one, nothing in it needs looking at for a
    /// comment, which spares nearly every line of a config that search.
    has_comment_marker: bool,
}

/// The lines of `text`. One vectorised pass over the whole text finds both the line breaks and
/// the (rare) comment markers, instead of a search per line for each.
fn lines(text: &str) -> impl Iterator<Item = Line<'_>> {
    let unterminated = !text.is_empty() && !text.ends_with('\n');
    let mut found = memchr::memchr3_iter(b'\n', b'#', b';', text.as_bytes())
        .chain(unterminated.then_some(text.len()));
    let mut start = 0;
    std::iter::from_fn(move || {
        let mut has_comment_marker = false;
        let end = loop {
            match found.next()? {
                at if at == text.len() => break at,
                at if text.as_bytes()[at] == b'\n' => break at + 1,
                _ => has_comment_marker = true,
            }
        };
        let mut line = &text[start..end];
        while let Some(shorter) = line.strip_suffix('\n').or_else(|| line.strip_suffix('\r')) {
            line = shorter;
        }
        start = end;
        Some(Line {
            text: line,
            end,
            has_comment_marker,
        })
    })
}

/// What the scan of the files has found so far.
struct Scan {
    sections: Vec<Section>,
    confused: bool,
    ignored: Vec<String>,
}

impl Scan {
    fn file(&mut self, file_index: usize, file: &ConfigFile) {
        let text = file.contents.as_str();
        let mut current: Option<Section> = None;
        let mut skipping = false;
        let mut has_property = false;
        for whole in lines(text) {
            let (line, end) = (whole.text, whole.end);
            let start = Span::within(text, line).start;
            match line.bytes().find(|b| !is_blank(*b)) {
                None | Some(b'#') | Some(b';') => continue,
                Some(_) => {}
            }
            if line.starts_with('[') {
                let header = without_comment(line, true);
                let Some(inside) = header.strip_prefix('[').and_then(|h| h.strip_suffix(']'))
                else {
                    self.confused = true;
                    continue;
                };
                self.sections.extend(current.take());
                skipping = false;
                has_property = false;
                match classify(inside, file.kind) {
                    Header::Section(kind, name) => {
                        current = Some(Section {
                            file: file_index,
                            kind,
                            name: Span::within(text, name),
                            lines: Span {
                                start,
                                end: end as u32,
                            },
                            role_arn: None,
                            source_profile: None,
                            description: None,
                        })
                    }
                    Header::IgnoredProfile => {
                        self.ignored.push(trim_blanks(inside).to_string());
                        skipping = true;
                    }
                    Header::Ignored => skipping = true,
                }
                continue;
            }
            let Some(section) = current.as_mut() else {
                if !skipping && !line.bytes().next().is_some_and(is_blank) {
                    // A property before any section: the parser will object.
                    self.confused = true;
                }
                continue;
            };
            section.lines.end = end as u32;
            if line.bytes().next().is_some_and(is_blank) {
                // A continuation needs a property above it in the same section.
                self.confused |= !has_property;
                continue;
            }
            let Some((key, raw_value)) = split_property(whole) else {
                // Not `key = value`: the parser rejects the file, and must say so.
                self.confused = true;
                continue;
            };
            has_property = true;
            let slot = if key.eq_ignore_ascii_case("role_arn") {
                &mut section.role_arn
            } else if key.eq_ignore_ascii_case("source_profile") {
                &mut section.source_profile
            } else if key.eq_ignore_ascii_case("rolecall_description") {
                &mut section.description
            } else {
                continue;
            };
            *slot = Some(Span::within(
                text,
                value_of(raw_value, whole.has_comment_marker),
            ));
        }
        self.sections.extend(current);
    }
}

impl ProfileIndex {
    pub fn load(env: &Env) -> crate::error::Result<ProfileIndex> {
        Ok(Self::build(super::files::config_files(env)?))
    }

    pub fn build(files: Vec<ConfigFile>) -> ProfileIndex {
        let mut scan = Scan {
            sections: Vec::new(),
            confused: false,
            ignored: Vec::new(),
        };
        for (file_index, file) in files.iter().enumerate() {
            scan.file(file_index, file);
        }
        ProfileIndex {
            files,
            sections: scan.sections,
            confused: scan.confused,
            ignored: scan.ignored,
        }
    }

    fn text(&self, section: &Section, span: Span) -> &str {
        span.of(&self.files[section.file].contents)
    }

    fn name(&self, section: &Section) -> &str {
        self.text(section, section.name)
    }

    /// Every section, in file order.
    pub fn sections(&self) -> impl Iterator<Item = SectionAt<'_>> {
        self.sections.iter().map(|section| SectionAt {
            file: section.file,
            is_profile: section.kind == SectionKind::Profile,
            name: self.name(section),
            lines: section.lines.range(),
        })
    }

    fn profiles(&self) -> impl Iterator<Item = &Section> {
        self.sections
            .iter()
            .filter(|s| s.kind == SectionKind::Profile)
    }

    /// Every profile, sorted by name, with what the later of its sections say.
    pub fn list(&self) -> Vec<Listed<'_>> {
        self.list_where(|_| true)
    }

    /// The profiles whose names `keep` accepts, as `list` gives them. Filtering before sorting
    /// saves completion most of the sort when a prefix is typed.
    pub fn list_where(&self, keep: impl Fn(&str) -> bool) -> Vec<Listed<'_>> {
        let mut listed: Vec<Listed> = self
            .profiles()
            .map(|section| Listed {
                name: self.name(section),
                role_arn: section.role_arn.map(|span| self.text(section, span)),
                description: section.description.map(|span| self.text(section, span)),
            })
            .filter(|profile| keep(profile.name))
            .collect();
        // A stable sort keeps the sections of one name in file order, so the later ones are
        // merged in last and win.
        listed.sort_by(|a, b| a.name.cmp(b.name));
        listed.dedup_by(|later, earlier| {
            if later.name != earlier.name {
                return false;
            }
            earlier.role_arn = later.role_arn.or(earlier.role_arn);
            earlier.description = later.description.or(earlier.description);
            true
        });
        listed
    }

    /// The files cut down to what resolving `target` can touch: its sections, those of every
    /// profile down its `source_profile` chain, `[default]`, and every non-profile section.
    /// None when the index cannot vouch for the cut (the caller then parses everything).
    pub fn subset_for(&self, targets: &[&str]) -> Option<Vec<ConfigFile>> {
        if self.confused {
            return None;
        }
        let mut wanted: Vec<&str> = Vec::new();
        let mut queue: Vec<&str> = targets.to_vec();
        while let Some(name) = queue.pop() {
            if name.is_empty() || wanted.contains(&name) {
                continue;
            }
            for section in self.profiles().filter(|s| self.name(s) == name) {
                queue.extend(section.source_profile.map(|span| self.text(section, span)));
            }
            wanted.push(name);
        }
        // `[default]` gives the region when the chain names none.
        wanted.push("default");
        let mut subset: Vec<ConfigFile> = self
            .files
            .iter()
            .map(|f| ConfigFile {
                kind: f.kind,
                path: f.path.clone(),
                contents: String::new(),
            })
            .collect();
        for section in &self.sections {
            let keep = section.kind != SectionKind::Profile || wanted.contains(&self.name(section));
            if keep {
                let text = &self.files[section.file].contents[section.lines.range()];
                let out = &mut subset[section.file].contents;
                out.push_str(text);
                if !out.ends_with('\n') {
                    out.push('\n');
                }
            }
        }
        Some(subset)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn index(config: &str, credentials: &str) -> ProfileIndex {
        ProfileIndex::build(vec![
            ConfigFile {
                kind: EnvConfigFileKind::Config,
                path: "config".into(),
                contents: config.into(),
            },
            ConfigFile {
                kind: EnvConfigFileKind::Credentials,
                path: "credentials".into(),
                contents: credentials.into(),
            },
        ])
    }

    #[test]
    fn lists_like_the_sdk_parser() {
        let config = "# comment\n[default]\nregion = eu-west-1\n[profile a] ; note\nRole_Arn = arn:x # c\n\
                      rolecall_description = Team A; with semicolon\n[profile bad name]\nx = y\n\
                      [sso-session s]\nsso_region = us-east-1\n[plain]\n[profile b]\ns3 =\n  max = 1\n";
        let index = index(
            config,
            "[c]\naws_access_key_id = k\n[a]\nrolecall_description = later\n",
        );
        let listed = index.list();
        let names: Vec<&str> = listed.iter().map(|l| l.name).collect();
        assert_eq!(names, ["a", "b", "c", "default"]);
        assert_eq!(listed[0].role_arn, Some("arn:x"));
        assert_eq!(listed[0].description, Some("later"));
        assert_eq!(index.ignored, ["profile bad name"]);
    }

    #[test]
    fn values_lose_comments_only_where_the_parser_sees_them() {
        let config = "[profile a]\nrole_arn =#not-a-comment\nrolecall_description = x;y ;z\n\
                      [profile b]\r\nROLE_ARN=  arn:b\t# tabbed\r\nrolecall_description = # all comment\n\
                      [profile c]\nsource_profile = a\nrole_arn = arn:c\n[profile c]\nrole_arn = arn:later\n";
        let index = index(config, "");
        assert!(!index.confused);
        let listed = index.list();
        let rows: Vec<(&str, Option<&str>, Option<&str>)> = listed
            .iter()
            .map(|l| (l.name, l.role_arn, l.description))
            .collect();
        assert_eq!(
            rows,
            [
                ("a", Some("#not-a-comment"), Some("x;y")),
                ("b", Some("arn:b"), Some("")),
                ("c", Some("arn:later"), None),
            ]
        );
    }

    #[test]
    fn listing_a_part_keeps_the_merge_of_all_sections_of_a_name() {
        let index = index(
            "[profile p-1]\nrole_arn = one\n[profile p-2]\n[profile q]\n[profile p-10]\n",
            "[p-1]\nrolecall_description = keys\n",
        );
        let listed = index.list_where(|name| name.starts_with("p-1"));
        assert_eq!(
            listed,
            [
                Listed {
                    name: "p-1",
                    role_arn: Some("one"),
                    description: Some("keys"),
                },
                Listed {
                    name: "p-10",
                    role_arn: None,
                    description: None,
                },
            ]
        );
    }

    #[test]
    fn lines_end_at_any_break_and_know_whether_a_comment_may_start_in_them() {
        let text = "a = 1\r\n[b] # c\n\nd = x;y\ne = z";
        let found: Vec<(&str, usize, bool)> = lines(text)
            .map(|line| (line.text, line.end, line.has_comment_marker))
            .collect();
        assert_eq!(
            found,
            [
                ("a = 1", 7, false),
                ("[b] # c", 15, true),
                ("", 16, false),
                ("d = x;y", 24, true),
                ("e = z", 29, false),
            ]
        );
        assert_eq!(lines("").count(), 0);
    }

    #[test]
    fn the_subset_follows_source_profiles() {
        let config =
            "[profile a]\nsource_profile = b\n[profile b]\nsource_profile = c\n[profile c]\n\
                      [profile unrelated]\nregion = x\n[sso-session s]\nsso_region = y\n";
        let subset = index(config, "[c]\naws_access_key_id = k\n[unrelated]\nk = v\n")
            .subset_for(&["a"])
            .unwrap();
        assert_eq!(
            subset[0].contents,
            "[profile a]\nsource_profile = b\n[profile b]\nsource_profile = c\n[profile c]\n[sso-session s]\nsso_region = y\n"
        );
        assert_eq!(subset[1].contents, "[c]\naws_access_key_id = k\n");
    }

    #[test]
    fn anything_the_parser_would_reject_makes_the_index_step_aside() {
        for broken in [
            "[profile a\n",
            "[profile a]\n[profile b]\nno equals sign\n",
            "[profile a]\n[profile b]\n= no name\n",
            "[profile a]\n[profile b]\n  continuation first\n",
            "orphan = property\n[profile a]\n",
            "[profile a]\n[profile b]\nkey # comment = value\n",
            "[profile a]\n[profile b]\nkey ;x = value\n",
        ] {
            assert!(index(broken, "").subset_for(&["a"]).is_none(), "{broken:?}");
        }
    }
}
