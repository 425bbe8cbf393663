//! The type-to-filter profile picker for `assume` with no target. It draws on the terminal
//! itself (/dev/tty), never on stdout, which the shell function captures.

use crate::error::{printable, printable_cow, Failure, Result};
use crate::terminal::RawTerminal;
use std::borrow::Cow;
use std::fs::{File, OpenOptions};
use std::io::Write;
use std::os::fd::AsRawFd;

/// How many matches are shown at once.
const VISIBLE: usize = 10;

/// One profile on offer: its name and what is shown beside it, borrowed from the config text.
pub struct Choice<'a> {
    pub name: &'a str,
    pub detail: &'a str,
}

/// Whether a picker can be shown: stdin is a terminal and /dev/tty opens.
pub fn available() -> bool {
    use std::io::IsTerminal;
    std::io::stdin().is_terminal() && OpenOptions::new().read(true).open("/dev/tty").is_ok()
}

/// Lets the person pick one of `choices`; `Failure::interrupted` when they cancel.
pub fn pick(choices: &[Choice]) -> Result<String> {
    let mut terminal = RawTerminal::open()
        .ok_or_else(|| Failure::usage("cannot open the terminal for the profile picker"))?;
    let mut matcher = Matcher::new(choices);
    let mut query = String::new();
    let mut selected = 0usize;
    loop {
        let shown = matcher.matching(&query);
        selected = selected.min(shown.len().saturating_sub(1));
        draw(&mut terminal.tty, &query, choices, shown, selected);
        let Some(byte) = terminal.read_byte() else {
            return Err(Failure::interrupted());
        };
        match byte {
            b'\r' | b'\n' => {
                if let Some(&index) = shown.get(selected) {
                    return Ok(choices[index as usize].name.to_string());
                }
            }
            3 | 4 => return Err(Failure::interrupted()),
            0x1b => match terminal.read_byte_soon() {
                Some(b'[') | Some(b'O') => match terminal.read_byte_soon() {
                    Some(b'A') => selected = selected.saturating_sub(1),
                    Some(b'B') => selected += 1,
                    _ => {}
                },
                _ => return Err(Failure::interrupted()),
            },
            16 => selected = selected.saturating_sub(1),
            14 => selected += 1,
            0x7f | 8 => {
                query.pop();
                selected = 0;
            }
            21 => {
                query.clear();
                selected = 0;
            }
            byte if byte >= 0x20 => {
                // Read the rest of a UTF-8 character before adding it to the query.
                let mut bytes = vec![byte];
                let extra = match byte {
                    0xc0..=0xdf => 1,
                    0xe0..=0xef => 2,
                    0xf0..=0xf7 => 3,
                    _ => 0,
                };
                for _ in 0..extra {
                    bytes.extend(terminal.read_byte());
                }
                if let Ok(text) = std::str::from_utf8(&bytes) {
                    query.push_str(text);
                    selected = 0;
                }
            }
            _ => {}
        }
    }
}

/// Finds the choices that match a query fast enough to redraw at every keystroke over tens of
/// thousands of profiles, best first. Names and details are lowered once, into one buffer. The
/// matches of each query typed so far are kept: a longer query only narrows its prefix's
/// matches (every match of it matches the prefix too), and a backspace or Ctrl-U goes back to a
/// kept list.
struct Matcher {
    /// Every name and detail in lower case, back to back.
    folded: String,
    /// Per choice, where its lowered name and detail lie in `folded`: start, name end, detail end.
    bounds: Vec<(u32, u32, u32)>,
    /// The lowered queries typed so far, each a prefix of the next, with their matches (indexes
    /// into the choices), best first. The first is the empty query, which everything matches in
    /// the choices' own order.
    levels: Vec<Level>,
}

struct Level {
    query: String,
    ranked: Vec<u32>,
}

/// How well a query matches a choice; smaller is better. Name matches come before detail
/// matches, then: the whole name, a prefix of it, a run of it starting a word, a run elsewhere,
/// then letters scattered in order (more of them starting words, fewer gaps, first); then the
/// shorter name. The choices' own (alphabetical) order breaks what is left.
#[derive(PartialEq, Eq, PartialOrd, Ord)]
struct Rank {
    class: u8,
    scatter: i32,
    length: u32,
}

