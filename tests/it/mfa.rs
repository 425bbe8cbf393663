//! MFA codes without a keyboard at hand: a profile's `mfa_process` (a stand-in `ykman` on PATH
//! that logs its calls), the controlling terminal under the AWS CLI, a desktop dialog (a stand-in
//! `zenity`), and one TOTP window, one use. moto answers behind a recorder that shows which
//! TokenCode reached STS.

use crate::common::recorder::Recorder;
use crate::common::{Moto, Run, Shell, Tmux, World, BASE_KEYS};
use std::path::PathBuf;
use std::process::{Command, Stdio};

const SERIAL: &str = "arn:aws:iam::000000000000:mfa/ana";

/// Two roles on one MFA device; `base` names the device's `mfa_process`, found down the chain.
fn config(mfa_process: &str) -> String {
    format!(
        "[profile base]\nmfa_process = {mfa_process}\n\
         [profile mfa-a]\nrole_arn = arn:aws:iam::111111111111:role/a\nsource_profile = base\n\
         mfa_serial = {SERIAL}\n\
         [profile mfa-b]\nrole_arn = arn:aws:iam::222222222222:role/b\nsource_profile = base\n\
         mfa_serial = {SERIAL}\n"
    )
}

/// A world whose STS is moto behind a recorder, with a `bin` directory first on PATH for
/// stand-ins that note each call in `calls.log`.
struct MfaWorld {
    world: World,
    sts: Recorder,
}

impl MfaWorld {
    fn new(config_text: &str) -> MfaWorld {
        let moto = Moto::start();
        let sts = Recorder::in_front_of(&moto.endpoint);
        let mut world = World::with_endpoint(&sts.endpoint);
        world.moto = Some(moto);
        std::fs::create_dir_all(world.home().join("bin")).unwrap();
        world.write_config(config_text);
        world.write_credentials(BASE_KEYS);
        MfaWorld { world, sts }
    }

    /// A program on PATH that logs its arguments, whether its stdin is a terminal and whether it
    /// could open /dev/tty, then runs `body`.
    fn stand_in(&self, name: &str, body: &str) {
        let path = self.world.home().join("bin").join(name);
        let log = self.log_path();
        std::fs::write(
            &path,
            format!(
                "#!/bin/sh\n\
                 {{ printf '%s' \"{name} $*\"; [ -t 0 ] && printf ' stdin-terminal'; \
                 (: < /dev/tty) 2>/dev/null && printf ' tty'; echo; }} >> '{}'\n{body}\n",
                log.display()
            ),
        )
        .unwrap();
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
    }

    fn log_path(&self) -> PathBuf {
        self.world.home().join("calls.log")
    }

    fn calls(&self) -> Vec<String> {
        std::fs::read_to_string(self.log_path())
            .unwrap_or_default()
            .lines()
            .map(String::from)
            .collect()
    }

    fn path(&self) -> String {
        let path = self
            .world
            .environment()
            .into_iter()
            .find(|(name, _)| name == "PATH")
            .unwrap()
            .1;
        format!("{}:{path}", self.world.home().join("bin").display())
    }

    /// rolecall with the stand-ins first on PATH, in a session of its own, stdin /dev/null.
    fn rolecall(&self, args: &[&str]) -> Command {
        let mut command = self.world.rolecall(args);
        command.env("PATH", self.path());
        command
    }

    fn run(&self, args: &[&str]) -> Run {
        Run::of(self.rolecall(args))
    }
}

/// A device whose code is the same for its first two calls (one window), then the next.
fn changing_code(world: &MfaWorld) -> String {
    format!(
        "if [ \"$(wc -l < '{}')\" -le 2 ]; then echo 111111; else echo 222222; fi",
        world.log_path().display()
    )
}

#[test]
fn mfa_process_gives_the_code_with_no_terminal_even_under_no_input() {
    let world = MfaWorld::new(&config("ykman oath accounts code --single ana"));
    world.stand_in("ykman", "echo 123456; echo 'Touch your YubiKey' >&2");
    let run = world
        .run(&["assume", "--json", "--no-input", "mfa-a"])
        .success();
    run.stderr_has("mfa_process of profile `base`");
    assert_eq!(
        run.json()["AWS_SESSION_TOKEN"].as_str().map(str::is_empty),
        Some(false),
        "{}",
        run.stdout
    );
    // Run through sh -c with no terminal at all: stdin not one, /dev/tty not to be opened.
    assert_eq!(world.calls(), ["ykman oath accounts code --single ana"]);
    assert_eq!(world.sts.token_codes(), ["123456"]);
    assert_eq!(world.sts.count("GetSessionToken"), 1);
    // Its words on stderr are its own business: they reach no one.
    assert!(!run.stderr.contains("Touch your YubiKey"), "{}", run.stderr);
}

