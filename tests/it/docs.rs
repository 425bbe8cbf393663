//! The documentation holds together: every relative link and `#anchor` in README.md and docs/
//! leads somewhere, and the README's tour is the one `scripts/try` greets with.

use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};

fn repo() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// README.md and every page of docs/, as paths inside the repository.
fn pages() -> Vec<PathBuf> {
    let mut pages = vec![PathBuf::from("README.md")];
    let docs = std::fs::read_dir(repo().join("docs")).expect("read docs/");
    for entry in docs {
        let name = entry.expect("a docs/ entry").file_name();
        let name = name.to_str().expect("a UTF-8 name in docs/");
        if name.ends_with(".md") {
            pages.push(Path::new("docs").join(name));
        }
    }
    pages.sort();
    pages
}

fn read(page: &Path) -> String {
    std::fs::read_to_string(repo().join(page)).unwrap_or_else(|e| panic!("read {page:?}: {e}"))
}

/// The lines outside fenced code blocks, with their line numbers.
fn prose(text: &str) -> Vec<(usize, &str)> {
    let mut fenced = false;
    let mut lines = Vec::new();
    for (number, line) in text.lines().enumerate() {
        if line.trim_start().starts_with("```") {
            fenced = !fenced;
        } else if !fenced {
            lines.push((number + 1, line));
        }
    }
    lines
}

/// A line without its inline code spans, whose brackets are not links.
fn without_code_spans(line: &str) -> String {
    line.split('`').step_by(2).collect::<Vec<_>>().join("")
}

/// A heading's anchor by GitHub's rules: the text as shown, lowercased, spaces made `-`, and
/// punctuation other than `-` and `_` dropped.
fn slug(heading: &str) -> String {
    let shown = heading.replace('`', "");
    shown
        .to_lowercase()
        .chars()
        .filter_map(|c| match c {
            ' ' => Some('-'),
            c if c.is_alphanumeric() || c == '-' || c == '_' => Some(c),
            _ => None,
        })
        .collect()
}

/// Every anchor a page's headings make; a repeated heading gets `-1`, `-2`, … as on GitHub.
fn anchors(text: &str) -> HashSet<String> {
    let mut seen: HashMap<String, usize> = HashMap::new();
    let mut anchors = HashSet::new();
    for (_, line) in prose(text) {
        let hashes = line.chars().take_while(|&c| c == '#').count();
        let Some(heading) = line[hashes..].strip_prefix(' ') else {
            continue;
        };
        if !(1..=6).contains(&hashes) {
            continue;
        }
        let base = slug(heading.trim());
        let count = seen.entry(base.clone()).or_default();
        anchors.insert(match *count {
            0 => base.clone(),
            n => format!("{base}-{n}"),
        });
        *count += 1;
    }
    anchors
}

/// Every `[text](target)` of a page outside code, with its line number.
fn links(text: &str) -> Vec<(usize, String)> {
    let mut links = Vec::new();
    for (number, line) in prose(text) {
        let line = without_code_spans(line);
        let mut rest = line.as_str();
        while let Some(start) = rest.find("](") {
            rest = &rest[start + 2..];
            let end = rest.find(')').unwrap_or(rest.len());
            links.push((number, rest[..end].to_string()));
            rest = &rest[end..];
        }
    }
    links
}

/// What is wrong with one link of `page`, if anything.
fn broken(page: &Path, target: &str) -> Option<String> {
    if target.contains("://") || target.starts_with("mailto:") {
        return None;
    }
    let (file, anchor) = match target.split_once('#') {
        Some((file, anchor)) => (file, Some(anchor)),
        None => (target, None),
    };
    let file = if file.is_empty() {
        page.to_path_buf()
    } else {
        page.parent().unwrap_or(Path::new("")).join(file)
    };
    let on_disk = repo().join(&file);
    if !on_disk.exists() {
        return Some(format!("{} does not exist", file.display()));
    }
    let anchor = anchor?;
    let text = std::fs::read_to_string(&on_disk).ok()?;
    (!anchors(&text).contains(anchor))
        .then(|| format!("{} has no heading #{anchor}", file.display()))
}

#[test]
fn every_relative_link_and_anchor_resolves() {
    let pages = pages();
    assert!(
        pages.len() > 5,
        "README.md and the docs/ pages were not found: {pages:?}"
    );
    let mut problems = Vec::new();
    let mut checked = 0;
    for page in &pages {
        for (line, target) in links(&read(page)) {
            checked += 1;
            if let Some(why) = broken(page, &target) {
                problems.push(format!("{}:{line}: ({target}): {why}", page.display()));
            }
        }
    }
    assert!(
        checked > 20,
        "only {checked} links found: is the link reader broken?"
    );
    assert!(
        problems.is_empty(),
        "broken links:\n{}",
        problems.join("\n")
    );
}

#[test]
fn anchors_follow_githubs_rules() {
    let text = "# Long jobs: `exec --server`\n## Errors\n```\n# not a heading\n```\n## Errors\n\
                ## Identity Center (SSO)\n### What can go wrong\n## What can go wrong\n";
    let expected = [
        "long-jobs-exec---server",
        "errors",
        "errors-1",
        "identity-center-sso",
        "what-can-go-wrong",
        "what-can-go-wrong-1",
    ];
    assert_eq!(
        anchors(text),
        expected.iter().map(|a| a.to_string()).collect()
    );
}

/// The commands `scripts/try` greets with: its greeting's lines after the first, split at `|`,
/// without the `Try:` label and the notes in parentheses.
fn greeting_commands() -> Vec<String> {
    let script = std::fs::read_to_string(repo().join("scripts/try")).expect("read scripts/try");
    let start = script
        .find("greeting=")
        .expect("scripts/try sets greeting=");
    let assignment = &script[start..];
    let end = assignment
        .find("\"\n")
        .expect("the greeting's closing quote");
    let quoted: Vec<&str> = assignment[..end].split('\'').skip(1).step_by(2).collect();
    let mut commands = Vec::new();
    for line in quoted.iter().skip(2) {
        let line = line.trim_start().trim_start_matches("Try:");
        for part in line.split('|') {
            let command = match part.find(" (") {
                Some(note) => &part[..note],
                None => part,
            };
            commands.push(command.trim().to_string());
        }
    }
    commands
}

/// The commands of the README's tour: its code block, each line without its comment.
fn tour_commands() -> Vec<String> {
    let readme = read(Path::new("README.md"));
    let tour = readme
        .split("\n## ")
        .find(|section| section.starts_with("A five-minute tour"))
        .expect("README.md has a section `## A five-minute tour`");
    let block = tour.split("```").nth(1).expect("the tour has a code block");
    block
        .lines()
        .skip(1)
        .map(|line| line.split(" # ").next().unwrap_or("").trim().to_string())
        .filter(|command| !command.is_empty())
        .collect()
}

#[test]
fn the_readme_tour_is_the_one_scripts_try_greets_with() {
    let greeted = greeting_commands();
    assert!(
        greeted.len() >= 5 && greeted.contains(&"assume demo-admin".to_string()),
        "the greeting's commands were not read from scripts/try: {greeted:?}"
    );
    let tour = tour_commands();
    let missing: Vec<&String> = greeted.iter().filter(|c| !tour.contains(c)).collect();
    assert!(
        missing.is_empty(),
        "scripts/try greets with commands the README's tour does not show: {missing:?}\n\
         the tour: {tour:?}"
    );
}
