//! `rolecall manpage` (hidden): the man page rolecall(1), generated from the clap definitions
//! and checked in as `man/rolecall.1`. One page for the whole command: every subcommand's
//! synopsis and options under COMMANDS, rather than a page per subcommand that `man rolecall`
//! would only point to. clap_mangen renders each part; this module only arranges them.

use crate::error::{Failure, Result, EXIT_STATUSES};
use crate::shell::Shell;
use clap::CommandFactory;
use clap_mangen::Man;
use roff::{bold, roman, Roff};

pub fn run() -> Result<()> {
    super::emit(&page()?)
}

pub fn page() -> Result<String> {
    let mut command = crate::cli::Cli::command();
    // Built once from the top, so each subcommand knows its full name (`rolecall sso login`).
    command.build();
    let root = Man::new(command.clone());
    // An empty Roff renders as its apostrophe preamble alone: the page's first lines.
    let mut page = Rendered {
        text: Roff::new().render(),
    };
    // Written out: clap_mangen leaves the date empty unquoted, which shifts the version into
    // the date's place.
    page.text.push_str(&format!(
        ".TH ROLECALL 1 \"\" \"rolecall {}\" \"User Commands\"\n",
        env!("CARGO_PKG_VERSION")
    ));
    page.push_section(|w| root.render_name_section(w))?;
    page.push_section(|w| root.render_synopsis_section(w))?;
    page.push_roff(&description());
    page.push_section(|w| root.render_options_section(w))?;
    page.push_roff(Roff::new().control("SH", ["COMMANDS"]));
    for subcommand in visible_subcommands(&command) {
        push_command(&mut page, subcommand)?;
    }
    page.push_roff(&shell_integration());
    page.push_roff(&exit_status());
    page.push_section(|w| root.render_version_section(w))?;
    Ok(page.text)
}

/// One subcommand under COMMANDS: its name as a subheading, its synopsis, what it does and its
/// options; then its own subcommands (`sso login`, `keys add`, …) the same way.
fn push_command(page: &mut Rendered, command: &clap::Command) -> Result<()> {
    let name = command.get_bin_name().unwrap_or(command.get_name());
    page.push_roff(Roff::new().control("SS", [name]));
    let has_subcommands = visible_subcommands(command).next().is_some();
    // Each subcommand's -h is the same as everywhere; the root's OPTIONS says it once.
    let man = Man::new(command.clone().mut_arg("help", |help| help.hide(true)));
    if !has_subcommands {
        page.push_section_body(|w| man.render_synopsis_section(w))?;
        page.push_roff(Roff::new().control("PP", []));
    }
    page.push_section_body(|w| man.render_description_section(w))?;
    if command.get_arguments().any(|arg| !arg.is_hide_set()) {
        page.push_section_body(|w| man.render_options_section(w))?;
    }
    for subcommand in visible_subcommands(command) {
        push_command(page, subcommand)?;
    }
    Ok(())
}

fn visible_subcommands(command: &clap::Command) -> impl Iterator<Item = &clap::Command> {
    command.get_subcommands().filter(|sub| !sub.is_hide_set())
}

/// The page's own words: the clap definitions hold only the one-line summary NAME shows.
fn description() -> Roff {
    let mut roff = Roff::new();
    roff.control("SH", ["DESCRIPTION"]);
    roff.text([
        bold("rolecall"),
        roman(
            " gets temporary AWS credentials for a profile of ~/.aws/config (through its chain \
             of source profiles, an MFA code typed once per MFA session, or an IAM Identity \
             Center login) and puts them into the shell that asked: ",
        ),
        bold("rolecall init"),
        roman(" prints a shell function, "),
        bold("assume"),
        roman(", that evaluates what "),
        bold("rolecall assume"),
        roman(
            " prints, with every value escaped. Credentials are cached, so the next assume \
             of the same target needs no network.",
        ),
    ]);
    roff.control("PP", []);
    roff.text([roman(
        "The README that comes with rolecall (/usr/share/doc/rolecall/README.md from the \
         Debian package) has the tour and a list of guides, installed beside it in \
         /usr/share/doc/rolecall/docs/: profiles and MFA, the shells, Identity Center, the \
         console, automation, the OS keyring, Kubernetes, security, and troubleshooting.",
    )]);
    roff
}

