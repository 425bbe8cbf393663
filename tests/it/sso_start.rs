//! Identity Center from nothing: a config with no sso-session, one `sso populate START_URL
//! --sso-region R`, and the session, the login (through the test browser, or a device code over
//! SSH), the profiles and an assume all follow; run again, nothing changes and nobody logs in.

use crate::common::fake_sso::{FakeSso, Script};
use crate::common::{self, Run, World};
use std::process::Command;

const START_URL: &str = "https://acme.awsapps.com/start";

struct Fresh {
    world: World,
    portal: FakeSso,
}

/// A HOME whose config has one plain profile and no sso-session; the portal grants two roles in
/// one account and one in another.
fn fresh() -> Fresh {
    let mut script = Script::default();
    script.grant(
        "111111111111",
        "Payments",
        &["AdministratorAccess", "ReadOnlyAccess"],
    );
    script.grant("222222222222", "Sandbox", &["PowerUserAccess"]);
    let world = World::with_moto();
    world.write_config("[profile plain]\nregion = us-east-1\n");
    Fresh {
        world,
        portal: FakeSso::start_with(script),
    }
}

impl Fresh {
    fn rolecall(&self, args: &[&str]) -> Command {
        let mut command = self.world.rolecall(args);
        command
            .env("AWS_ENDPOINT_URL_SSO", &self.portal.endpoint)
            .env("AWS_ENDPOINT_URL_SSO_OIDC", &self.portal.endpoint)
            .env("BROWSER", common::approving_browser(&self.world));
        command
    }

    fn run(&self, args: &[&str]) -> Run {
        Run::of(self.rolecall(args))
    }

    fn config(&self) -> String {
        std::fs::read_to_string(self.world.home().join(".aws/config")).unwrap()
    }

    fn calls(&self, path: &str) -> usize {
        self.portal.calls_to(path).len()
    }
}

#[test]
fn one_populate_with_a_start_url_writes_the_session_logs_in_and_writes_every_profile() {
    let fresh = fresh();
    let before = fresh.config();
    let run = fresh
        .run(&["sso", "populate", START_URL, "--sso-region", "eu-west-1"])
        .success();
    run.stderr_has("rolecall: wrote [sso-session acme] for https://acme.awsapps.com/start to ")
        .stderr_has("sso-session acme: 3 profiles in ");
    let config = fresh.config();
    let added = config
        .strip_prefix(&before)
        .unwrap_or_else(|| panic!("the file's first bytes changed:\n{config}"));
    assert!(
        added.starts_with(
            "\n[sso-session acme]\nsso_start_url = https://acme.awsapps.com/start\n\
             sso_region = eu-west-1\nsso_registration_scopes = sso:account:access\n"
        ),
        "{config}"
    );
    // The login went through the browser (PKCE) and was kept where the AWS CLI keeps it.
    assert_eq!(fresh.calls("/client/register"), 1);
    assert!(common::sso_token_file(fresh.world.home(), "acme").is_file());
    // The generated profiles assume, and status shows the role's time and the login's.
    let profiles = fresh.run(&["profiles"]).success().stdout;
    let generated: Vec<&str> = profiles.lines().filter(|p| *p != "plain").collect();
    assert_eq!(generated.len(), 3, "{profiles}");
    let json = fresh
        .run(&["assume", "--json", generated[0]])
        .success()
        .json();
    assert!(json["ROLECALL_LOGIN_EXPIRES"].as_str().is_some(), "{json}");
    let status = {
        let mut command = fresh.rolecall(&["status"]);
        for (name, value) in json.as_object().unwrap() {
            command.env(name, value.as_str().unwrap());
        }
        Run::of(command).success().stdout
    };
    assert!(status.contains("\nleft     "), "{status}");
    assert!(
        status.contains("sso      sso-session `acme`, login until "),
        "{status}"
    );
    assert!(
        status.contains("renewed silently with its refresh token"),
        "{status}"
    );

    // Again: the same bytes, no login, no token call.
    let tokens = fresh.calls("/token");
    let again = fresh
        .run(&["sso", "populate", START_URL, "--sso-region", "eu-west-1"])
        .success();
    assert!(
        !again.stderr.contains("wrote [sso-session"),
        "{}",
        again.stderr
    );
    again.stderr_has("nothing to change");
    assert_eq!(fresh.config(), config);
    assert_eq!(fresh.calls("/token"), tokens);
    assert_eq!(fresh.calls("/client/register"), 1);
    // The same URL spelled with a trailing slash and another case is the same session, and
    // needs no region.
    fresh
        .run(&["sso", "populate", "https://ACME.awsapps.com/start/"])
        .success()
        .stderr_has("nothing to change");
    assert_eq!(fresh.config(), config);
}