/// Where a word starts in a profile name: its first character, or one after a separator.
fn starts_word(previous: Option<char>) -> bool {
    previous.is_none_or(|p| matches!(p, '-' | '_' | '/' | '.' | ':' | '@' | '+' | ' '))
}

impl Matcher {
    fn new(choices: &[Choice]) -> Matcher {
        let mut folded =
            String::with_capacity(choices.iter().map(|c| c.name.len() + c.detail.len()).sum());
        let mut bounds = Vec::with_capacity(choices.len());
        for choice in choices {
            let start = folded.len() as u32;
            push_lowered(&mut folded, choice.name);
            let name_end = folded.len() as u32;
            push_lowered(&mut folded, choice.detail);
            bounds.push((start, name_end, folded.len() as u32));
        }
        let everything = (0..choices.len() as u32).collect();
        Matcher {
            folded,
            bounds,
            levels: vec![Level {
                query: String::new(),
                ranked: everything,
            }],
        }
    }

    /// The choices `query` matches, best first.
    fn matching(&mut self, query: &str) -> &[u32] {
        let mut lowered = String::with_capacity(query.len());
        push_lowered(&mut lowered, query);
        // Back to the longest kept query this one extends; the empty one, kept first, always is.
        while self.levels.len() > 1
            && !lowered.starts_with(&self.levels[self.levels.len() - 1].query)
        {
            self.levels.pop();
        }
        let known = &self.levels[self.levels.len() - 1];
        if known.query != lowered {
            let mut scored: Vec<(Rank, u32)> = known
                .ranked
                .iter()
                .filter_map(|&index| Some((self.rank(index, &lowered)?, index)))
                .collect();
            // Equal ranks keep the choices' own order.
            scored.sort_unstable();
            self.levels.push(Level {
                query: lowered,
                ranked: scored.into_iter().map(|(_, index)| index).collect(),
            });
        }
        &self.levels[self.levels.len() - 1].ranked
    }

    /// How the lowered `query` matches choice `index`: its letters in order in the name (`pa`
    /// finds `prod-admin`), or a part of the detail; `None` when neither.
    fn rank(&self, index: u32, query: &str) -> Option<Rank> {
        let (start, name_end, end) = self.bounds[index as usize];
        let name = &self.folded[start as usize..name_end as usize];
        let length = name.chars().count() as u32;
        let ranked = |class: u8, scatter: i32| {
            Some(Rank {
                class,
                scatter,
                length,
            })
        };
        if name == query {
            return ranked(0, 0);
        }
        if name.starts_with(query) {
            return ranked(1, 0);
        }
        if let Some(found) = name.find(query) {
            let before = name[..found].chars().next_back();
            return ranked(if starts_word(before) { 2 } else { 3 }, 0);
        }
        if let Some(scatter) = scattered(name, query) {
            return ranked(4, scatter);
        }
        if self.folded[name_end as usize..end as usize].contains(query) {
            return ranked(5, 0);
        }
        None
    }
}

/// How well `query`'s letters lie in `name`, in order (smaller is better: each break in the run
/// costs, each letter that starts a word earns), or `None` when they are not all there. Two
/// ways of taking them are tried: as early as they come, and each at the next word start that
/// has it (so `dro` is taken from dev-random-operator's word starts, not from inside `random`).
fn scattered(name: &str, query: &str) -> Option<i32> {
    // Most names do not hold the letters at all: say so before anything is allocated.
    let mut rest = name.chars();
    if !query.chars().all(|q| rest.any(|c| c == q)) {
        return None;
    }
    let letters: Vec<(char, bool)> = name
        .chars()
        .scan(None, |previous, c| {
            let starts = starts_word(*previous);
            *previous = Some(c);
            Some((c, starts))
        })
        .collect();
    let take = |prefer_word_starts: bool| -> Option<i32> {
        let (mut at, mut gaps, mut word_starts, mut last) = (0usize, 0, 0, None::<usize>);
        for q in query.chars() {
            let rest = letters.get(at..)?;
            let next = |only_starts: bool| {
                rest.iter()
                    .position(|&(c, starts)| c == q && (starts || !only_starts))
            };
            let found = if prefer_word_starts {
                next(true).or_else(|| next(false))
            } else {
                next(false)
            }?;
            let position = at + found;
            if letters[position].1 {
                word_starts += 1;
            }
            if last.is_some_and(|l| l + 1 != position) {
                gaps += 1;
            }
            last = Some(position);
            at = position + 1;
        }
        Some(2 * gaps - 3 * word_starts)
    };
    match (take(false), take(true)) {
        (Some(a), Some(b)) => Some(a.min(b)),
        (a, b) => a.or(b),
    }
}

