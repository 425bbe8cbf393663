//! The checked-in completion scripts and man page are what the binary generates from its clap
//! definitions.

use crate::common;
use std::process::Command;

#[test]
fn checked_in_completions_match_the_binary() {
    for (shell, file) in [
        ("bash", "completions/rolecall.bash"),
        ("zsh", "completions/_rolecall"),
        ("fish", "completions/rolecall.fish"),
    ] {
        let generated = Command::new(common::BIN)
            .args(["completions", shell])
            .output()
            .expect("run rolecall completions");
        assert!(generated.status.success());
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join(file);
        let checked_in = std::fs::read(&path).unwrap_or_default();
        assert!(
            checked_in == generated.stdout,
            "{file} is stale: run `rolecall completions {shell} > {file}`"
        );
    }
}

#[test]
fn checked_in_man_page_matches_the_binary() {
    let generated = Command::new(common::BIN)
        .arg("manpage")
        .output()
        .expect("run rolecall manpage");
    assert!(generated.status.success());
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("man/rolecall.1");
    let checked_in = std::fs::read(&path).unwrap_or_default();
    assert!(
        checked_in == generated.stdout,
        "man/rolecall.1 is stale: run `rolecall manpage > man/rolecall.1`"
    );
}
