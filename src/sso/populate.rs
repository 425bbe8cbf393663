//! From grants to profiles: the name each account × role pair gets (a template, reduced to the
//! characters every AWS tool accepts in a profile name, and made unique deterministically), and
//! the section written for it. Names and descriptions come from the portal, so nothing of them
//! may reach the config file but characters that cannot start a line, a section, a key or a
//! comment.

use super::portal::Grant;
use crate::error::{printable, reorders_text};
use std::collections::BTreeMap;

/// The naming template when `--name` gives none: readable, and grouped by account when
/// completed (`Production/<Tab>`).
pub const DEFAULT_TEMPLATE: &str = "{account_name}/{role_name}";

/// The key that marks a profile as generated, with the sso-session it was generated for.
pub const GENERATED_KEY: &str = "rolecall_generated";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Field {
    AccountName,
    AccountId,
    RoleName,
    Session,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Piece {
    Text(String),
    Field(Field),
}

/// A `--name` template, checked.
#[derive(Debug, Clone)]
pub struct Template {
    pieces: Vec<Piece>,
}

impl Template {
    pub fn parse(text: &str) -> std::result::Result<Template, String> {
        let mut pieces = Vec::new();
        let mut rest = text;
        while let Some(open) = rest.find(['{', '}']) {
            if rest[open..].starts_with('}') {
                return Err(format!(
                    "the name template `{}` has a `}}` without its `{{`",
                    printable(text)
                ));
            }
            if open > 0 {
                pieces.push(Piece::Text(rest[..open].to_string()));
            }
            let Some(close) = rest[open..].find('}') else {
                return Err(format!(
                    "the name template `{}` has a `{{` without its `}}`",
                    printable(text)
                ));
            };
            let field = match &rest[open + 1..open + close] {
                "account_name" => Field::AccountName,
                "account_id" => Field::AccountId,
                "role_name" => Field::RoleName,
                "session" => Field::Session,
                other => {
                    return Err(format!(
                        "the name template has `{{{}}}`; it takes {{account_name}}, \
                         {{account_id}}, {{role_name}} and {{session}}",
                        printable(other)
                    ))
                }
            };
            pieces.push(Piece::Field(field));
            rest = &rest[open + close + 1..];
        }
        if !rest.is_empty() {
            pieces.push(Piece::Text(rest.to_string()));
        }
        if !pieces.iter().any(|p| matches!(p, Piece::Field(_))) {
            return Err(format!(
                "the name template `{}` names no placeholder, so every profile would get the same \
                 name; use {{account_name}}, {{account_id}}, {{role_name}} or {{session}}",
                printable(text)
            ));
        }
        Ok(Template { pieces })
    }

    /// The reduced name of `grant` (before uniqueness is seen to).
    fn name(&self, grant: &Grant, session: &str) -> String {
        let mut name = String::new();
        for piece in &self.pieces {
            match piece {
                Piece::Text(text) => name.push_str(text),
                Piece::Field(field) => {
                    let value = reduce_value(match field {
                        Field::AccountName => &grant.account_name,
                        Field::AccountId => &grant.account_id,
                        Field::RoleName => &grant.role_name,
                        Field::Session => session,
                    });
                    // An account named only in other characters is called by its ID.
                    if value.is_empty() && *field == Field::AccountName {
                        name.push_str(&grant.account_id);
                    } else {
                        name.push_str(&value);
                    }
                }
            }
        }
        let name = reduce(&name, true);
        // `default` is the profile every tool uses when none is named: never a generated one.
        if name == "default" {
            return format!("default-{}", grant.account_id);
        }
        if name.is_empty() {
            reduce(
                &format!("{}/{}", grant.account_id, reduce_value(&grant.role_name)),
                true,
            )
        } else {
            name
        }
    }
}

/// A value for a name: letters, digits, `.`, `_` and `-`; anything else becomes `-`. At most
/// `LONGEST_VALUE` characters: AWS names accounts in 50 and roles in 64, so only a hostile
/// portal sends more.
fn reduce_value(value: &str) -> String {
    let mut reduced = reduce(value, false);
    reduced.truncate(LONGEST_VALUE);
    reduced.trim_end_matches('-').to_string()
}

const LONGEST_VALUE: usize = 64;

/// `text` with every character outside the safe set turned into `-`, runs of `-` made one, and
/// the ends trimmed. The set is what every AWS tool (and every shell's completion) takes in a
/// profile name; `/` only when `slash` (it comes from the template, never from a value).
fn reduce(text: &str, slash: bool) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        let kept = c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-') || (slash && c == '/');
        let c = if kept { c } else { '-' };
        if !(c == '-' && out.ends_with('-')) {
            out.push(c);
        }
    }
    let ends: &[char] = if slash { &['-', '.', '/'] } else { &['-'] };
    out.trim_matches(ends).to_string()
}

