//! Failures a person can act on, each carrying the exit status scripts rely on.
//!
//! Everything that reaches the user is a `Failure`: a message of one or two lines and a kind that
//! decides the exit code. Errors from libraries are translated where they happen, never dumped.

use std::borrow::Cow;
use std::fmt;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// The AWS side or the network failed: exit 1.
    Aws,
    /// Something on this machine failed (writing the output, starting the runtime), or a check
    /// found what it looked for missing (`status`, `doctor`): exit 1.
    Local,
    /// The command line or the configuration is wrong: exit 2.
    Usage,
    /// The user interrupted (Ctrl-C at a prompt): exit 130.
    Interrupted,
    /// `exec` could not start its command: 127 when not found, else 126, as shells do.
    CannotRun(i32),
}

#[derive(Debug)]
pub struct Failure {
    pub kind: Kind,
    pub message: String,
    /// The STS error code behind an AWS failure, when there was one.
    pub code: Option<String>,
}

impl Failure {
    pub fn aws(message: impl Into<String>) -> Self {
        Failure {
            kind: Kind::Aws,
            message: message.into(),
            code: None,
        }
    }

    pub fn usage(message: impl Into<String>) -> Self {
        Failure {
            kind: Kind::Usage,
            message: message.into(),
            code: None,
        }
    }

    pub fn local(message: impl Into<String>) -> Self {
        Failure {
            kind: Kind::Local,
            message: message.into(),
            code: None,
        }
    }

    /// A failure whose exit status says it all (`status -q`, `doctor`): nothing is printed.
    pub fn silent() -> Self {
        Failure {
            kind: Kind::Local,
            message: String::new(),
            code: None,
        }
    }

    pub fn interrupted() -> Self {
        Failure {
            kind: Kind::Interrupted,
            message: "interrupted".into(),
            code: None,
        }
    }

    pub fn with_code(mut self, code: &str) -> Self {
        self.code = Some(code.to_string());
        self
    }

    pub fn exit_code(&self) -> i32 {
        match self.kind {
            Kind::Aws | Kind::Local => 1,
            Kind::Usage => 2,
            Kind::Interrupted => 130,
            Kind::CannotRun(status) => status,
        }
    }
}

impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for Failure {}

/// An error and its causes on one line, without repeating a cause its parent already quotes.
pub fn describe_error(error: &dyn std::error::Error) -> String {
    // Library messages may span lines; an error here is one line.
    let one_line = |text: String| text.split_whitespace().collect::<Vec<_>>().join(" ");
    let mut text = one_line(error.to_string());
    let mut source = error.source();
    while let Some(inner) = source {
        let inner_text = one_line(inner.to_string());
        if !text.contains(&inner_text) {
            text.push_str(": ");
            text.push_str(&inner_text);
        }
        source = inner.source();
    }
    text
}

/// Whether an AWS SDK error's text quotes the request it was making: some do (one that could
/// not apply an endpoint, say), headers, body, bearer tokens and MFA codes included. Such text
/// is never printed.
pub fn quotes_a_request(text: &str) -> bool {
    text.contains("Request {")
}

pub type Result<T, E = Failure> = std::result::Result<T, E>;

/// How much less alike than the nearest name another may be and still be suggested.
const CLOSE_ENOUGH: f64 = 0.04;

/// The hint after an unknown name: `; did you mean X?` (or the nearest three of `candidates`,
/// nearest first, as long as they are about as near as it), else `otherwise` when none is near.
pub fn nearest_names<'a>(
    name: &str,
    candidates: impl Iterator<Item = &'a str>,
    otherwise: &str,
) -> String {
    let mut near: Vec<(f64, &str)> = candidates
        .map(|n| (strsim::jaro_winkler(name, n), n))
        .filter(|(score, _)| *score > 0.8)
        .collect();
    near.sort_by(|a, b| b.0.total_cmp(&a.0).then(a.1.cmp(b.1)));
    // Only names about as close as the closest: a typo's own name, not every name that shares
    // its prefix (`demo-admn` is `demo-admin`, not also `demo-mfa`).
    if let Some(&(best, _)) = near.first() {
        near.retain(|(score, _)| *score >= best - CLOSE_ENOUGH);
    }
    match near.as_slice() {
        [] => otherwise.to_string(),
        [(_, one)] => format!("; did you mean {}?", printable(one)),
        many => format!(
            "; did you mean one of: {}?",
            many.iter()
                .take(3)
                .map(|(_, n)| printable(n))
                .collect::<Vec<_>>()
                .join(", ")
        ),
    }
}

