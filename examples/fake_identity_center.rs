//! The tests' own IAM Identity Center (tests/it/common/fake_sso.rs) as a program, for
//! scripts/bench and demos: it grants an organisation's worth of accounts and roles, pages them
//! as the script says, and serves until killed.
//!
//! ```sh
//! cargo build --release --example fake_identity_center
//! fake_identity_center --accounts 2000 --roles 3 --page-size 37 --delay-ms 20
//! ```
//!
//! `--demo` grants scripts/try's small organisation instead (two accounts, three roles) and
//! also serves a console sign-in endpoint, whose URL is the second line of stdout (for
//! `ROLECALL_SIGNIN_URL`).
//!
//! The first line of stdout is its endpoint URL (`http://127.0.0.1:PORT`): point
//! `AWS_ENDPOINT_URL_SSO` (the portal) and `AWS_ENDPOINT_URL_SSO_OIDC` (token refreshes) at it.
//! `--page-size` caps both listings' pages (accounts and roles), `--delay-ms` delays each portal
//! call. Accounts are `100000000000`, `100000000001`, … named `Account 0001`, …; roles are
//! `AdministratorAccess`, `ReadOnlyAccess`, `PowerUserAccess`, `ViewOnlyAccess`, then `Role4`….
//!
//! A client also needs a login, which this program does not write: a token file
//! `~/.aws/sso/cache/<lowercase hex SHA-1 of the sso-session name>.json`, mode 0600, holding at
//! least `{"accessToken": "anything", "expiresAt": "<a future time, RFC 3339 UTC, …Z>"}`, and
//! an `[sso-session NAME]` in the config with `sso_start_url` and `sso_region`. Any bearer token
//! is accepted.

// The tests use the rest of the fakes; this program uses only their start and grants.
#[allow(dead_code)]
#[path = "../tests/it/common/fake_signin.rs"]
mod fake_signin;
#[allow(dead_code)]
#[path = "../tests/it/common/fake_sso.rs"]
mod fake_sso;

use std::io::Write;

/// What the command line asked for.
struct Options {
    accounts: usize,
    roles: usize,
    page_size: usize,
    delay_ms: u64,
    demo: bool,
}

const USAGE: &str = "usage: fake_identity_center [--accounts N] [--roles R] [--page-size P] \
     [--delay-ms D] | --demo";

fn options() -> Result<Options, String> {
    let mut options = Options {
        accounts: 2000,
        roles: 3,
        page_size: 100,
        delay_ms: 0,
        demo: false,
    };
    let mut args = std::env::args().skip(1);
    while let Some(flag) = args.next() {
        if flag == "-h" || flag == "--help" {
            return Err(USAGE.to_string());
        }
        if flag == "--demo" {
            options.demo = true;
            continue;
        }
        let value = args
            .next()
            .ok_or_else(|| format!("{flag} needs a value\n{USAGE}"))?;
        let number = |what: &str| {
            value
                .parse::<u64>()
                .map_err(|_| format!("{what} takes a whole number, not `{value}`"))
        };
        match flag.as_str() {
            "--accounts" => options.accounts = number("--accounts")? as usize,
            "--roles" => options.roles = number("--roles")? as usize,
            "--page-size" => options.page_size = number("--page-size")?.max(1) as usize,
            "--delay-ms" => options.delay_ms = number("--delay-ms")?,
            _ => return Err(format!("unknown option `{flag}`\n{USAGE}")),
        }
    }
    Ok(options)
}

fn main() {
    let options = options().unwrap_or_else(|message| {
        eprintln!("fake_identity_center: {message}");
        std::process::exit(2);
    });
    let mut script = fake_sso::Script::default();
    if options.demo {
        // scripts/try's organisation: a few accounts a newcomer can read at a glance.
        script.grant(
            "111111111111",
            "Demo Sandbox",
            &["AdministratorAccess", "ReadOnlyAccess"],
        );
        script.grant("222222222222", "Demo Production", &["ReadOnlyAccess"]);
    } else {
        script.grant_generated(options.accounts, options.roles);
    }
    script.accounts_page_size = options.page_size;
    script.roles_page_size = options.page_size;
    script.portal_delay_ms = options.delay_ms;
    let fake = fake_sso::FakeSso::start_with(script);
    let mut stdout = std::io::stdout();
    // Flushed at once: the script that started this reads the line while the program runs on.
    let _ = writeln!(stdout, "{}", fake.endpoint).and_then(|()| stdout.flush());
    // The demo's console: a sign-in endpoint for ROLECALL_SIGNIN_URL, on the second line.
    let _signin = options.demo.then(|| {
        let signin = fake_signin::FakeSignin::start();
        let _ = writeln!(stdout, "{}", signin.endpoint).and_then(|()| stdout.flush());
        signin
    });
    // The fake serves on its own threads; this one only keeps the process alive until killed.
    loop {
        std::thread::park();
    }
}
