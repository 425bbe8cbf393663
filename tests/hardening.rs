//! Faults, hostile values, concurrency and bad configuration: nothing hangs, nothing runs that
//! should not, and the shell keeps what it had.

mod common;

use common::fake_sts::{Behaviour, FakeSts};
use common::{require_tool, Run, World, BASE_KEYS};
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

/// `assume ARGS` through the bash integration; the environment before and after, the failure
/// text, and the time the assume took.
fn assume_in_bash(world: &World, args: &str) -> (String, String, String, Duration) {
    let bash = require_tool("bash");
    let mut command = world.command(bash);
    command.args([
        "--norc",
        "--noprofile",
        "-eu",
        "-c",
        &format!(
            "eval \"$(rolecall init bash)\"\nexport AWS_PROFILE=kept\nenv -0\nprintf '\\n--split--\\n'\n\
             start=$(date +%s%N)\nassume {args} || echo \"status=$?\" >&2\nend=$(date +%s%N)\n\
             echo \"elapsed_ms=$(( (end - start) / 1000000 ))\" >&2\nenv -0; true"
        ),
    ]);
    let run = Run::of(command).success();
    let (before, after) = run.stdout.split_once("\n--split--\n").unwrap();
    let elapsed_ms: u64 = run
        .stderr
        .lines()
        .find_map(|l| l.strip_prefix("elapsed_ms="))
        .unwrap()
        .parse()
        .unwrap();
    (
        before.to_string(),
        after.to_string(),
        run.stderr,
        Duration::from_millis(elapsed_ms),
    )
}

#[test]
fn every_sts_fault_gives_its_message_in_time_and_leaves_the_shell_alone() {
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
    let mut longest = Duration::ZERO;
    let count = cases.len() + 3;
    for (name, behaviour, status, message) in cases {
        let sts = FakeSts::start(behaviour);
        let world = world_at(&sts.endpoint);
        let (before, after, stderr, elapsed) = assume_in_bash(&world, "demo-admin");
        assert!(stderr.contains(status), "{name}: {stderr}");
        assert!(stderr.contains(message), "{name}: {stderr}");
        assert_eq!(before, after, "{name}: the environment changed");
        assert!(elapsed < TIMEOUT + SLACK, "{name}: took {elapsed:?}");
        longest = longest.max(elapsed);
    }
    // A rejected MFA code, on GetSessionToken.
    let sts = FakeSts::start(Behaviour::sts_error(
        403,
        "AccessDenied",
        "MultiFactorAuthentication failed with invalid MFA one time pass code.",
    ));
    let world = world_at(&sts.endpoint);
    let (before, after, stderr, elapsed) = assume_in_bash(&world, "mfa --mfa-token 123456");
    assert!(stderr.contains("the MFA code was rejected"), "{stderr}");
    assert_eq!(before, after);
    longest = longest.max(elapsed);
    // A refused port.
    let world = world_at(&format!("http://127.0.0.1:{}", common::free_port()));
    let (before, after, stderr, elapsed) = assume_in_bash(&world, "demo-admin");
    assert!(
        stderr.contains("could not be reached") && stderr.contains("status=1"),
        "{stderr}"
    );
    assert_eq!(before, after);
    longest = longest.max(elapsed);
    // A slow answer within the timeout succeeds.
    let sts = FakeSts::start(Behaviour::Delayed(
        Duration::from_millis(1500),
        Box::new(Behaviour::grant()),
    ));
    let world = world_at(&sts.endpoint);
    let (_, after, stderr, elapsed) = assume_in_bash(&world, "demo-admin");
    assert!(!stderr.contains("status="), "{stderr}");
    assert!(after.contains("ROLECALL_PROFILE=demo-admin"));
    longest = longest.max(elapsed);
    eprintln!("fault cases: {count}; longest: {longest:?}");
}

