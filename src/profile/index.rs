//! A fast index of the profile files: section names, where each section's text lies, and the few
//! keys that completion, the picker and chain-walking need. aws-config's parser stays the
//! authority on what a profile means; this index only decides what to list, and which sections
//! to hand that parser, so a config of thousands of profiles costs milliseconds, not tens of them.
//!
//! It follows the parser's rules for lines, comments, headers and profile names. Where it meets
//! anything it does not understand (a malformed header), it says so, and callers fall back to
//! parsing everything.

use super::files::ConfigFile;
use crate::env::Env;
use aws_runtime::env_config::file::EnvConfigFileKind;
use std::ops::Range;

/// One `[section]` of one file.
pub struct Section {
    /// Index into `ProfileIndex::files`.
    pub file: usize,
    pub kind: SectionKind,
    pub name: String,
    /// The section's lines, header included, within its file's text.
    pub span: Range<usize>,
    pub role_arn: Option<String>,
    pub source_profile: Option<String>,
    pub description: Option<String>,
}

#[derive(PartialEq, Eq, Clone, Copy)]
pub enum SectionKind {
    Profile,
    SsoSession,
    Other,
}

pub struct ProfileIndex {
    pub files: Vec<ConfigFile>,
    pub sections: Vec<Section>,
    /// A line the index could not read; the full parser will explain it.
    pub confused: bool,
    /// Profile headers every AWS tool ignores because of the characters in the name.
    pub ignored: Vec<String>,
}

/// One profile as listed: name, role and description (later sections win, as in the SDKs).
pub struct Listed {
    pub name: String,
    pub role_arn: Option<String>,
    pub description: Option<String>,
}

const WHITESPACE: &[char] = &[' ', '\t'];

/// A line without its comment: `#` or `;`, after whitespace unless `anywhere`.
fn without_comment(line: &str, anywhere: bool) -> &str {
    let line = line.trim_matches(WHITESPACE);
    let mut previous_blank = false;
    for (at, c) in line.char_indices() {
        if (c == '#' || c == ';') && (previous_blank || anywhere) {
            return line[..at].trim_matches(WHITESPACE);
        }
        previous_blank = c.is_whitespace();
    }
    line
}

fn valid_name(name: &str) -> bool {
    !name.is_empty()
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "_-/.%@:+".contains(c))
}

/// What a section header says, as the SDKs read it.
enum Header {
    /// A section they use: a profile, an sso-session or another kind, with its name.
    Section(SectionKind, String),
    /// A profile whose name every SDK rejects: ignored, and worth telling the person about.
    IgnoredProfile,
    /// Another section they ignore (a header without a name, say).
    Ignored,
}

/// What a header's inside names, in a file of `kind`.
fn classify(inside: &str, kind: EnvConfigFileKind) -> Header {
    let inside = inside.trim_matches(WHITESPACE);
    let (section, name) = match kind {
        EnvConfigFileKind::Credentials => (SectionKind::Profile, inside),
        EnvConfigFileKind::Config if inside == "default" => (SectionKind::Profile, inside),
        EnvConfigFileKind::Config => {
            let Some((prefix, rest)) = inside.split_once(WHITESPACE) else {
                return Header::Ignored;
            };
            let kind = match prefix {
                "profile" => SectionKind::Profile,
                "sso-session" => SectionKind::SsoSession,
                _ => SectionKind::Other,
            };
            (kind, rest.trim_matches(WHITESPACE))
        }
    };
    if valid_name(name) {
        Header::Section(section, name.to_string())
    } else if section == SectionKind::Profile {
        Header::IgnoredProfile
    } else {
        Header::Ignored
    }
}

impl ProfileIndex {
    pub fn load(env: &Env) -> crate::error::Result<ProfileIndex> {
        Ok(Self::build(super::files::config_files(env)?))
    }