#[test]
fn eight_parallel_assumes_over_two_profiles_of_one_device_run_mfa_process_once() {
    let world = MfaWorld::new(&config("ykman oath accounts code --single ana"));
    world.stand_in("ykman", "sleep 1; echo 654321");
    let children: Vec<_> = (0..8)
        .map(|index| {
            let target = if index % 2 == 0 { "mfa-a" } else { "mfa-b" };
            world
                .rolecall(&["assume", "--json", target])
                .stdout(Stdio::piped())
                .stderr(Stdio::piped())
                .spawn()
                .unwrap()
        })
        .collect();
    for child in children {
        let output = child.wait_with_output().unwrap();
        assert!(
            output.status.success(),
            "{}",
            String::from_utf8_lossy(&output.stderr)
        );
    }
    assert_eq!(world.calls().len(), 1, "{:?}", world.calls());
    assert_eq!(world.sts.token_codes(), ["654321"]);
    assert_eq!(world.sts.count("GetSessionToken"), 1);
}

#[test]
fn a_failing_silent_or_stuck_mfa_process_is_refused_before_sts_and_changes_nothing() {
    let cases = [
        (
            "fails",
            "echo 'no YubiKey found \u{1b}[31m' >&2; exit 3",
            "status=1",
            "exited with exit status: 3: no YubiKey found",
        ),
        (
            "prints no code",
            "echo 'here is no code'",
            "status=2",
            "printed no MFA code",
        ),
        (
            "times out",
            "sleep 30; echo 123456",
            "status=1",
            "did not answer within 1s, and was ended",
        ),
    ];
    for (what, body, status, message) in cases {
        let world = MfaWorld::new(&config("ykman oath accounts code --single ana"));
        world.stand_in("ykman", body);
        let around = Shell::new(&world.world, "bash")
            .env("PATH", &world.path())
            .env("ROLECALL_PROCESS_TIMEOUT", "1")
            .around_assume("mfa-a");
        assert!(around.stderr.contains(status), "{what}: {}", around.stderr);
        assert!(around.stderr.contains(message), "{what}: {}", around.stderr);
        assert!(
            around.stderr.contains("mfa_process of profile `base`"),
            "{what}: {}",
            around.stderr
        );
        assert!(
            !around.stderr.contains('\u{1b}'),
            "{what}: {}",
            around.stderr
        );
        assert!(!around.stderr.contains("here is no code"), "{what}");
        assert_eq!(
            around.before, around.after,
            "{what}: the environment changed"
        );
        assert_eq!(world.sts.sent(), "", "{what}: STS was called");
    }
}

#[test]
fn aws_through_a_credential_process_line_asks_on_the_terminal_it_runs_in() {
    crate::common::require_tool("aws");
    let world = MfaWorld::new(&format!(
        "{}[profile via-rolecall]\ncredential_process = rolecall credential-process mfa-a\n\
         region = us-east-1\n",
        config("")
    ));
    let environment: String = world
        .world
        .environment()
        .iter()
        .map(|(name, value)| format!("{name}='{value}' "))
        .collect();
    // stdin from /dev/null as well: only the controlling terminal is left to ask on.
    let tmux = Tmux::start(
        &world.world,
        &format!(
            "env {environment}aws --profile via-rolecall sts get-caller-identity \
             --query Arn --output text < /dev/null; echo done=$?; sleep 60"
        ),
    );
    tmux.wait_for_text(&format!("MFA code for {SERIAL}:"));
    tmux.line("246810");
    let screen = tmux.wait_for_text("done=");
    assert!(screen.contains("done=0"), "{screen}");
    assert!(screen.contains("assumed-role/a/"), "{screen}");
    assert_eq!(world.sts.token_codes(), ["246810"]);
}

