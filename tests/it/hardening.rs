//! Faults, hostile values, concurrency and bad configuration: nothing hangs, nothing runs that
//! should not, and the shell keeps what it had.

use crate::common::fake_sts::{Behaviour, FakeSts};
use crate::common::shell::Around;
use crate::common::{
    self, environment_of, eval_assume, Moto, Run, Shell, World, BASE_KEYS, NUSHELLS, SHELLS,
};
use std::time::Duration;

const CONFIG: &str = "[profile base]\nregion = eu-west-1\n\
[profile demo-admin]\nrole_arn = arn:aws:iam::111111111111:role/admin\nsource_profile = base\n\
[profile mfa]\nrole_arn = arn:aws:iam::111111111111:role/mfa\nsource_profile = base\n\
mfa_serial = arn:aws:iam::000000000000:mfa/ana\n";

/// The test world's STS timeout (ROLECALL_STS_TIMEOUT) and what a process may add to it.
const TIMEOUT: Duration = Duration::from_secs(3);
const SLACK: Duration = Duration::from_secs(2);

fn world_at(endpoint: &str) -> World {
    let world = World::with_endpoint(endpoint);
    world.write_config(CONFIG);
    world.write_credentials(BASE_KEYS);
    world
}

/// Checks that the assume failed with `status` and `message`, within the timeout, and left the
/// environment as it was.
fn assert_failed_alone(around: &Around, what: &str, status: &str, message: &str) {
    assert!(around.stderr.contains(status), "{what}: {}", around.stderr);
    assert!(around.stderr.contains(message), "{what}: {}", around.stderr);
    assert_eq!(
        around.before, around.after,
        "{what}: the environment changed"
    );
    // The comparison saw the environment (the driver sets ROLECALL_PROFILE=kept first).
    assert!(around.before.contains("kept"), "{what}: {}", around.before);
    assert!(
        around.elapsed < TIMEOUT + SLACK,
        "{what}: took {:?}",
        around.elapsed
    );
}

#[test]
fn a_failed_assume_gives_its_message_in_time_and_leaves_the_environment_byte_for_byte() {
    // In each shell, nushell included: an unknown profile, a refused port, and access denied.
    let config_only = world_at("http://127.0.0.1:9");
    let refused = world_at(&format!("http://127.0.0.1:{}", common::free_port()));
    let denied_sts = FakeSts::start(Behaviour::sts_error(
        403,
        "AccessDenied",
        "User: arn:aws:iam::123456789012:user/ana is not authorized to perform: sts:AssumeRole",
    ));
    let denied = world_at(&denied_sts.endpoint);
    let mut longest = Duration::ZERO;
    for shell in SHELLS.into_iter().chain(NUSHELLS) {
        for (world, target, status, message) in [
            (
                &config_only,
                "no-such-profile",
                "status=2",
                "no profile named",
            ),
            (&refused, "demo-admin", "status=1", "could not be reached"),
            (&denied, "demo-admin", "status=1", "access denied"),
        ] {
            let around = Shell::new(world, shell).compinit().around_assume(target);
            assert_failed_alone(&around, &format!("{shell} {target}"), status, message);
            longest = longest.max(around.elapsed);
        }
    }

    // In bash, every fault of STS the fake one can play.
    let error = Behaviour::sts_error;
    let cases: Vec<(&str, Behaviour, &str, &str)> = vec![
        (
            "AccessDenied",
            error(
                403,
                "AccessDenied",
                "User: arn:aws:iam::123456789012:user/ana is not authorized",
            ),
            "status=1",
            "trust policy must allow",
        ),
        (
            "ExpiredToken",
            error(
                400,
                "ExpiredToken",
                "The security token included in the request is expired",
            ),
            "status=1",
            "expired; renew them",
        ),
        (
            "InvalidClientTokenId",
            error(403, "InvalidClientTokenId", "invalid"),
            "status=1",
            "wrong or revoked",
        ),
        (
            "SignatureDoesNotMatch",
            error(403, "SignatureDoesNotMatch", "mismatch"),
            "status=1",
            "wrong or revoked",
        ),
        (
            "DurationSeconds",
            error(
                400,
                "ValidationError",
                "The requested DurationSeconds exceeds the MaxSessionDuration set for this role.",
            ),
            "status=1",
            "longer than",
        ),
        (
            "Throttling",
            error(400, "Throttling", "Rate exceeded"),
            "status=1",
            "Throttling",
        ),
        (
            "an unknown code",
            error(400, "SomethingNew", "new"),
            "status=1",
            "SomethingNew: new",
        ),
        (
            "HTTP 500",
            error(500, "InternalFailure", "oops"),
            "status=1",
            "InternalFailure",
        ),
        (
            "HTTP 503",
            error(503, "ServiceUnavailable", "busy"),
            "status=1",
            "ServiceUnavailable",
        ),
        (
            "HTTP 500 with HTML",
            Behaviour::Answer {
                status: 500,
                headers: vec![],
                body: "<html>gateway</html>".into(),
            },
            "status=1",
            "cannot read",
        ),
        (
            "malformed XML",
            Behaviour::Answer {
                status: 200,
                headers: vec![],
                body: "<AssumeRoleResponse><AssumeRoleResult><Credentials>".into(),
            },
            "status=1",
            "cannot read",
        ),
        (
            "not XML",
            Behaviour::Answer {
                status: 200,
                headers: vec![],
                body: "{\"json\": true}".into(),
            },
            "status=1",
            "cannot read",
        ),
        (
            "an empty answer",
            Behaviour::Answer {
                status: 200,
                headers: vec![],
                body: String::new(),
            },
            "status=1",
            "cannot read",
        ),
        (
            "a slow answer past the timeout",
            Behaviour::Delayed(Duration::from_secs(6), Box::new(Behaviour::grant())),
            "status=1",
            "did not answer within 3s",
        ),
        (
            "silence",
            Behaviour::Silent,
            "status=1",
            "did not answer within 3s",
        ),
    ];
    let count = cases.len() + 2 + 3 * SHELLS.len();
    for (name, behaviour, status, message) in cases {
        let sts = FakeSts::start(behaviour);
        let world = world_at(&sts.endpoint);
        let around = Shell::new(&world, "bash").around_assume("demo-admin");
        assert_failed_alone(&around, name, status, message);
        longest = longest.max(around.elapsed);
    }
    // A rejected MFA code, on GetSessionToken.
    let sts = FakeSts::start(Behaviour::sts_error(
        403,
        "AccessDenied",
        "MultiFactorAuthentication failed with invalid MFA one time pass code.",
    ));
    let world = world_at(&sts.endpoint);
    let around = Shell::new(&world, "bash").around_assume("mfa --mfa-token 123456");
    assert!(
        around.stderr.contains("the MFA code was rejected"),
        "{}",
        around.stderr
    );
    assert_eq!(around.before, around.after);
    longest = longest.max(around.elapsed);
    // A slow answer within the timeout succeeds.
    let sts = FakeSts::start(Behaviour::Delayed(
        Duration::from_millis(1500),
        Box::new(Behaviour::grant()),
    ));
    let world = world_at(&sts.endpoint);
    let around = Shell::new(&world, "bash").around_assume("demo-admin");
    assert!(!around.stderr.contains("status="), "{}", around.stderr);
    assert!(around.after.contains("ROLECALL_PROFILE=demo-admin"));
    longest = longest.max(around.elapsed);
    eprintln!("fault cases: {count}; longest: {longest:?}");
}