/// Appends `text` in lower case, a character at a time: no string is made per choice, and
/// generated descriptions (whose `·` makes them non-ASCII) cost no more than plain ones. The
/// query is lowered the same way, so both sides always agree.
fn push_lowered(out: &mut String, text: &str) {
    if text.is_ascii() {
        let from = out.len();
        out.push_str(text);
        out[from..].make_ascii_lowercase();
    } else {
        for c in text.chars() {
            out.extend(c.to_lowercase());
        }
    }
}

/// The terminal's width in columns (80 when it cannot be asked).
fn terminal_width(tty: &File) -> usize {
    // SAFETY: winsize is plain data that TIOCGWINSZ fills for an open terminal.
    let mut size: libc::winsize = unsafe { std::mem::zeroed() };
    // SAFETY: as above, on a descriptor `tty` keeps open.
    let asked = unsafe { libc::ioctl(tty.as_raw_fd(), libc::TIOCGWINSZ, &mut size) } == 0;
    if asked && size.ws_col > 0 {
        usize::from(size.ws_col)
    } else {
        80
    }
}

/// How many columns a terminal gives `c`: two for the East Asian wide and fullwidth ranges and
/// emoji, one for the rest. An estimate that errs wide where it is unsure keeps lines from
/// wrapping, which matters more here than using the last column.
fn char_columns(c: char) -> usize {
    match u32::from(c) {
        0x1100..=0x115f
        | 0x2e80..=0x303e
        | 0x3041..=0x33ff
        | 0x3400..=0x4dbf
        | 0x4e00..=0x9fff
        | 0xa000..=0xa4cf
        | 0xac00..=0xd7a3
        | 0xf900..=0xfaff
        | 0xfe30..=0xfe4f
        | 0xff00..=0xff60
        | 0xffe0..=0xffe6
        | 0x1f000..=0x1faff
        | 0x20000..=0x3fffd => 2,
        _ => 1,
    }
}

fn columns(text: &str) -> usize {
    text.chars().map(char_columns).sum()
}

/// As much of `text` as fits in `room` columns, with an ellipsis when cut.
fn fit(text: &str, room: usize) -> Cow<'_, str> {
    if columns(text) <= room {
        return Cow::Borrowed(text);
    }
    let mut cut = String::new();
    let mut used = 0;
    for c in text.chars() {
        // One column stays free for the ellipsis.
        if used + char_columns(c) + 1 > room {
            break;
        }
        used += char_columns(c);
        cut.push(c);
    }
    if room > 0 {
        cut.push('…');
    }
    Cow::Owned(cut)
}

/// Columns a row spends besides its name and detail: the marker and a space before the name.
const ROW_LEAD: usize = 2;
/// Columns between the name column and the detail.
const GAP: usize = 2;

/// How wide the name column is for rows whose names are `name_columns` wide, on a line of
/// `width` columns: as wide as the longest name, but at most two thirds of the line, so the
/// details keep room. A longer name pushes only its own detail to the right.
fn name_column(name_columns: impl Iterator<Item = usize>, width: usize) -> usize {
    let widest = name_columns.max().unwrap_or(0);
    widest.min(width.saturating_sub(ROW_LEAD) * 2 / 3)
}