#[test]
fn hostile_credentials_from_sts_stay_inert_end_to_end_in_each_shell() {
    // XML 1.0 cannot carry most control characters, so an STS answer cannot either.
    let strings = common::hostile::hostile_strings(120, true);
    let grants: Vec<Behaviour> = strings
        .iter()
        .map(|s| Behaviour::Grant {
            access_key_id: "ASIAHOSTILE".into(),
            secret_access_key: s.clone(),
            session_token: format!("token-{s}"),
        })
        .collect();
    for shell in ["bash", "zsh", "fish"] {
        let sts = FakeSts::start(Behaviour::Sequence(grants.clone()));
        let world = world_at(&sts.endpoint);
        let program = require_tool(shell);
        let mut command = world.command(program);
        let (flags, each) = match shell {
            "bash" => (
                vec!["--norc", "--noprofile", "-eu", "-c"],
                "assume demo-admin --no-cache\nprintf '%s\\0%s\\0' \"$AWS_SECRET_ACCESS_KEY\" \"$AWS_SESSION_TOKEN\"\n",
            ),
            "zsh" => (
                vec!["--no-rcs", "-eu", "-c"],
                "assume demo-admin --no-cache\nprintf '%s\\0%s\\0' \"$AWS_SECRET_ACCESS_KEY\" \"$AWS_SESSION_TOKEN\"\n",
            ),
            _ => (
                vec!["--no-config", "-c"],
                "assume demo-admin --no-cache\nprintf '%s\\0%s\\0' \"$AWS_SECRET_ACCESS_KEY\" \"$AWS_SESSION_TOKEN\"\n",
            ),
        };
        let init = match shell {
            "fish" => "rolecall init fish | source\n".to_string(),
            _ => format!("eval \"$(rolecall init {shell})\"\n"),
        };
        command.args(flags).arg(init + &each.repeat(strings.len()));
        let run = Run::of(command).success();
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
fn bad_configuration_is_one_clear_line_and_exit_2() {
    let world = World::with_endpoint("http://127.0.0.1:9");
    let chain50: String = (1..=50)
        .map(|i| {
            format!(
                "[profile hop{i}]\nrole_arn = arn:aws:iam::111111111111:role/r{i}\nsource_profile = hop{}\n",
                i - 1
            )
        })
        .collect::<String>()
        + "[profile hop0]\nrole_arn = arn:aws:iam::111111111111:role/r0\nsource_profile = hop50\n";
    let cases: Vec<(String, &str, &str)> = vec![
        ("[profile x]\nrole_arn\n".into(), "x", "does not parse"),
        ("[profile x]\n= value\n".into(), "x", "does not parse"),
        ("[profile x]\nrole_arn = arn:aws:iam::111111111111:role/x\nsource_profile = x\n".into(), "x", "source_profile loop: x → x"),
        (chain50, "hop50", "source_profile loop: hop50 → hop49"),
        ("[profile x]\nrole_arn = arn:aws:iam::111111111111\nsource_profile = x\n".into(), "x", "is not a role ARN"),
        ("[profile x]\nrole_arn = arn:aws:iam::111111111111:user/x\nsource_profile = x\n".into(), "x", "is not a role ARN"),
        ("[profile y]\naws_access_key_id = a\naws_secret_access_key = b\n[profile x]\nrole_arn = arn:aws:iam::111111111111:role/x\nsource_profile = y\nduration_seconds = 99999\n".into(), "x", "STS allows 15m to 12h"),
        ("[profile y]\naws_access_key_id = a\naws_secret_access_key = b\n[profile x]\nrole_arn = arn:aws:iam::111111111111:role/x\nsource_profile = y\nregion = Mars\n".into(), "x", "is not a region name"),
        ("[profile x]\naws_access_key_id = a\n".into(), "x", "needs both aws_access_key_id and aws_secret_access_key"),
        ("[profile x]\nrole_arn = arn:aws:iam::111111111111:role/x\ncredential_source = Laptop\n".into(), "x", "use Environment, Ec2InstanceMetadata or EcsContainer"),
    ];
    for (config, target, message) in &cases {
        world.write_config(config);
        let run = world.run(&["assume", "--json", target]).failure(2);
        run.stderr_has(message);
        assert_eq!(run.stderr.lines().count(), 1, "{config}\n{}", run.stderr);
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

#[test]
fn a_fifty_hop_chain_resolves_and_assumes_each_hop() {
    let sts = FakeSts::start(Behaviour::grant());
    let world = world_at(&sts.endpoint);
    let config: String = std::iter::once(CONFIG.to_string())
        .chain((1..=50).map(|i| {
            let source = if i == 1 { "base".to_string() } else { format!("hop{}", i - 1) };
            format!("[profile hop{i}]\nrole_arn = arn:aws:iam::111111111111:role/r{i}\nsource_profile = {source}\n")
        }))
        .collect();
    world.write_config(&config);
    world.run(&["assume", "--json", "hop50"]).success();
    assert_eq!(sts.actions().len(), 50);
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
    let mut command = world.command(require_tool("fish"));
    command.args([
        "--no-config",
        "-c",
        "rolecall init fish | source\ncomplete -C 'assume 50'",
    ]);
    let run = Run::of(command).success();
    assert!(
        run.stdout.starts_with(
            "50%:off@team/x+y\t$(touch pwned) `touch pwned` \\x1b[2J\\x1b]0;owned\\x07"
        ),
        "{:?}",
        run.stdout
    );
    assert!(!run.stdout.contains('\u{1b}'));
    // bash completion, then assuming it and drawing the prompt.
    let mut command = world.command(require_tool("bash"));
    command.args([
        "--norc",
        "--noprofile",
        "-eu",
        "-c",
        "eval \"$(rolecall init bash)\"\nCOMP_WORDS=(assume 50); COMP_CWORD=1\n__rolecall_complete assume 50 assume\n\
         printf '%s\\n' \"${COMPREPLY[@]}\"\nassume \"${COMPREPLY[0]}\"\nPS1='$ '\n__rolecall_hook\nprintf '%s\\n' \"$PS1\"",
    ]);
    let run = Run::of(command).success();
    let lines: Vec<&str> = run.stdout.lines().collect();
    assert_eq!(lines[0], "50%:off@team/x+y");
    assert!(lines[1].starts_with("[50%:off@team/x+y "), "{:?}", lines[1]);
    // zsh keeps the percent sign literal in its prompt.
    let mut command = world.command(require_tool("zsh"));
    command.args([
        "--no-rcs",
        "-eu",
        "-c",
        "eval \"$(rolecall init zsh)\"\nassume '50%:off@team/x+y' 2>/dev/null\nPROMPT='%% '\n__rolecall_precmd\nprint -rn -- ${(%)PROMPT}",
    ]);
    let run = Run::of(command).success();
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
    std::fs::write(
        world.home().join(".bashrc"),
        "PS1='RC$ '\neval \"$(rolecall init bash)\"\n",
    )
    .unwrap();
    let tmux = common::Tmux::start(
        &world,
        &format!("bash --rcfile {}/.bashrc -i", world.home().display()),
    );
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
    std::fs::create_dir_all(world.home().join(".config/fish")).unwrap();
    for (shell, rc, start) in [
        ("bash", ".bashrc", "bash --rcfile HOME/.bashrc -i"),
        ("zsh", ".zshrc", "env ZDOTDIR=HOME zsh -i"),
        ("fish", ".config/fish/config.fish", "fish"),
    ] {
        let setup = match shell {
            "bash" => "PS1='RC$ '\nexport AWS_PROFILE=kept\neval \"$(rolecall init bash)\"\n",
            "zsh" => "PROMPT='RC%% '\nexport AWS_PROFILE=kept\neval \"$(rolecall init zsh)\"\n",
            _ => "function fish_prompt; echo -n 'RC> '; end\nset -gx AWS_PROFILE kept\nrolecall init fish | source\n",
        };
        std::fs::write(world.home().join(rc), setup).unwrap();
        let home = world.home().display().to_string();
        let tmux = common::Tmux::start(&world, &start.replace("HOME", &home));
        tmux.wait_for_text("RC");
        tmux.line("assume mfa");
        tmux.wait_for_text("MFA code for arn:aws:iam::000000000000:mfa/ana:");
        tmux.press(&["C-c"]);
        let check = match shell {
            "fish" => "echo \"status=$status profile=$AWS_PROFILE session=$ROLECALL_PROFILE.\"",
            _ => "echo \"status=$? profile=$AWS_PROFILE session=${ROLECALL_PROFILE:-}.\"",
        };
        tmux.line(check);
        tmux.wait_for_text("status=130 profile=kept session=.");
    }
}
