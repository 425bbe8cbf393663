//! Generated hostile strings, shared by the integration tests and the escaping property test
//! in `src/shell.rs` (which includes this file by path).

/// Strings built to break shell quoting: quotes, backslashes, `$( )`, backticks, `!`, `%`,
/// globs, newlines, tabs, control bytes (unless `xml_safe`), non-ASCII and long runs. The same
/// seed gives the same strings, so a failure can be reproduced.
pub fn hostile_strings(count: usize, xml_safe: bool) -> Vec<String> {
    const PIECES: &[&str] = &[
        "'",
        "\"",
        "\\",
        "$(touch pwned)",
        "`touch pwned`",
        "${HOME}",
        "$HOME",
        "!",
        "!!",
        "%",
        "%s",
        "%F{red}",
        "*",
        "?",
        "[a]",
        "~",
        "#",
        ";",
        "&",
        "|",
        "<",
        ">",
        "(",
        ")",
        "{",
        "}",
        " ",
        "\n",
        "\t",
        "\r",
        "é",
        "日本",
        "🙂",
        "\u{2028}",
        "=",
        "-",
        "--",
        "\\'",
        "'\\''",
        "$'x'",
        "\\x41",
        "\\n",
        "a",
        "Z",
        "0",
        "/",
        ":",
        "@",
        "+",
    ];
    const CONTROLS: &[&str] = &[
        "\u{1}",
        "\u{1b}[31m",
        "\u{7}",
        "\u{7f}",
        "\u{1b}]0;title\u{7}",
        "\u{8}",
    ];
    let mut state: u64 = 0x9e37_79b9_7f4a_7c15;
    let mut next = move || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state
    };
    (0..count)
        .map(|i| {
            let length = if i % 50 == 49 {
                400
            } else {
                1 + (next() % 12) as usize
            };
            let mut text = String::new();
            for _ in 0..length {
                let use_control = !xml_safe && next() % 8 == 0;
                let piece = if use_control {
                    CONTROLS[(next() as usize) % CONTROLS.len()]
                } else {
                    PIECES[(next() as usize) % PIECES.len()]
                };
                text.push_str(piece);
            }
            text
        })
        .collect()
}