    pub fn build(files: Vec<ConfigFile>) -> ProfileIndex {
        let mut sections: Vec<Section> = Vec::new();
        let mut confused = false;
        let mut ignored = Vec::new();
        for (file_index, file) in files.iter().enumerate() {
            let text = file.contents.as_str();
            let mut offset = 0;
            let mut current: Option<Section> = None;
            let mut skipping = false;
            let mut has_property = false;
            for raw in text.split_inclusive('\n') {
                let start = offset;
                offset += raw.len();
                let line = raw.trim_end_matches(['\n', '\r']);
                let trimmed = line.trim_matches(WHITESPACE);
                if trimmed.is_empty() || trimmed.starts_with('#') || trimmed.starts_with(';') {
                    continue;
                }
                if line.starts_with('[') {
                    let header = without_comment(line, true);
                    let Some(inside) = header.strip_prefix('[').and_then(|h| h.strip_suffix(']'))
                    else {
                        confused = true;
                        continue;
                    };
                    sections.extend(current.take());
                    skipping = false;
                    has_property = false;
                    match classify(inside, file.kind) {
                        Header::Section(kind, name) => {
                            current = Some(Section {
                                file: file_index,
                                kind,
                                name,
                                span: start..offset,
                                role_arn: None,
                                source_profile: None,
                                description: None,
                            })
                        }
                        Header::IgnoredProfile => {
                            ignored.push(inside.trim_matches(WHITESPACE).to_string());
                            skipping = true;
                        }
                        Header::Ignored => skipping = true,
                    }
                    continue;
                }
                let Some(section) = current.as_mut() else {
                    if !skipping && !line.starts_with(WHITESPACE) {
                        // A property before any section: the parser will object.
                        confused = true;
                    }
                    continue;
                };
                section.span.end = offset;
                if line.starts_with(WHITESPACE) {
                    // A continuation needs a property above it in the same section.
                    confused |= !has_property;
                    continue;
                }
                let property = without_comment(line, false);
                let Some((key, value)) = property
                    .split_once('=')
                    .filter(|(key, _)| !key.trim_matches(WHITESPACE).is_empty())
                else {
                    // Not `key = value`: the parser rejects the file, and must say so.
                    confused = true;
                    continue;
                };
                has_property = true;
                let value = Some(value.trim_matches(WHITESPACE).to_string());
                match key.trim_matches(WHITESPACE).to_ascii_lowercase().as_str() {
                    "role_arn" => section.role_arn = value,
                    "source_profile" => section.source_profile = value,
                    "rolecall_description" => section.description = value,
                    _ => {}
                }
            }
            sections.extend(current);
        }
        ProfileIndex {
            files,
            sections,
            confused,
            ignored,
        }
    }

    fn profiles(&self) -> impl Iterator<Item = &Section> {
        self.sections
            .iter()
            .filter(|s| s.kind == SectionKind::Profile)
    }

    /// Every profile, sorted by name, with what the later of its sections say.
    pub fn list(&self) -> Vec<Listed> {
        let mut by_name: std::collections::BTreeMap<&str, Listed> = Default::default();
        for section in self.profiles() {
            let entry = by_name.entry(&section.name).or_insert_with(|| Listed {
                name: section.name.clone(),
                role_arn: None,
                description: None,
            });
            if section.role_arn.is_some() {
                entry.role_arn = section.role_arn.clone();
            }
            if section.description.is_some() {
                entry.description = section.description.clone();
            }
        }
        by_name.into_values().collect()
    }

    /// The files cut down to what resolving `target` can touch: its sections, those of every
    /// profile down its `source_profile` chain, `[default]`, and every non-profile section.
    /// None when the index cannot vouch for the cut (the caller then parses everything).
    pub fn subset_for(&self, targets: &[&str]) -> Option<Vec<ConfigFile>> {
        if self.confused {
            return None;
        }
        let mut wanted: Vec<String> = Vec::new();
        let mut queue: Vec<String> = targets.iter().map(|t| t.to_string()).collect();
        while let Some(name) = queue.pop() {
            if name.is_empty() || wanted.contains(&name) {
                continue;
            }
            for section in self.profiles().filter(|s| s.name == name) {
                queue.extend(section.source_profile.clone());
            }
            wanted.push(name);
        }
        // `[default]` gives the region when the chain names none.
        wanted.push("default".into());
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
            let keep = section.kind != SectionKind::Profile || wanted.contains(&section.name);
            if keep {
                let text = &self.files[section.file].contents[section.span.clone()];
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
        let listed = index(
            config,
            "[c]\naws_access_key_id = k\n[a]\nrolecall_description = later\n",
        )
        .list();
        let names: Vec<&str> = listed.iter().map(|l| l.name.as_str()).collect();
        assert_eq!(names, ["a", "b", "c", "default"]);
        assert_eq!(listed[0].role_arn.as_deref(), Some("arn:x"));
        assert_eq!(listed[0].description.as_deref(), Some("later"));
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
        ] {
            assert!(index(broken, "").subset_for(&["a"]).is_none(), "{broken:?}");
        }
    }
}