#[test]
fn a_desktop_dialog_asks_when_there_is_no_terminal() {
    let world = MfaWorld::new(&config(""));
    world.stand_in("zenity", "echo 135790");
    let mut command = world.rolecall(&["assume", "--json", "mfa-a"]);
    command.env("DISPLAY", ":0");
    Run::of(command).success();
    let calls = world.calls();
    assert_eq!(calls.len(), 1, "{calls:?}");
    assert!(calls[0].starts_with("zenity --entry"), "{calls:?}");
    assert!(
        calls[0].contains(&format!("profile mfa-a (device {SERIAL})")),
        "{calls:?}"
    );
    assert_eq!(world.sts.token_codes(), ["135790"]);

    // Cancelled: the person gave up, nothing reached STS.
    let world = MfaWorld::new(&config(""));
    world.stand_in("kdialog", "exit 1");
    let mut command = world.rolecall(&["assume", "--json", "mfa-a"]);
    command.env("WAYLAND_DISPLAY", "wayland-0");
    Run::of(command).failure(130);
    assert_eq!(world.calls().len(), 1);
    assert!(world.calls()[0].starts_with("kdialog --title rolecall --inputbox"));
    assert_eq!(world.sts.sent(), "");
}

#[test]
fn rolecall_mfa_prompt_forces_a_prompt_or_nobody() {
    let world = MfaWorld::new(&config(""));
    world.stand_in("zenity", "echo 135790");
    world.stand_in("kdialog", "echo 975310");
    let with = |value: &str| {
        let mut command = world.rolecall(&["assume", "--json", "--no-cache", "mfa-a"]);
        command
            .env("DISPLAY", ":0")
            .env("ROLECALL_MFA_PROMPT", value);
        Run::of(command)
    };
    with("none")
        .failure(2)
        .stderr_has("there is no terminal to ask on: pass --mfa-token");
    with("terminal")
        .failure(2)
        .stderr_has("ROLECALL_MFA_PROMPT=terminal, but stdin is no terminal");
    with("tty")
        .failure(2)
        .stderr_has("there is no terminal to ask on");
    with("dialog")
        .failure(2)
        .stderr_has("ROLECALL_MFA_PROMPT is `dialog`; it must be terminal, tty, zenity");
    assert!(world.calls().is_empty(), "{:?}", world.calls());
    with("kdialog").success();
    assert_eq!(world.calls().len(), 1);
    assert!(
        world.calls()[0].starts_with("kdialog"),
        "{:?}",
        world.calls()
    );
    assert_eq!(world.sts.token_codes(), ["975310"]);
}

#[test]
fn a_second_mfa_session_waits_for_the_next_code_rather_than_reuse_one() {
    // Two sources on one device: two MFA sessions, each needing a code of its own.
    let text = format!(
        "{}[profile other]\nmfa_process = ykman oath accounts code --single ana\n\
         [profile mfa-c]\nrole_arn = arn:aws:iam::333333333333:role/c\nsource_profile = other\n\
         mfa_serial = {SERIAL}\n",
        config("ykman oath accounts code --single ana")
    );
    let credentials = format!(
        "{BASE_KEYS}[other]\naws_access_key_id = AKIAI44QH8DHBEXAMPLE\n\
         aws_secret_access_key = je7MtGbClwBF/2Zp9Utk/h3yCo8nvbEXAMPLEKEY\n"
    );
    let world = MfaWorld::new(&text);
    world.world.write_credentials(&credentials);
    // A code typed twice is refused before STS sees it again.
    world
        .run(&["assume", "--json", "mfa-a", "--mfa-token", "112233"])
        .success();
    world
        .run(&["assume", "--json", "mfa-c", "--mfa-token", "112233"])
        .failure(2)
        .stderr_has("STS takes each code once: pass the next one");
    assert_eq!(world.sts.token_codes(), ["112233"]);

    // From mfa_process: the second waits for the device's next window and runs it again.
    let world = MfaWorld::new(&text);
    world.world.write_credentials(&credentials);
    world.stand_in("ykman", &changing_code(&world));
    world.run(&["assume", "--json", "mfa-a"]).success();
    let second = world.run(&["assume", "--json", "mfa-c"]).success();
    second.stderr_has("STS takes each code once; waiting");
    assert_eq!(world.sts.token_codes(), ["111111", "222222"]);
    // The same code again was not sent: it was asked for once more after the wait.
    assert_eq!(world.calls().len(), 3, "{:?}", world.calls());
}