/// IAM's role-name characters: a name of others cannot be a role, whatever the portal says.
fn is_role_name(name: &str) -> bool {
    (1..=64).contains(&name.len())
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "+=,.@_-".contains(c))
}

fn is_account_id(id: &str) -> bool {
    id.len() == 12 && id.bytes().all(|b| b.is_ascii_digit())
}

/// Text from the portal made safe as the rest of a `key = value` line: no control character,
/// line or paragraph separator, bidi control, `#` or `;` (which some readers take as a comment),
/// and each run of whitespace one space.
fn config_value(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        if c.is_whitespace() {
            if !out.ends_with(' ') {
                out.push(' ');
            }
        } else if !(c.is_control() || reorders_text(c) || invisible(c) || c == '#' || c == ';') {
            out.push(c);
        }
    }
    out.trim().to_string()
}

/// Characters that show as nothing (zero-width spaces and joiners, the soft hyphen, the byte
/// order mark, tags): in a description they would only disguise one account as another.
fn invisible(c: char) -> bool {
    matches!(c, '\u{ad}' | '\u{200b}'..='\u{200f}' | '\u{2060}'..='\u{2064}' | '\u{feff}')
        || ('\u{e0000}'..='\u{e007f}').contains(&c)
}

/// An account name is cut here in a description (AWS allows 50 characters; only a hostile
/// portal sends more): a description is a line of the picker, not a document.
const LONGEST_ACCOUNT_NAME: usize = 128;

/// A profile to be written: its name and its section's text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Generated {
    pub name: String,
    pub section: String,
}

/// A pair that gets no profile, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Skipped {
    pub name: String,
    pub reason: String,
}

/// The profiles for `grants`, sorted by name, and the pairs that cannot have one.
pub fn profiles(
    grants: &[Grant],
    template: &Template,
    session: &str,
    region: &str,
) -> (Vec<Generated>, Vec<Skipped>) {
    let mut skipped = Vec::new();
    let mut named: Vec<(String, &Grant)> = Vec::new();
    for grant in grants {
        let name = template.name(grant, session);
        if !is_account_id(&grant.account_id) {
            skipped.push(Skipped {
                name,
                reason: format!(
                    "the portal gave `{}` as an account ID",
                    printable(&grant.account_id)
                ),
            });
        } else if !is_role_name(&grant.role_name) {
            skipped.push(Skipped {
                name,
                reason: format!(
                    "the portal gave `{}` as a role name, which IAM does not allow",
                    printable(&grant.role_name)
                ),
            });
        } else {
            named.push((name, grant));
        }
    }
    let unique = unique_names(named);
    let generated = unique
        .into_iter()
        .map(|(name, grant)| Generated {
            section: section(&name, grant, session, region),
            name,
        })
        .collect();
    (generated, skipped)
}