#[test]
fn hostile_credentials_from_sts_stay_inert_in_each_shell() {
    // Written by hand, evaluated as `assume` prints them, without the integration.
    let secret = "a'b\"c$(touch pwned)`touch pwned2`\\n%s\\\n\ttab;rm -rf x|&<>*?~!#";
    let token = "tok\u{e9}n with spaces \u{7f}[31m and $HOME and ${HOME} and \\'";
    let sts = FakeSts::start(Behaviour::Grant {
        access_key_id: "ASIA$(touch pwned3)".into(),
        secret_access_key: secret.into(),
        session_token: token.into(),
    });
    let world = world_at(&sts.endpoint);
    for shell in SHELLS {
        let body = format!("{}\nenv -0", eval_assume(shell, "demo-admin"));
        let run = Shell::new(&world, shell).bare().run(&body).success();
        let env = environment_of(&run.stdout);
        assert_eq!(
            env.get("AWS_SECRET_ACCESS_KEY").map(String::as_str),
            Some(secret),
            "{shell}: {}",
            run.stderr
        );
        assert_eq!(
            env.get("AWS_SESSION_TOKEN").map(String::as_str),
            Some(token),
            "{shell}"
        );
        assert_eq!(
            env.get("AWS_ACCESS_KEY_ID").map(String::as_str),
            Some("ASIA$(touch pwned3)"),
            "{shell}"
        );
    }
    for sentinel in ["pwned", "pwned2", "pwned3"] {
        assert!(!world.home().join(sentinel).exists(), "{sentinel} ran");
    }

    // Generated, end to end through the function. XML 1.0 cannot carry most control
    // characters, so an STS answer cannot either.
    let strings = common::hostile::hostile_strings(120, true);
    let grants: Vec<Behaviour> = strings
        .iter()
        .map(|s| Behaviour::Grant {
            access_key_id: "ASIAHOSTILE".into(),
            secret_access_key: s.clone(),
            session_token: format!("token-{s}"),
        })
        .collect();
    let each = "assume demo-admin --no-cache\nprintf '%s\\0%s\\0' \"$AWS_SECRET_ACCESS_KEY\" \"$AWS_SESSION_TOKEN\"\n";
    for shell in SHELLS {
        let sts = FakeSts::start(Behaviour::Sequence(grants.clone()));
        let world = world_at(&sts.endpoint);
        let run = Shell::new(&world, shell)
            .run(&each.repeat(strings.len()))
            .success();
        let values: Vec<&str> = run.stdout.split('\0').collect();
        for (index, expected) in strings.iter().enumerate() {
            assert_eq!(values[2 * index], expected, "{shell}: secret {index}");
            assert_eq!(
                values[2 * index + 1],
                format!("token-{expected}"),
                "{shell}: token {index}"
            );
        }
        assert!(
            !world.home().join("pwned").exists(),
            "{shell}: a sentinel ran"
        );
    }
}