#[test]
fn over_ssh_the_login_is_a_device_code_the_person_approves_elsewhere() {
    use std::io::{BufRead, Read, Write};
    let fresh = fresh();
    let mut command = fresh.rolecall(&[
        "sso",
        "populate",
        START_URL,
        "--sso-region",
        "eu-west-1",
        "--no-browser",
    ]);
    // No browser here: the person opens the printed page on their own machine.
    command
        .env_remove("BROWSER")
        .env("SSH_CONNECTION", "10.0.0.1 51000 10.0.0.2 22")
        .stderr(std::process::Stdio::piped());
    let mut child = command.spawn().unwrap();
    let mut stderr = std::io::BufReader::new(child.stderr.take().unwrap());
    let mut seen = String::new();
    let page = loop {
        let mut line = String::new();
        assert!(
            stderr.read_line(&mut line).unwrap() > 0,
            "no page shown: {seen}"
        );
        seen.push_str(&line);
        if let Some(at) = line.find("/device?user_code=") {
            break line[at..].trim().to_string();
        }
    };
    let host = fresh
        .portal
        .endpoint
        .trim_start_matches("http://")
        .to_string();
    let mut person = std::net::TcpStream::connect(&host).unwrap();
    write!(
        person,
        "GET {page} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    person.read_to_end(&mut Vec::new()).unwrap();
    let mut rest = String::new();
    stderr.read_to_string(&mut rest).unwrap();
    assert!(child.wait().unwrap().success(), "{seen}{rest}");
    assert!(rest.starts_with("  code: CODE-"), "{rest}");
    assert!(rest.contains("3 profiles in "), "{rest}");
    assert_eq!(fresh.calls("/device_authorization"), 1);
    assert_eq!(fresh.calls("/authorize"), 0);
}

#[test]
fn a_second_start_url_is_a_second_session_and_all_populates_each() {
    let fresh = fresh();
    let template = "{session}-{account_id}-{role_name}";
    fresh
        .run(&[
            "sso",
            "populate",
            START_URL,
            "--sso-region",
            "eu-west-1",
            "--name",
            template,
        ])
        .success();
    // A named session for another URL, logged in with `sso login`.
    fresh
        .run(&[
            "sso",
            "login",
            "https://d-9067a1b2c3.awsapps.com/start",
            "--sso-region",
            "us-east-1",
            "--sso-session",
            "beta",
        ])
        .success()
        .stderr_has("wrote [sso-session beta]")
        .stderr_has("rolecall: logged in to sso-session `beta` until ");
    let config = fresh.config();
    assert!(
        config.contains(
            "[sso-session beta]\nsso_start_url = https://d-9067a1b2c3.awsapps.com/start\n\
             sso_region = us-east-1\n"
        ),
        "{config}"
    );
    let run = fresh
        .run(&["sso", "populate", "--all", "--name", template])
        .success();
    let summaries: Vec<&str> = run
        .stderr
        .lines()
        .filter(|line| line.contains(" profiles in "))
        .collect();
    assert_eq!(summaries.len(), 2, "{}", run.stderr);
    assert!(summaries[0].starts_with("rolecall: sso-session acme: 3 profiles"));
    assert!(summaries[1].starts_with("rolecall: sso-session beta: 3 profiles"));
    let profiles = fresh.run(&["profiles"]).success().stdout;
    assert!(
        profiles.contains("beta-222222222222-PowerUserAccess"),
        "{profiles}"
    );
    // botocore reads both sessions and the profiles that name them.
    let mut command = fresh.world.command(common::test_python());
    command.args([
        "-c",
        "import botocore.session\n\
         config = botocore.session.Session().full_config\n\
         print(sorted(config['sso_sessions']))\n\
         print(config['profiles']['beta-222222222222-PowerUserAccess']['sso_session'])",
    ]);
    let view = Run::of(command).success().stdout;
    assert_eq!(view, "['acme', 'beta']\nbeta\n");
    // And the AWS CLI reads a profile's settings.
    let mut command = fresh.world.command(common::require_tool("aws"));
    command.args([
        "configure",
        "get",
        "sso_account_id",
        "--profile",
        "beta-222222222222-PowerUserAccess",
    ]);
    assert_eq!(Run::of(command).success().stdout, "222222222222\n");
}

#[test]
fn bad_start_urls_regions_and_names_are_refused_and_the_config_is_untouched() {
    let fresh = fresh();
    let before = fresh.config();
    let cases: [(&[&str], &str); 9] = [
        (
            &["http://acme.awsapps.com/start", "--sso-region", "eu-west-1"],
            "must be https",
        ),
        (
            &[
                "https://ana:pw@acme.awsapps.com/start",
                "--sso-region",
                "eu-west-1",
            ],
            "user name or password",
        ),
        (
            &[
                "https://acme.awsapps.com/start?next=x",
                "--sso-region",
                "eu-west-1",
            ],
            "query or fragment",
        ),
        (
            &[
                "https://acme.awsapps.com/start#x",
                "--sso-region",
                "eu-west-1",
            ],
            "query or fragment",
        ),
        (
            &[
                "https://acme.awsapps.com/st\u{1b}[2Jart",
                "--sso-region",
                "eu-west-1",
            ],
            "control character",
        ),
        (
            &[START_URL, "--sso-region", "EU West 1"],
            "is not a region name",
        ),
        (&[START_URL], "add --sso-region REGION"),
        (
            &[
                START_URL,
                "--sso-region",
                "eu-west-1",
                "--sso-session",
                "a]b",
            ],
            "may hold only letters",
        ),
        (
            &[
                START_URL,
                "--sso-region",
                "eu-west-1",
                "--sso-session",
                "x y",
            ],
            "may hold only letters",
        ),
    ];
    for (args, says) in cases {
        for command in ["populate", "login"] {
            let mut all = vec!["sso", command];
            all.extend_from_slice(args);
            let run = fresh.run(&all).failure(2);
            assert!(run.stderr.contains(says), "{all:?}: {}", run.stderr);
            assert!(!run.stderr.contains('\u{1b}'), "{all:?}: {:?}", run.stderr);
            assert_eq!(fresh.config(), before, "{all:?} changed the config");
        }
    }
    assert_eq!(fresh.portal.requests().len(), 0);
}

#[test]
fn a_name_some_session_has_for_another_url_is_refused() {
    let fresh = fresh();
    fresh
        .run(&["sso", "populate", START_URL, "--sso-region", "eu-west-1"])
        .success();
    let before = fresh.config();
    fresh
        .run(&[
            "sso",
            "populate",
            "https://other.awsapps.com/start",
            "--sso-region",
            "eu-west-1",
            "--sso-session",
            "acme",
        ])
        .failure(2)
        .stderr_has("[sso-session acme] of your config has another start URL");
    assert_eq!(fresh.config(), before);
}

#[test]
fn the_prompt_shows_the_logins_time_when_asked() {
    let world = World::with_endpoint("http://127.0.0.1:9");
    let now = chrono::Utc::now().timestamp();
    let mut command = world.rolecall(&["prompt", "--format", "[{profile} {left} sso {login}]"]);
    command
        .env("ROLECALL_PROFILE", "sso-dev")
        .env("ROLECALL_EXPIRES", (now + 3000).to_string())
        .env("ROLECALL_LOGIN_EXPIRES", (now + 7 * 3600 + 30).to_string());
    let run = Run::of(command).success();
    assert_eq!(run.stdout, "[sso-dev 50m sso 7h00m]\n");
}