/// Names made unique: pairs that share one each get `-ACCOUNT_ID` appended; any still shared
/// (one account's roles that reduce alike) get `-2`, `-3`… in (account, role) order. The result
/// depends only on the pairs, not on the order the portal listed them.
fn unique_names(named: Vec<(String, &Grant)>) -> BTreeMap<String, &Grant> {
    let mut by_name: BTreeMap<String, Vec<&Grant>> = BTreeMap::new();
    for (name, grant) in named {
        by_name.entry(name).or_default().push(grant);
    }
    let mut wanted: Vec<(String, &Grant)> = Vec::new();
    for (name, mut grants) in by_name {
        if grants.len() == 1 {
            wanted.push((name, grants[0]));
            continue;
        }
        grants.sort();
        for grant in grants {
            wanted.push((format!("{name}-{}", grant.account_id), grant));
        }
    }
    // Still shared, or now equal to another pair's plain name: numbered in order.
    wanted.sort_by(|a, b| a.0.cmp(&b.0).then(a.1.cmp(b.1)));
    let mut taken: BTreeMap<String, &Grant> = BTreeMap::new();
    for (name, grant) in wanted {
        let mut candidate = name.clone();
        let mut n = 2;
        while taken.contains_key(&candidate) {
            candidate = format!("{name}-{n}");
            n += 1;
        }
        taken.insert(candidate, grant);
    }
    taken
}

/// The section of one generated profile. Every value is reduced or checked above: the name and
/// session to the profile-name characters, the account ID to digits, the role to IAM's
/// characters, the region by the caller, and the description by `config_value`.
fn section(name: &str, grant: &Grant, session: &str, region: &str) -> String {
    let account_name: String = grant
        .account_name
        .chars()
        .take(LONGEST_ACCOUNT_NAME)
        .collect();
    let description = config_value(&format!(
        "{account_name} ({}) · {}",
        grant.account_id, grant.role_name
    ));
    format!(
        "[profile {name}]\nsso_session = {session}\nsso_account_id = {}\nsso_role_name = {}\n\
         region = {region}\nrolecall_description = {description}\n{GENERATED_KEY} = {session}\n",
        grant.account_id, grant.role_name
    )
}

/// What populating changes in a block: the sections it ends with, and what happened to each
/// name, sorted.
#[derive(Debug, Default)]
pub struct Plan {
    /// The block's sections, in name order.
    pub sections: Vec<String>,
    pub added: Vec<String>,
    pub changed: Vec<String>,
    pub removed: Vec<String>,
    /// No longer granted, and kept (without `--prune`).
    pub stale: Vec<String>,
    pub skipped: Vec<Skipped>,
}