/// The line each shell's rc file needs, from the same facts `rolecall init` and `doctor` use.
fn shell_integration() -> Roff {
    let mut roff = Roff::new();
    roff.control("SH", ["SHELL INTEGRATION"]);
    roff.text([roman(
        "The assume function, its completion and the prompt segment come from one line in the \
         shell's startup file; nothing else edits it:",
    )]);
    for shell in Shell::ALL {
        roff.control("TP", []);
        roff.text([roman(shell.rc_file())]);
        roff.text([bold(shell.init_line())]);
    }
    roff
}

fn exit_status() -> Roff {
    let mut roff = Roff::new();
    roff.control("SH", ["EXIT STATUS"]);
    for (codes, meaning) in EXIT_STATUSES {
        roff.control("TP", []);
        roff.text([bold(codes)]);
        roff.text([roman(meaning)]);
    }
    roff
}

/// The page as it is put together. Every part clap_mangen or roff renders starts with roff's
/// apostrophe preamble; the page keeps only the first.
#[derive(Default)]
struct Rendered {
    text: String,
}

impl Rendered {
    /// A part as rendered, preamble included.
    fn push(&mut self, render: impl FnOnce(&mut Vec<u8>) -> std::io::Result<()>) -> Result<()> {
        let mut buffer = Vec::new();
        render(&mut buffer)
            .map_err(|e| Failure::local(format!("cannot render the man page: {e}")))?;
        self.text.push_str(&String::from_utf8_lossy(&buffer));
        Ok(())
    }

    /// A whole section (heading and body) without the preamble.
    fn push_section(
        &mut self,
        render: impl FnOnce(&mut Vec<u8>) -> std::io::Result<()>,
    ) -> Result<()> {
        let mut part = Rendered::default();
        part.push(render)?;
        self.text.push_str(without_preamble(&part.text));
        Ok(())
    }

    /// A section's body without its `.SH` heading: a subcommand's part of COMMANDS.
    fn push_section_body(
        &mut self,
        render: impl FnOnce(&mut Vec<u8>) -> std::io::Result<()>,
    ) -> Result<()> {
        let mut part = Rendered::default();
        part.push(render)?;
        let section = without_preamble(&part.text);
        let body = match section.split_once('\n') {
            Some((heading, body)) if heading.starts_with(".SH ") => body,
            _ => section,
        };
        self.text.push_str(body);
        Ok(())
    }

    fn push_roff(&mut self, roff: &Roff) {
        self.text.push_str(without_preamble(&roff.render()));
    }
}

fn without_preamble(rendered: &str) -> &str {
    let preamble = Roff::new().render();
    rendered.strip_prefix(preamble.as_str()).unwrap_or(rendered)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_page_names_every_visible_subcommand_once_and_hides_manpage() {
        let page = page().unwrap();
        assert_eq!(page.matches(r".ie \n(.g .ds Aq").count(), 1, "one preamble");
        for name in [
            "rolecall assume",
            "rolecall exec",
            "rolecall sso",
            "rolecall sso login",
            "rolecall keys rotate",
            "rolecall completions",
        ] {
            let heading = if name.contains(' ') {
                format!(".SS \"{name}\"\n")
            } else {
                format!(".SS {name}\n")
            };
            assert_eq!(page.matches(&heading).count(), 1, "{name}");
        }
        assert!(!page.contains("manpage"), "the hidden subcommand is listed");
        assert!(page.contains(".SH \"EXIT STATUS\""));
    }
}