/// Makes text from configuration, files, processes or a server safe to print on a terminal:
/// control characters (escape sequences among them) are shown as `\xHH` instead of being
/// obeyed, and the characters that reorder or break what follows them on screen (bidirectional
/// overrides and isolates, line and paragraph separators) as `?`. This is the one filter every
/// outside text passes before a terminal sees it; it leaves its own output unchanged, so text
/// filtered twice reads the same.
pub fn printable(text: &str) -> String {
    printable_cow(text).into_owned()
}

/// `printable`, lending `text` back when nothing in it needs changing: listing tens of thousands
/// of profiles then copies none of their names.
pub fn printable_cow(text: &str) -> Cow<'_, str> {
    let shown_as_is = |c: char| !c.is_control() && !reorders_text(c);
    // Printable ASCII is the usual case, and a byte test is the cheapest way to see it.
    if text.bytes().all(|b| (b' '..=b'~').contains(&b)) || text.chars().all(shown_as_is) {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        if c.is_control() {
            out.push_str(&format!("\\x{:02x}", c as u32));
        } else if reorders_text(c) {
            out.push('?');
        } else {
            out.push(c);
        }
    }
    Cow::Owned(out)
}

/// `printable` line by line: a message's own line breaks stay, every other control is shown.
pub fn printable_lines(text: &str) -> String {
    text.split('\n')
        .map(printable)
        .collect::<Vec<_>>()
        .join("\n")
}

/// Characters a terminal does not print as themselves but lets change how the rest of the line
/// reads: Unicode's bidirectional controls (the "Trojan Source" set) and the separators some
/// terminals take as line breaks.
pub fn reorders_text(c: char) -> bool {
    matches!(
        c,
        '\u{061c}'
            | '\u{200e}'
            | '\u{200f}'
            | '\u{2028}'
            | '\u{2029}'
            | '\u{202a}'..='\u{202e}'
            | '\u{2066}'..='\u{2069}'
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_names_about_as_near_as_the_nearest_are_suggested() {
        let demo = ["demo-admin", "demo-base", "demo-mfa", "demo-readonly"];
        assert_eq!(
            nearest_names("demo-admn", demo.into_iter(), "-"),
            "; did you mean demo-admin?"
        );
        assert_eq!(
            nearest_names("prod-a", ["prod-b", "prod-c", "zzz"].into_iter(), "-"),
            "; did you mean one of: prod-b, prod-c?"
        );
        assert_eq!(nearest_names("qqq", demo.into_iter(), "-"), "-");
    }

    #[test]
    fn printable_neutralises_escape_sequences() {
        assert_eq!(printable("a\x1b[31mb\n"), "a\\x1b[31mb\\x0a");
        assert_eq!(printable("prod-é"), "prod-é");
        assert_eq!(printable("evil\u{202e}nimda"), "evil?nimda");
        assert_eq!(printable("a\u{2066}b\u{2069}\u{2028}"), "a?b??");
    }

    #[test]
    fn printable_text_is_lent_back_and_only_the_rest_is_copied() {
        for plain in ["prod-admin", "Équipe données 日本", ""] {
            assert!(matches!(printable_cow(plain), Cow::Borrowed(text) if text == plain));
        }
        assert!(matches!(printable_cow("a\tb"), Cow::Owned(text) if text == "a\\x09b"));
    }

    #[test]
    fn filtering_twice_changes_nothing_and_lines_stay_lines() {
        let once = printable("x\x1b]0;PWNED\x07\u{202e}");
        assert_eq!(once, "x\\x1b]0;PWNED\\x07?");
        assert_eq!(printable(&once), once);
        assert_eq!(
            printable_lines("one \x1b[2J\n  two\x07"),
            "one \\x1b[2J\n  two\\x07"
        );
    }
}