impl Plan {
    /// Merges `generated` into the block that held `old`: a name defined `outside` the block is
    /// never written (the profile there is someone's own); a name of `old` no longer generated
    /// is kept as it was, unless `prune`.
    pub fn new(
        generated: Vec<Generated>,
        mut skipped: Vec<Skipped>,
        old: &[(String, String)],
        outside: &std::collections::HashSet<String>,
        prune: bool,
    ) -> Plan {
        let old: BTreeMap<&str, &str> = old
            .iter()
            .map(|(name, text)| (name.as_str(), text.as_str()))
            .collect();
        let mut plan = Plan::default();
        let mut sections: BTreeMap<String, String> = BTreeMap::new();
        let mut wanted: std::collections::HashSet<String> = Default::default();
        for profile in generated {
            wanted.insert(profile.name.clone());
            if outside.contains(&profile.name) {
                // Taken out of the block if it was there: the profile outside is someone's own.
                if old.contains_key(profile.name.as_str()) {
                    plan.removed.push(profile.name.clone());
                }
                skipped.push(Skipped {
                    reason: "a profile of that name exists outside the block".into(),
                    name: profile.name,
                });
                continue;
            }
            match old.get(profile.name.as_str()) {
                None => plan.added.push(profile.name.clone()),
                Some(text) if *text != profile.section => plan.changed.push(profile.name.clone()),
                Some(_) => {}
            }
            sections.insert(profile.name, profile.section);
        }
        for (name, text) in old {
            if wanted.contains(name) {
                continue;
            }
            if prune {
                plan.removed.push(name.to_string());
            } else {
                plan.stale.push(name.to_string());
                sections.insert(name.to_string(), text.to_string());
            }
        }
        skipped.sort_by(|a, b| a.name.cmp(&b.name));
        plan.skipped = skipped;
        plan.sections = sections.into_values().collect();
        for list in [
            &mut plan.added,
            &mut plan.changed,
            &mut plan.removed,
            &mut plan.stale,
        ] {
            list.sort();
        }
        plan
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn grant(id: &str, account: &str, role: &str) -> Grant {
        Grant {
            account_id: id.into(),
            account_name: account.into(),
            role_name: role.into(),
        }
    }

    fn names(grants: &[Grant], template: &str) -> Vec<String> {
        let template = Template::parse(template).unwrap();
        profiles(grants, &template, "corp", "eu-west-1")
            .0
            .into_iter()
            .map(|g| g.name)
            .collect()
    }

    #[test]
    fn templates_take_four_placeholders_and_refuse_the_rest() {
        assert!(Template::parse(DEFAULT_TEMPLATE).is_ok());
        assert!(Template::parse("{session}.{account_id}.{role_name}").is_ok());
        for bad in ["{account}", "{role_name", "role}", "plain", "{}"] {
            assert!(Template::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn names_are_reduced_to_safe_characters() {
        let grants = [
            grant("111111111111", "Prod: Payments (EU)", "Admin"),
            grant("222222222222", "\n[evil]\nx = y # ; é\u{202e}", "ReadOnly"),
            grant("333333333333", "///", "Dev"),
        ];
        assert_eq!(
            names(&grants, DEFAULT_TEMPLATE),
            [
                "333333333333/Dev",
                "Prod-Payments-EU/Admin",
                "evil-x-y/ReadOnly"
            ]
        );
        assert_eq!(
            names(&grants[..1], "{session} {account_id}:{role_name}"),
            ["corp-111111111111-Admin"]
        );
        let default = [grant("444444444444", "default", "++")];
        assert_eq!(names(&default, DEFAULT_TEMPLATE), ["default-444444444444"]);
    }

    #[test]
    fn equal_names_get_account_ids_then_numbers_whatever_the_order() {
        let mut grants = vec![
            grant("222222222222", "Shared", "Admin"),
            grant("111111111111", "Shared", "Admin"),
            grant("111111111111", "Other", "Admin"),
        ];
        let first = names(&grants, DEFAULT_TEMPLATE);
        assert_eq!(
            first,
            [
                "Other/Admin",
                "Shared/Admin-111111111111",
                "Shared/Admin-222222222222"
            ]
        );
        grants.reverse();
        assert_eq!(names(&grants, DEFAULT_TEMPLATE), first);
        let same_account = [
            grant("111111111111", "A", "x"),
            grant("111111111111", "A", "y"),
        ];
        assert_eq!(
            names(&same_account, "{account_name}"),
            ["A-111111111111", "A-111111111111-2"]
        );
    }

    #[test]
    fn hostile_values_cannot_make_a_line_a_key_or_a_comment() {
        let template = Template::parse(DEFAULT_TEMPLATE).unwrap();
        let hostile =
            "a\nb\r[c]\u{0}=d#e;f\u{1b}]0;x\u{7}\u{85}g\u{2028}h\u{202e}i\tj  k\u{200b} é\u{feff}";
        let (generated, skipped) = profiles(
            &[
                grant("111111111111", hostile, "Admin"),
                grant("111111111111", "ok", "Bad\nRole"),
                grant("1111", "ok", "Admin"),
            ],
            &template,
            "corp",
            "eu-west-1",
        );
        assert_eq!(skipped.len(), 2, "{skipped:?}");
        assert_eq!(generated.len(), 1);
        let section = &generated[0].section;
        assert_eq!(section.lines().count(), 7, "{section}");
        assert!(section.lines().skip(1).all(|l| !l.starts_with('[')));
        let description = section
            .lines()
            .find_map(|l| l.strip_prefix("rolecall_description = "))
            .unwrap();
        assert_eq!(
            description,
            "a b [c]=def]0x g hi j k é (111111111111) · Admin"
        );
    }
}