#[test]
fn thirty_two_simultaneous_assumes_make_one_sts_call_and_keep_the_cache_valid() {
    let sts = FakeSts::start(Behaviour::Delayed(
        Duration::from_millis(200),
        Box::new(Behaviour::grant()),
    ));
    let world = world_at(&sts.endpoint);
    for (profile, extra) in [("demo-admin", None), ("mfa", Some("123456"))] {
        let children: Vec<_> = (0..32)
            .map(|_| {
                let mut command = world.rolecall(&["assume", "--json", profile]);
                if let Some(code) = extra {
                    command.args(["--mfa-token", code]);
                }
                command
                    .stdout(std::process::Stdio::piped())
                    .stderr(std::process::Stdio::piped())
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
    }
    let actions = sts.actions();
    assert_eq!(
        actions,
        ["AssumeRole", "GetSessionToken", "AssumeRole"],
        "one call per credential set, one MFA session"
    );
    use std::os::unix::fs::PermissionsExt;
    for entry in std::fs::read_dir(world.cache_dir()).unwrap().flatten() {
        let path = entry.path();
        assert_eq!(
            entry.metadata().unwrap().permissions().mode() & 0o777,
            0o600,
            "{path:?}"
        );
        if path.extension().is_some_and(|e| e == "json") {
            let text = std::fs::read_to_string(&path).unwrap();
            assert!(
                serde_json::from_str::<serde_json::Value>(&text).is_ok(),
                "{path:?}"
            );
        }
    }
}

#[test]
fn duplicate_sections_merge_as_the_aws_sdks_do() {
    let world = World::with_endpoint("http://127.0.0.1:9");
    world.write_config(
        "[profile x]\nregion = eu-west-1\n[profile x]\nrolecall_description = second\n",
    );
    assert_eq!(
        world.run(&["profiles", "--long"]).success().stdout,
        "x\t\tsecond\n"
    );
}

/// Profile names may hold `%:/@+` (the AWS parser drops any other name); descriptions may hold
/// anything, terminal escape sequences included.
const HOSTILE_CONFIG: &str = "[profile base]\nregion = eu-west-1\n\
[profile 50%:off@team/x+y]\nrole_arn = arn:aws:iam::111111111111:role/odd\nsource_profile = base\n\
rolecall_description = $(touch pwned) `touch pwned` \u{1b}[2J\u{1b}]0;owned\u{7} 'quoted' \"double\"\n";

#[test]
fn hostile_names_and_descriptions_stay_inert_in_completion_prompt_and_errors() {
    let world = World::with_moto();
    world.write_config(HOSTILE_CONFIG);
    world.write_credentials(BASE_KEYS);
    // fish completion: the name as it is, the description with its escapes made visible.
    let run = Shell::new(&world, "fish")
        .run("complete -C 'assume 50'")
        .success();
    assert!(
        run.stdout.starts_with(
            "50%:off@team/x+y\t$(touch pwned) `touch pwned` \\x1b[2J\\x1b]0;owned\\x07"
        ),
        "{:?}",
        run.stdout
    );
    assert!(!run.stdout.contains('\u{1b}'));
    // bash completion, then assuming it and drawing the prompt.
    let run = Shell::new(&world, "bash")
        .run(
            "COMP_WORDS=(assume 50); COMP_CWORD=1\n__rolecall_complete assume 50 assume\n\
             printf '%s\\n' \"${COMPREPLY[@]}\"\nassume \"${COMPREPLY[0]}\"\nPS1='$ '\n__rolecall_hook\nprintf '%s\\n' \"$PS1\"",
        )
        .success();
    let lines: Vec<&str> = run.stdout.lines().collect();
    assert_eq!(lines[0], "50%:off@team/x+y");
    assert!(lines[1].starts_with("[50%:off@team/x+y "), "{:?}", lines[1]);
    // zsh keeps the percent sign literal in its prompt.
    let run = Shell::new(&world, "zsh")
        .run("assume '50%:off@team/x+y' 2>/dev/null\nPROMPT='%% '\n__rolecall_precmd\nprint -rn -- ${(%)PROMPT}")
        .success();
    assert!(
        run.stdout.starts_with("[50%:off@team/x+y "),
        "{:?}",
        run.stdout
    );
    // An error naming a hostile target shows its escapes, never obeys them.
    let run = world
        .run(&["assume", "--json", "\u{1b}]0;owned\u{7}$(touch pwned)"])
        .failure(2);
    assert!(
        !run.stderr.contains('\u{1b}') && !run.stderr.contains('\u{7}'),
        "{:?}",
        run.stderr
    );
    assert!(
        run.stderr.contains("\\x1b]0;owned\\x07$(touch pwned)"),
        "{:?}",
        run.stderr
    );
    assert!(!world.home().join("pwned").exists());
}

#[test]
fn the_picker_shows_hostile_descriptions_inert() {
    let world = World::with_moto();
    world.write_config(HOSTILE_CONFIG);
    world.write_credentials(BASE_KEYS);
    let tmux = Shell::new(&world, "bash").before("PS1='RC$ '").terminal("");
    tmux.wait_for_text("RC$");
    tmux.line("assume");
    let screen = tmux.wait_for_text("profile>");
    assert!(
        screen.contains("$(touch pwned) `touch pwned` \\x1b[2J\\x1b]0;owned\\x07"),
        "{screen}"
    );
    tmux.type_text("off");
    tmux.press(&["Enter"]);
    tmux.wait_for_text("[50%:off@team/x+y");
    assert!(!world.home().join("pwned").exists());
}

#[test]
fn ctrl_c_at_the_mfa_prompt_exits_130_and_changes_nothing() {
    let world = World::with_moto();
    world.write_config(CONFIG);
    world.write_credentials(BASE_KEYS);
    for (shell, setup) in [
        ("bash", "PS1='RC$ '\nexport AWS_PROFILE=kept"),
        ("zsh", "PROMPT='RC%% '\nexport AWS_PROFILE=kept"),
        (
            "fish",
            "function fish_prompt; echo -n 'RC> '; end\nset -gx AWS_PROFILE kept",
        ),
    ] {
        // fish with its own configuration, as a user starts it.
        let tmux = Shell::new(&world, shell)
            .before(setup)
            .user_config()
            .terminal("");
        tmux.wait_for_text("RC");
        tmux.line("assume mfa");
        tmux.wait_for_text("MFA code for arn:aws:iam::000000000000:mfa/ana:");
        tmux.press(&["C-c"]);
        // Typed only once the shell prompts again: rolecall's raw mode drops what was typed
        // ahead of its exit, as a terminal program should.
        tmux.wait_for("the prompt after Ctrl-C", |screen| {
            screen.matches("RC").count() >= 2
        });
        let check = match shell {
            "fish" => "echo \"status=$status profile=$AWS_PROFILE session=$ROLECALL_PROFILE.\"",
            _ => "echo \"status=$? profile=$AWS_PROFILE session=${ROLECALL_PROFILE:-}.\"",
        };
        tmux.line(check);
        tmux.wait_for_text("status=130 profile=kept session=.");
    }
}

// The second adversarial round: a hostile STS, a hostile environment, a second local user who
// could write to the cache once, and unusual shell options.

/// `rolecall ARGS` under coreutils' `timeout`, so a hang shows as exit 124 instead of a stuck
/// test.
fn rolecall_within(world: &World, seconds: u32, args: &[&str]) -> std::process::Command {
    let mut command = world.command("timeout");
    command.arg(seconds.to_string()).arg(common::BIN).args(args);
    command
}

#[test]
fn an_sts_error_code_and_message_cannot_drive_the_terminal() {
    let sts = FakeSts::start(Behaviour::sts_error(
        400,
        "X&#27;]0;PWNED&#7;",
        "bad &#27;[2J news\u{202e}txet",
    ));
    let world = world_at(&sts.endpoint);
    let run = world.run(&["assume", "--json", "demo-admin"]).failure(1);
    for raw in ['\u{1b}', '\u{7}', '\u{202e}'] {
        assert!(
            !run.stderr.contains(raw),
            "{raw:?} reached stderr: {:?}",
            run.stderr
        );
    }
    assert!(
        run.stderr.contains("X\\x1b]0;PWNED\\x07"),
        "{:?}",
        run.stderr
    );
    assert!(
        run.stderr.contains("bad \\x1b[2J news?txet"),
        "{:?}",
        run.stderr
    );
}

#[test]
fn fish_universal_variables_outlive_assume_and_unset() {
    let moto = Moto::start();
    let world = world_at(&moto.endpoint);
    // Not --no-config: universal variables are kept only with it off.
    let fish_run = |shell: Shell, script: &str| shell.user_config().run(script).success();
    let fish = || Shell::new(&world, "fish");
    fish_run(
        fish().bare(),
        "set -Ux AWS_PROFILE dev; set -Ux AWS_DEFAULT_REGION us-west-2",
    );
    let session = fish_run(
        fish(),
        "assume demo-admin\necho \"during=$AWS_PROFILE $AWS_DEFAULT_REGION\"\n\
         assume --unset\necho \"after=$AWS_PROFILE $AWS_DEFAULT_REGION\"",
    );
    // The session's region shadows the universal one; the universal profile cannot be
    // shadowed without a value every SDK would refuse, so assume says what it does.
    assert!(
        session.stdout.contains("during=dev eu-west-1\n"),
        "{}",
        session.stdout
    );
    assert!(
        session.stderr.contains(
            "rolecall: warning: the universal AWS_PROFILE is exported beside the keys, and the \
             AWS SDK for JavaScript signs with that profile instead; erase it with `set -e -U \
             AWS_PROFILE`"
        ),
        "{}",
        session.stderr
    );
    assert_eq!(session.stderr.matches("rolecall: warning").count(), 1);
    assert!(
        session.stdout.contains("after=dev us-west-2\n"),
        "{}",
        session.stdout
    );
    let later = fish_run(
        fish().bare(),
        "echo \"later=$AWS_PROFILE $AWS_DEFAULT_REGION\"",
    );
    assert_eq!(later.stdout, "later=dev us-west-2\n");
}

#[test]
fn errexit_users_keep_their_shell_and_the_status_their_prompt_shows() {
    let world = world_at("http://127.0.0.1:9");
    let session = "export ROLECALL_PROFILE=demo-admin ROLECALL_EXPIRES=$(( $(date +%s) + 2990 ))\n";
    let lines = "[ -e /nonexistent ] && echo yes\necho alive\n";
    for flags in ["", "--no-prompt --auto-refresh"] {
        let rc = format!("{session}PS1='[$?]> '\nset -e\n");
        let run = Shell::new(&world, "bash")
            .init(flags)
            .interactive(&rc, lines);
        assert!(
            run.stdout.contains("alive"),
            "bash {flags}: the shell ended\n{}",
            run.stderr
        );
        assert!(run.stderr.contains("[1]> "), "bash {flags}: {}", run.stderr);
    }
    let run = Shell::new(&world, "zsh")
        .before("setopt err_exit")
        .interactive(&format!("{session}PROMPT='[%?]> '\n"), lines);
    let shown = run.stdout.clone() + &run.stderr;
    assert!(
        run.stdout.contains("alive"),
        "zsh: the shell ended\n{shown}"
    );
    assert!(shown.contains("[demo-admin 49m] [1]> "), "zsh: {shown}");
}

/// The one role entry in the world's cache, after an assume made it.
fn the_role_entry(world: &World) -> std::path::PathBuf {
    let entries: Vec<_> = std::fs::read_dir(world.cache_dir())
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .filter(|p| {
            let name = p.file_name().unwrap().to_string_lossy();
            name.starts_with("role-") && name.ends_with(".json")
        })
        .collect();
    assert_eq!(entries.len(), 1, "{entries:?}");
    entries[0].clone()
}

fn mkfifo(path: &std::path::Path) {
    use std::os::unix::ffi::OsStrExt;
    let c_path = std::ffi::CString::new(path.as_os_str().as_bytes()).unwrap();
    // SAFETY: a valid NUL-terminated path.
    assert_eq!(unsafe { libc::mkfifo(c_path.as_ptr(), 0o666) }, 0, "mkfifo");
}

#[test]
fn planted_fifos_and_links_in_the_cache_neither_hang_nor_redirect_a_write() {
    let moto = Moto::start();
    let world = world_at(&moto.endpoint);
    world.run(&["assume", "--json", "demo-admin"]).success();
    let entry = the_role_entry(&world);
    let lock = std::path::PathBuf::from(format!("{}.lock", entry.display()));
    let entry_name = entry.file_name().unwrap().to_string_lossy().into_owned();

    // A FIFO named like the entry: not waited on, reported by doctor, replaced by the next write.
    std::fs::remove_file(&entry).unwrap();
    mkfifo(&entry);
    let doctor = Run::of(rolecall_within(&world, 20, &["doctor"]));
    assert!(
        doctor.stdout.contains("will be ignored") && doctor.stdout.contains(&entry_name),
        "{}",
        doctor.stdout
    );
    Run::of(rolecall_within(
        &world,
        20,
        &["assume", "--json", "demo-admin"],
    ))
    .success();
    assert!(std::fs::symlink_metadata(&entry).unwrap().is_file());

    // A link named like the lock: its target is never created, the lock becomes a real file.
    let target = world.home().join("planted-target");
    std::fs::remove_file(&lock).unwrap();
    std::os::unix::fs::symlink(&target, &lock).unwrap();
    std::fs::remove_file(&entry).unwrap();
    Run::of(rolecall_within(
        &world,
        20,
        &["assume", "--json", "demo-admin"],
    ))
    .success();
    assert!(!target.exists(), "the lock's link was followed");
    assert!(std::fs::symlink_metadata(&lock).unwrap().is_file());

    // A FIFO named like the lock does not hang either.
    std::fs::remove_file(&lock).unwrap();
    mkfifo(&lock);
    std::fs::remove_file(&entry).unwrap();
    Run::of(rolecall_within(
        &world,
        20,
        &["assume", "--json", "demo-admin"],
    ))
    .success();
    assert!(std::fs::symlink_metadata(&lock).unwrap().is_file());
}

#[test]
fn a_cache_directory_that_is_a_link_or_another_users_is_refused_with_a_message() {
    use std::os::unix::fs::PermissionsExt;
    let moto = Moto::start();
    let world = world_at(&moto.endpoint);
    // XDG_CACHE_HOME in a shared, sticky directory where another user put a link first.
    let shared = world.home().join("shared");
    std::fs::create_dir(&shared).unwrap();
    std::fs::set_permissions(&shared, std::fs::Permissions::from_mode(0o1777)).unwrap();
    let precious = world.home().join("precious");
    std::fs::create_dir(&precious).unwrap();
    std::fs::set_permissions(&precious, std::fs::Permissions::from_mode(0o755)).unwrap();
    std::os::unix::fs::symlink(&precious, shared.join("rolecall")).unwrap();
    let in_shared = |args: &[&str]| {
        let mut command = world.rolecall(args);
        command.env("XDG_CACHE_HOME", &shared);
        Run::of(command)
    };
    let run = in_shared(&["assume", "--json", "demo-admin"]).success();
    run.stderr_has("is a symbolic link, which rolecall does not follow");
    let mode = std::fs::metadata(&precious).unwrap().permissions().mode() & 0o7777;
    assert_eq!(mode, 0o755, "the link's target was chmod-ed");
    assert_eq!(
        std::fs::read_dir(&precious).unwrap().count(),
        0,
        "written through the link"
    );
    let doctor = in_shared(&["doctor"]);
    assert!(
        doctor.stdout.contains("is a symbolic link"),
        "{}",
        doctor.stdout
    );

    // Only root can give a directory to another user; elsewhere the link case above stands.
    if unsafe { libc::geteuid() } == 0 {
        std::fs::remove_file(shared.join("rolecall")).unwrap();
        let foreign = shared.join("rolecall");
        std::fs::create_dir(&foreign).unwrap();
        std::fs::set_permissions(&foreign, std::fs::Permissions::from_mode(0o755)).unwrap();
        std::os::unix::fs::chown(&foreign, Some(65534), Some(65534)).unwrap();
        let run = in_shared(&["assume", "--json", "demo-admin"]).success();
        run.stderr_has("belongs to another user");
        let mode = std::fs::metadata(&foreign).unwrap().permissions().mode() & 0o7777;
        assert_eq!(mode, 0o755);
        assert_eq!(std::fs::read_dir(&foreign).unwrap().count(), 0);
    }
}

#[test]
fn an_exported_complete_variable_changes_nothing() {
    let moto = Moto::start();
    let world = world_at(&moto.endpoint);
    for value in ["bash", "zsh", "fish", "1"] {
        let mut command = world.rolecall(&["assume", "--shell", "bash", "demo-admin"]);
        command.env("COMPLETE", value);
        let run = Run::of(command).success();
        assert!(
            run.stdout.contains("\\builtin export AWS_ACCESS_KEY_ID="),
            "COMPLETE={value}: {}",
            run.stdout
        );
        assert!(
            !run.stdout.contains("complete"),
            "COMPLETE={value}: {}",
            run.stdout
        );
    }
    let run = Shell::new(&world, "bash")
        .run("export COMPLETE=bash\nassume demo-admin\nPS1='$ '\n__rolecall_hook\nprintf '%s' \"$PS1\"")
        .success();
    assert!(run.stdout.starts_with("[demo-admin "), "{}", run.stdout);
    assert!(run.stdout.ends_with("] $ "), "{}", run.stdout);
}

#[test]
fn arguments_that_are_not_utf8_are_usage_errors_not_crashes() {
    use std::ffi::OsStr;
    use std::os::unix::ffi::OsStrExt;
    let world = world_at("http://127.0.0.1:9");
    let bad = OsStr::from_bytes(b"\xff");
    let cases: [&[&OsStr]; 4] = [
        &[
            OsStr::new("assume"),
            OsStr::new("--shell"),
            OsStr::new("bash"),
            bad,
        ],
        &[
            OsStr::new("assume"),
            OsStr::new("--shell"),
            OsStr::new("bash"),
            bad,
            OsStr::new("--help"),
        ],
        &[
            OsStr::new("assume"),
            OsStr::new("-d"),
            bad,
            OsStr::new("demo-admin"),
        ],
        &[
            OsStr::new("exec"),
            bad,
            OsStr::new("--"),
            OsStr::new("true"),
        ],
    ];
    for args in cases {
        let mut command = world.command(common::BIN);
        command.args(args);
        let run = Run::of(command);
        assert!(
            !run.stderr.contains("internal error"),
            "{args:?}: {}",
            run.stderr
        );
        assert!(
            run.status == Some(2)
                || (run.status == Some(0) && args.contains(&OsStr::new("--help"))),
            "{args:?}: exit {:?}: {}",
            run.status,
            run.stderr
        );
        assert!(run.stdout.is_empty(), "{args:?}: {}", run.stdout);
    }
}

#[test]
fn config_files_that_never_end_or_block_are_refused_at_once() {
    let world = world_at("http://127.0.0.1:9");
    let fifo = world.home().join("config-fifo");
    mkfifo(&fifo);
    let huge = world.home().join("huge-config");
    std::fs::File::create(&huge)
        .unwrap()
        .set_len(65 * 1024 * 1024)
        .unwrap();
    let fifo = fifo.display().to_string();
    let huge = huge.display().to_string();
    for (variable, path, reason) in [
        ("AWS_CONFIG_FILE", "/dev/zero", "is not a regular file"),
        ("AWS_CONFIG_FILE", fifo.as_str(), "is not a regular file"),
        (
            "AWS_SHARED_CREDENTIALS_FILE",
            fifo.as_str(),
            "is not a regular file",
        ),
        ("AWS_CONFIG_FILE", huge.as_str(), "is larger than 64 MiB"),
    ] {
        let mut command = rolecall_within(&world, 10, &["assume", "--json", "demo-admin"]);
        command.env(variable, path);
        let run = Run::of(command).failure(2);
        run.stderr_has(&format!("{path} (named by {variable}) {reason}"));
        // Tab completion gives no candidates, and gives them at once.
        let mut command = rolecall_within(&world, 10, &["--", "rolecall", "assume", ""]);
        command
            .env(variable, path)
            .env("ROLECALL_COMPLETE", "bash")
            .env("_CLAP_COMPLETE_INDEX", "2")
            .env("_CLAP_IFS", "\n");
        let run = Run::of(command).success();
        assert!(!run.stdout.contains("demo-admin"), "{}", run.stdout);
    }
    // /dev/null is still the usual "no such file here".
    let mut command = world.rolecall(&["profiles"]);
    command.env("AWS_SHARED_CREDENTIALS_FILE", "/dev/null");
    let run = Run::of(command).success();
    assert!(run.stdout.contains("demo-admin"), "{}", run.stdout);
}

#[test]
fn the_picker_gives_the_terminal_back_when_killed() {
    let world = world_at("http://127.0.0.1:9");
    for signal in [libc::SIGTERM, libc::SIGHUP] {
        let tmux = Shell::new(&world, "bash").before("PS1='RC$ '").terminal("");
        tmux.wait_for_text("RC$");
        tmux.line("assume");
        tmux.wait_for_text("profile>");
        let picker = tmux
            .descendants()
            .into_iter()
            .find(|pid| {
                std::fs::read_to_string(format!("/proc/{pid}/comm"))
                    .is_ok_and(|comm| comm.trim() == "rolecall")
            })
            .expect("the picker's process");
        // SAFETY: a signal to a process this test started.
        assert_eq!(unsafe { libc::kill(picker, signal) }, 0);
        tmux.line("stty -a | tr ' ;' '\\n\\n' | grep -x -e -icanon -e icanon -e -echo -e echo | tr '\\n' ,; echo END");
        let screen = tmux.wait_for_text(",END");
        assert!(
            screen.contains("icanon,echo,END"),
            "signal {signal}: {screen}"
        );
        assert_eq!(
            tmux.display("#{cursor_flag}"),
            "1",
            "signal {signal}: cursor hidden"
        );
    }
}

#[test]
fn fish_prompts_see_the_status_and_pipestatus_of_the_command_line() {
    let world = world_at("http://127.0.0.1:9");
    let run = Shell::new(&world, "fish")
        .before("function fish_prompt; echo \"status=$status pipestatus=$pipestatus\"; end")
        .run(
            "set -gx ROLECALL_PROFILE demo-admin\n\
         true | false; fish_prompt\nfalse | true | false; fish_prompt\nfalse; fish_prompt\n\
         not false; fish_prompt\nnot true | false; fish_prompt\ntrue; fish_prompt",
        )
        .success();
    let seen: Vec<&str> = run
        .stdout
        .lines()
        .map(|line| &line[line.find("status=").unwrap_or(0)..])
        .collect();
    assert_eq!(
        seen,
        [
            "status=1 pipestatus=0 1",
            "status=1 pipestatus=1 0 1",
            "status=1 pipestatus=1",
            "status=0 pipestatus=1",
            "status=0 pipestatus=0 1",
            "status=0 pipestatus=0",
        ],
        "{}",
        run.stdout
    );
}

/// The soft core-file limit of a process, from /proc.
fn core_limit_of(pid: u32) -> Option<String> {
    let limits = std::fs::read_to_string(format!("/proc/{pid}/limits")).ok()?;
    let line = limits
        .lines()
        .find(|l| l.starts_with("Max core file size"))?;
    line.split_whitespace().nth(4).map(String::from)
}

/// Sets the soft core-file limit of a command's process before it starts; the limit it got.
fn with_core_limit(command: &mut std::process::Command) -> String {
    use std::os::unix::process::CommandExt;
    let mut limit: libc::rlimit = unsafe { std::mem::zeroed() };
    // SAFETY: getrlimit fills the struct.
    unsafe { libc::getrlimit(libc::RLIMIT_CORE, &mut limit) };
    let wanted = (1024 * 1024).min(limit.rlim_max);
    // SAFETY: setrlimit is async-signal-safe.
    unsafe {
        command.pre_exec(move || {
            let mut limit: libc::rlimit = std::mem::zeroed();
            libc::getrlimit(libc::RLIMIT_CORE, &mut limit);
            limit.rlim_cur = wanted;
            libc::setrlimit(libc::RLIMIT_CORE, &limit);
            Ok(())
        });
    }
    wanted.to_string()
}

#[test]
fn rolecall_writes_no_core_file_but_what_it_execs_may() {
    let silent = FakeSts::start(Behaviour::Silent);
    let world = world_at(&silent.endpoint);
    let mut command = world.rolecall(&["assume", "--json", "demo-admin"]);
    with_core_limit(&mut command);
    let mut child = command
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    // rolecall is waiting on the silent STS by now, long after it started.
    std::thread::sleep(Duration::from_millis(700));
    let own = core_limit_of(child.id());
    let _ = child.kill();
    let _ = child.wait();
    assert_eq!(own.as_deref(), Some("0"), "rolecall may dump core");

    let moto = Moto::start();
    let world = world_at(&moto.endpoint);
    let mut command = world.rolecall(&["exec", "demo-admin", "--", "cat", "/proc/self/limits"]);
    let wanted = with_core_limit(&mut command);
    let run = Run::of(command).success();
    let line = run
        .stdout
        .lines()
        .find(|l| l.starts_with("Max core file size"))
        .unwrap();
    assert_eq!(
        line.split_whitespace().nth(4),
        Some(wanted.as_str()),
        "{line}"
    );
}

#[test]
fn bash_completes_profile_names_with_colons() {
    let moto = Moto::start();
    let world = world_at(&moto.endpoint);
    world.write_config(&format!(
        "{CONFIG}[profile team:prod-admin]\nrole_arn = arn:aws:iam::111111111111:role/a\nsource_profile = base\n\
         [profile team:dev]\nrole_arn = arn:aws:iam::111111111111:role/d\nsource_profile = base\n"
    ));
    // As bash splits the words at `:` (COMP_WORDBREAKS): only the part after the colon comes back.
    let run = Shell::new(&world, "bash")
        .run(
            "COMP_WORDS=(assume team : pr); COMP_CWORD=3\n__rolecall_complete assume pr assume\n\
             printf '%s,' \"${COMPREPLY[@]}\"; echo\n\
             COMP_WORDS=(assume team :); COMP_CWORD=2\n__rolecall_complete assume : assume\n\
             printf '%s,' \"${COMPREPLY[@]}\"; echo",
        )
        .success();
    assert_eq!(run.stdout, "prod-admin,\ndev,prod-admin,\n");
    // And at a real terminal, Tab gives the whole name once.
    let tmux = Shell::new(&world, "bash").before("PS1='RC$ '").terminal("");
    tmux.wait_for_text("RC$");
    tmux.type_text("assume team:pr");
    tmux.press(&["Tab"]);
    let screen = tmux.wait_for_text("assume team:prod-admin");
    assert!(!screen.contains("team:team"), "{screen}");
    tmux.press(&["Enter"]);
    tmux.wait_for_text("team:prod-admin (eu-west-1)");
}

#[test]
fn a_nul_byte_in_a_processed_credential_is_refused() {
    use std::os::unix::fs::PermissionsExt;
    let world = world_at("http://127.0.0.1:9");
    let script = world.home().join("nul-process");
    std::fs::write(
        &script,
        "#!/bin/sh\nprintf '%s' '{\"Version\":1,\"AccessKeyId\":\"AKIAPROCESS\",\
         \"SecretAccessKey\":\"half\\u0000other\",\"SessionToken\":\"t\"}'\n",
    )
    .unwrap();
    std::fs::set_permissions(&script, std::fs::Permissions::from_mode(0o755)).unwrap();
    world.write_config(&format!(
        "{CONFIG}[profile nul]\ncredential_process = {}\n",
        script.display()
    ));
    let run = world.run(&["assume", "--json", "nul"]).failure(2);
    run.stderr_has("gave a secret access key with a NUL byte in it");
}

#[test]
fn unusual_shell_options_load_the_integration_quietly() {
    let world = world_at("http://127.0.0.1:9");
    let session = "export ROLECALL_PROFILE=demo-admin ROLECALL_EXPIRES=$(( $(date +%s) + 2990 ))\n";
    // zsh: no warn_create_global warning for the integration's own variables.
    let run = Shell::new(&world, "zsh")
        .before("setopt warn_create_global")
        .init("--auto-refresh")
        .interactive(&format!("{session}PROMPT='Z> '\n"), "echo one\necho two\n");
    assert!(run.stdout.contains("two"), "{}", run.stderr);
    assert!(!run.stderr.contains("created globally"), "{}", run.stderr);
    // bash: an IFS of digits splits nothing of the integration's.
    let run = Shell::new(&world, "bash")
        .before("IFS=0123456789")
        .init("--auto-refresh")
        .interactive(
            &format!("{session}PS1='B> '\n"),
            "echo \"pid=$ROLECALL_SHELL_PID self=$$\"\necho done\n",
        );
    let pids = run
        .stdout
        .lines()
        .find_map(|l| l.strip_prefix("pid="))
        .unwrap_or("");
    let (pid, own) = pids.split_once(" self=").unwrap_or(("", "?"));
    assert_eq!(pid, own, "{}\n{}", run.stdout, run.stderr);
    for complaint in [
        "too many arguments",
        "numeric argument required",
        "command not found",
    ] {
        assert!(!run.stderr.contains(complaint), "{}", run.stderr);
    }
    assert!(
        run.stderr.contains("[demo-admin 49m] B> "),
        "{}",
        run.stderr
    );
}

/// A profile `name` whose credential_process is a script of `body` (sh), in `world`'s config
/// after `CONFIG`; `PAST`, `HOUR` and `FAR` in `body` become RFC 3339 times an hour ago, an hour
/// ahead and 40 hours ahead.
fn process_profile(world: &World, name: &str, body: &str) -> String {
    use std::os::unix::fs::PermissionsExt;
    let script = world.home().join(format!("{name}-process"));
    let body = body
        .replace("PAST", &common::token_time(-3600))
        .replace("HOUR", &common::token_time(3600))
        .replace("FAR", &common::token_time(40 * 3600));
    std::fs::write(&script, format!("#!/bin/sh\n{body}\n")).unwrap();
    std::fs::set_permissions(&script, std::fs::Permissions::from_mode(0o755)).unwrap();
    format!(
        "[profile {name}]\nregion = eu-west-1\ncredential_process = {}\n",
        script.display()
    )
}

#[test]
fn huge_credential_values_are_refused_and_every_shell_keeps_what_it_had() {
    // 200 kB values once made every later command fail ("Argument list too long"), rolecall
    // included. 10 KiB passes the cap on a process's answer, not the bound on a field.
    let world = world_at("http://127.0.0.1:9");
    let config = [
        process_profile(
            &world,
            "huge",
            "big=$(head -c 200000 /dev/zero | tr '\\0' a)\n\
             printf '{\"Version\":1,\"AccessKeyId\":\"AKIAPROCESS\",\"SecretAccessKey\":\"%s\",\
             \"SessionToken\":\"%s\",\"Expiration\":\"HOUR\"}' \"$big\" \"$big\"",
        ),
        process_profile(
            &world,
            "long",
            "big=$(head -c 10240 /dev/zero | tr '\\0' a)\n\
             printf '{\"Version\":1,\"AccessKeyId\":\"AKIAPROCESS\",\"SecretAccessKey\":\"s\",\
             \"SessionToken\":\"%s\",\"Expiration\":\"HOUR\"}' \"$big\"",
        ),
    ];
    world.write_config(&format!("{CONFIG}{}", config.concat()));
    for shell in SHELLS.into_iter().chain(NUSHELLS) {
        for (target, message) in [
            (
                "huge",
                "the credential_process of profile `huge` printed more than 64 KiB",
            ),
            (
                "long",
                "the credential_process of profile `long` gave a session token of 10240 bytes",
            ),
        ] {
            let around = Shell::new(&world, shell).around_assume(target);
            assert_failed_alone(&around, &format!("{shell} {target}"), "status=2", message);
        }
    }
}

#[test]
fn expirations_outside_the_life_of_credentials_are_refused_naming_their_source() {
    let world = world_at("http://127.0.0.1:9");
    let answer = |expiration: &str| {
        format!(
            "printf '%s' '{{\"Version\":1,\"AccessKeyId\":\"AKIAPROCESS\",\"SecretAccessKey\":\"s\",\
             \"SessionToken\":\"t\",\"Expiration\":\"{expiration}\"}}'"
        )
    };
    let config = [
        process_profile(&world, "past", &answer("PAST")),
        process_profile(&world, "far", &answer("FAR")),
        process_profile(&world, "year-10000", &answer("+10000-01-01T00:00:00Z")),
        process_profile(&world, "empty", &answer("")),
        process_profile(&world, "fine", &answer("HOUR")),
    ];
    world.write_config(&format!("{CONFIG}{}", config.concat()));
    for (target, status, message) in [
        ("past", 2, "of profile `past` gave an expiration that has passed"),
        ("far", 2, "of profile `far` gave an expiration more than 36 hours away"),
        ("year-10000", 1, "of profile `year-10000`: its Expiration `+10000-01-01T00:00:00Z` is not an RFC 3339 time"),
        ("empty", 1, "of profile `empty`: its Expiration `` is not an RFC 3339 time"),
    ] {
        let run = world.run(&["assume", "--json", target]).failure(status);
        run.stderr_has(message);
    }
    world.run(&["assume", "--json", "fine"]).success();

    // STS: an answer that expired already, or lives past 36 hours.
    for (seconds, message) in [
        (-100, "it gave an expiration that has passed"),
        (40 * 3600, "it gave an expiration more than 36 hours away"),
    ] {
        let sts = FakeSts::start(Behaviour::Lasting(seconds));
        let world = world_at(&sts.endpoint);
        let run = world.run(&["assume", "--json", "demo-admin"]).failure(1);
        run.stderr_has("AssumeRole at ");
        run.stderr_has(message);
    }
}

#[test]
fn credentials_renewed_for_less_than_the_refresh_window_are_renewed_once_then_left() {
    // A process handing out 120-second credentials: each renewal is due again at once. Once
    // renewed, they count as a failed renewal: one warning, and no process on later commands.
    let world = world_at("http://127.0.0.1:9");
    let runs = world.home().join("runs");
    let profile = process_profile(
        &world,
        "brief",
        &format!(
            "echo run >> '{}'\n\
             printf '{{\"Version\":1,\"AccessKeyId\":\"AKIABRIEF\",\"SecretAccessKey\":\"s\",\
             \"SessionToken\":\"t\",\"Expiration\":\"%s\"}}' \
             \"$(date -u -d '+120 seconds' +%Y-%m-%dT%H:%M:%SZ)\"",
            runs.display()
        ),
    );
    world.write_config(&format!("{CONFIG}{profile}"));
    let nu_command = "for hook in $env.config.hooks.pre_execution { do --env $hook }\n";
    for shell in SHELLS.into_iter().chain(NUSHELLS) {
        // Five command lines after the assume, each with the hook that runs before it.
        let command = match shell {
            "bash" => "__rolecall_hook\ntrue\n",
            "zsh" => "__rolecall_preexec\n",
            "fish" => "emit fish_preexec\n",
            _ => nu_command,
        };
        let _ = std::fs::remove_file(&runs);
        let run = Shell::new(&world, shell)
            .init("--auto-refresh --no-prompt")
            .run(&format!("assume brief\n{}", command.repeat(5)))
            .success();
        let count = std::fs::read_to_string(&runs).unwrap().lines().count();
        assert_eq!(
            count, 2,
            "{shell}: the assume, then one renewal\n{}",
            run.stderr
        );
        assert_eq!(
            run.stderr
                .matches("rolecall: brief was renewed only briefly and is not renewed again; run assume brief")
                .count(),
            1,
            "{shell}: {}",
            run.stderr
        );
    }
}