/// One row's name, padded to the name column, and the part of its detail that fits after it
/// (empty when none does): together at most `width - ROW_LEAD` columns.
fn layout_row(name: &str, detail: &str, column: usize, width: usize) -> (String, String) {
    let room = width.saturating_sub(ROW_LEAD);
    let name = fit(name, room);
    let used = columns(&name);
    let detail_room = room.saturating_sub(used.max(column) + GAP);
    // A detail cut to its ellipsis alone says nothing.
    let detail = if detail_room >= 2 {
        fit(detail, detail_room).into_owned()
    } else {
        String::new()
    };
    let mut padded = name.into_owned();
    if !detail.is_empty() {
        padded.extend(std::iter::repeat_n(' ', column.saturating_sub(used)));
    }
    (padded, detail)
}

fn draw(tty: &mut File, query: &str, choices: &[Choice], shown: &[u32], selected: usize) {
    // Every line must fit: one that wraps would break the redraw, which moves up a row per line.
    let width = terminal_width(tty).saturating_sub(1).max(20);
    let start = selected.saturating_sub(VISIBLE - 1);
    let query = printable(query);
    let query = fit(&query, width / 2);
    let header = format!("profile> {query}  ({} of {})", shown.len(), choices.len());
    let mut screen = format!("\r\x1b[J\x1b[?25l{}", fit(&header, width));
    let rows: Vec<(Cow<str>, Cow<str>)> = shown
        .iter()
        .skip(start)
        .take(VISIBLE)
        .map(|&index| {
            let choice = &choices[index as usize];
            (printable_cow(choice.name), printable_cow(choice.detail))
        })
        .collect();
    let column = name_column(rows.iter().map(|(name, _)| columns(name)), width);
    for (offset, (name, detail)) in rows.iter().enumerate() {
        let marker = if start + offset == selected {
            "\x1b[7m>"
        } else {
            " "
        };
        let (name, detail) = layout_row(name, detail, column, width);
        screen.push_str(&format!("\r\n{marker} {name}"));
        if !detail.is_empty() {
            screen.push_str(&format!("  \x1b[2m{detail}\x1b[22m"));
        }
        screen.push_str("\x1b[0m");
    }
    if shown.is_empty() {
        screen.push_str("\r\n  no profile matches");
    }
    let lines_below = rows.len().max(1);
    screen.push_str(&format!(
        "\x1b[{lines_below}A\r\x1b[{}C",
        9 + columns(&query)
    ));
    let _ = tty.write_all(screen.as_bytes());
    let _ = tty.flush();
}

#[cfg(test)]
mod tests {
    use super::*;

    fn choices() -> Vec<Choice<'static>> {
        [
            ("prod-admin", "Production admin"),
            ("prod-readonly", "arn:aws:iam::111:role/ReadOnly"),
            ("dev", "Développement"),
            ("Staging-Admin", ""),
        ]
        .into_iter()
        .map(|(name, detail)| Choice { name, detail })
        .collect()
    }

    fn names(choices: &[Choice<'static>], matches: &[u32]) -> Vec<&'static str> {
        matches.iter().map(|&i| choices[i as usize].name).collect()
    }

    #[test]
    fn a_query_matches_name_letters_in_order_or_a_part_of_the_detail() {
        let choices = choices();
        let mut matcher = Matcher::new(&choices);
        assert_eq!(names(&choices, matcher.matching("")).len(), 4);
        assert_eq!(
            names(&choices, matcher.matching("pa")),
            ["prod-admin", "prod-readonly"]
        );
        assert_eq!(
            names(&choices, matcher.matching("ADMIN")),
            ["prod-admin", "Staging-Admin"]
        );
        assert_eq!(
            names(&choices, matcher.matching("production")),
            ["prod-admin"]
        );
        assert_eq!(
            names(&choices, matcher.matching("readonly")),
            ["prod-readonly"]
        );
        assert_eq!(names(&choices, matcher.matching("DÉVE")), ["dev"]);
        assert!(matcher.matching("nothing").is_empty());
    }

    #[test]
    fn the_best_match_comes_first() {
        let listed = [
            ("admin-tools", ""),
            ("demo-admin", "the demo's admin"),
            ("demo-base", ""),
            ("demo-mfa", "asks for an MFA code"),
            ("demo-readonly", ""),
            ("dev-random-operator", ""),
            ("prod-admin", "Production admin"),
            ("prod-audit-readonly", ""),
            ("sandbox-dr", ""),
        ];
        let choices: Vec<Choice> = listed
            .iter()
            .map(|&(name, detail)| Choice { name, detail })
            .collect();
        let mut matcher = Matcher::new(&choices);
        for (query, first) in [
            // the whole name, then a prefix
            ("demo-base", &["demo-base"][..]),
            ("admin", &["admin-tools", "demo-admin", "prod-admin"]),
            // a prefix over a run inside, and shorter names first
            (
                "demo",
                &["demo-mfa", "demo-base", "demo-admin", "demo-readonly"],
            ),
            // a run starting a word over letters scattered across `demo-`
            (
                "dr",
                &["sandbox-dr", "demo-readonly", "dev-random-operator"],
            ),
            // a run inside a word over letters scattered, shorter first
            ("ro", &["prod-admin", "prod-audit-readonly"]),
            // letters that start words over the same letters anywhere
            ("pa", &["prod-admin", "prod-audit-readonly"]),
            ("dro", &["dev-random-operator", "demo-readonly"]),
            // a name match before a match in a description
            ("mfa", &["demo-mfa"]),
            ("production", &["prod-admin"]),
        ] {
            let found = names(&choices, matcher.matching(query));
            assert_eq!(&found[..first.len()], first, "{query:?}: {found:?}");
        }
    }

    #[test]
    fn typing_narrows_and_deleting_widens_to_what_a_fresh_search_finds() {
        let choices = choices();
        let mut typed = Matcher::new(&choices);
        for query in [
            "p", "pr", "pro", "prod-r", "prod-", "p", "", "s", "sa", "d", "de",
        ] {
            let fresh = Matcher::new(&choices).matching(query).to_vec();
            assert_eq!(typed.matching(query), fresh.as_slice(), "{query:?}");
        }
        // Only queries that extend one another are kept: "d" replaced the "s" ones.
        let kept: Vec<&str> = typed.levels.iter().map(|l| l.query.as_str()).collect();
        assert_eq!(kept, ["", "d", "de"]);
    }

    #[test]
    fn the_name_column_is_as_wide_as_the_longest_name_up_to_two_thirds_of_the_line() {
        assert_eq!(name_column([3, 10, 7].into_iter(), 80), 10);
        assert_eq!(name_column([3, 70].into_iter(), 80), 52);
        assert_eq!(name_column(std::iter::empty(), 80), 0);
    }

    #[test]
    fn rows_align_their_details_and_never_outgrow_the_line() {
        let width = 44;
        let rows = [
            ("a", "first detail"),
            ("longer-name", "second"),
            ("x".repeat(50).leak() as &str, "pushed out"),
            ("wide", "日本語の説明がここに入りますとても長い"),
            ("no-detail", ""),
        ];
        let column = name_column(rows.iter().map(|(name, _)| columns(name)), width);
        assert_eq!(column, 28);
        let laid: Vec<(String, String)> = rows
            .iter()
            .map(|(name, detail)| layout_row(name, detail, column, width))
            .collect();
        assert_eq!(
            laid[0],
            (format!("a{}", " ".repeat(27)), "first detail".into())
        );
        assert_eq!(
            laid[1],
            (format!("longer-name{}", " ".repeat(17)), "second".into())
        );
        // Too long for the line: cut, and no room is left for a detail.
        assert_eq!(laid[2], (format!("{}…", "x".repeat(41)), String::new()));
        assert!(laid[3].1.ends_with('…'), "{:?}", laid[3]);
        assert_eq!(laid[4], ("no-detail".into(), String::new()));
        for (name, detail) in &laid {
            let gap = if detail.is_empty() { 0 } else { GAP };
            assert!(
                ROW_LEAD + columns(name) + gap + columns(detail) <= width,
                "{name:?} {detail:?}"
            );
        }
    }

    #[test]
    fn fitting_counts_wide_characters_as_two_columns() {
        assert_eq!(fit("short", 10), "short");
        assert_eq!(fit("abcdefghij", 5), "abcd…");
        assert_eq!(fit("日本語日本語", 5), "日本…");
        assert_eq!(columns("日本…"), 5);
    }
}
