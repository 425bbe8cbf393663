//! The nushell integration in a real `nu` (tests/it/common/shell.rs drives it): `assume` through
//! the command setting what bash's function sets, a failed assume stopping a script (that it
//! leaves `$env` as it was is tested in hardening.rs with the other shells),
//! `--unset`, `assume -`, hostile credentials, every rendering of `rolecall init nu`, the prompt
//! segment before the user's PROMPT_COMMAND, auto-refresh, the AWS CLI; and at a terminal
//! (tmux), loaded as config.nu loads it: Tab completion, the picker, Ctrl-C at the MFA prompt.

use crate::common::fake_sts::{Behaviour, FakeSts};
use crate::common::{
    self, environment_of, require_tool, Run, Shell, World, BASE_KEYS, NUSHELLS, ONE_HOP,
};
use std::collections::{BTreeMap, BTreeSet};

const CONFIG: &str = "[profile base]\nregion = eu-west-1\n\
[profile prod-admin]\nrole_arn = arn:aws:iam::111111111111:role/admin\nsource_profile = base\n\
rolecall_description = Production admin\n\
[profile prod-readonly]\nrole_arn = arn:aws:iam::111111111111:role/readonly\nsource_profile = base\n\
[profile dev]\nrole_arn = arn:aws:iam::222222222222:role/dev\nsource_profile = base\n\
[profile mfa]\nrole_arn = arn:aws:iam::111111111111:role/mfa\nsource_profile = base\n\
mfa_serial = arn:aws:iam::000000000000:mfa/ana\n";

/// A prompt of the user's for nushell at a terminal: no banner, and a prompt that is easy to
/// find on the screen.
const USER_PROMPT: &str = "$env.config.show_banner = false\n$env.PROMPT_COMMAND = {|| 'RC' }\n\
$env.PROMPT_INDICATOR = '> '\n$env.PROMPT_COMMAND_RIGHT = ''\n";

/// Runs every hook nushell runs before drawing a prompt, then draws the prompt; and every hook
/// it runs before a command line. Outside the REPL nothing runs them, so a body calls these.
const HOOK_RUNNERS: &str =
    "def --env run_pre_prompt [] { for hook in $env.config.hooks.pre_prompt { do --env $hook } }\n\
def --env run_pre_execution [] { for hook in $env.config.hooks.pre_execution { do --env $hook } }\n\
def --env draw_prompt [] { run_pre_prompt; print --no-newline $\"(do $env.PROMPT_COMMAND)|\" }\n";

fn world() -> World {
    let world = World::with_moto();
    world.write_config(CONFIG);
    world.write_credentials(BASE_KEYS);
    world
}

fn world_at(endpoint: &str) -> World {
    let world = World::with_endpoint(endpoint);
    world.write_config(CONFIG);
    world.write_credentials(BASE_KEYS);
    world
}

/// `version` of `NUSHELLS` in `world`; each test runs its body in every one.
fn nu<'w>(world: &'w World, version: &'w str) -> Shell<'w> {
    // A failure's output names the nushell it happened in.
    eprintln!("in {version}");
    Shell::new(world, version)
}

/// The values of the variables rolecall manages, as `env -0` printed them.
fn managed(env: &BTreeMap<String, String>) -> BTreeMap<&'static str, Option<String>> {
    common::MANAGED_VARIABLES
        .into_iter()
        .map(|name| (name, env.get(name).cloned()))
        .collect()
}

#[test]
fn assume_through_the_command_sets_what_the_bash_function_sets() {
    for version in NUSHELLS {
        let world = world();
        // Stale values assume must clear, and an earlier target it must remember.
        let bash = Shell::new(&world, "bash")
            .run(
                "export AWS_SECURITY_TOKEN=stale AWS_DEFAULT_PROFILE=stale AWS_PROFILE=stale \
             ROLECALL_PROFILE=older\n\
             assume prod-admin\nenv -0",
            )
            .success();
        // The cache gives nushell's assume the same credentials.
        let in_nu = nu(&world, version)
            .run(
                "$env.AWS_SECURITY_TOKEN = 'stale'; $env.AWS_DEFAULT_PROFILE = 'stale'\n\
                 $env.AWS_PROFILE = 'stale'\n\
             $env.ROLECALL_PROFILE = 'older'\nassume prod-admin\n^env -0",
            )
            .success();
        let from_bash = environment_of(&bash.stdout);
        let from_nu = environment_of(&in_nu.stdout);
        assert_eq!(managed(&from_nu), managed(&from_bash));
        for name in common::DESIGN_VARIABLES {
            assert!(
                from_nu.get(name).is_some_and(|v| !v.is_empty()),
                "{name} not set"
            );
        }
        assert_eq!(from_nu["ROLECALL_PROFILE"], "prod-admin");
        assert_eq!(from_nu["ROLECALL_PREVIOUS"], "older");
        assert!(
            !from_nu.contains_key("AWS_SECURITY_TOKEN"),
            "stale token kept"
        );
        for name in common::NEVER_SET {
            assert!(!from_nu.contains_key(name), "{name} beside the keys");
        }
        assert!(
            in_nu
                .stderr
                .contains("prod-admin (eu-west-1) · role admin in 111111111111"),
            "{}",
            in_nu.stderr
        );
        // Set in nushell's own scope, not only for its children: as strings.
        let run = nu(&world, version)
            .run("assume prod-admin\nprint ($env.AWS_REGION | describe) $env.AWS_REGION")
            .success();
        assert_eq!(run.stdout, "string\neu-west-1\n");
    }
}

#[test]
fn a_failed_assume_stops_a_script_with_its_status_or_is_caught() {
    // That the scope is left as it was is hardening.rs's, for nushell as for the others.
    let config_only = world_at("http://127.0.0.1:9");
    for version in NUSHELLS {
        let run = nu(&config_only, version).run("assume no-such-profile\nprint reached");
        assert_eq!(run.status, Some(2), "{version}: {}", run.stderr);
        assert!(!run.stdout.contains("reached"), "{version}: {}", run.stdout);
        let run = nu(&config_only, version)
            .run("try { assume no-such-profile; print reached } catch { print caught }")
            .success();
        assert_eq!(run.stdout, "caught\n", "{version}: {}", run.stderr);
    }
}

#[test]
fn unset_clears_every_variable_and_minus_returns_to_the_previous_target() {
    for version in NUSHELLS {
        let world = world();
        let body = "assume prod-admin\nassume dev\nassume -\n\
                print $\"profile=($env.ROLECALL_PROFILE) previous=($env.ROLECALL_PREVIOUS)\"\n\
                assume -\nprint $\"profile=($env.ROLECALL_PROFILE) previous=($env.ROLECALL_PREVIOUS)\"\n\
                assume --unset\nprint ($env | columns | where {|name| $name =~ '^(AWS|ROLECALL)_' and $name not-in ['AWS_ENDPOINT_URL_STS' 'AWS_EC2_METADATA_DISABLED' 'ROLECALL_STS_TIMEOUT' 'ROLECALL_SHELL_PID'] } | to json --raw)";
        let run = nu(&world, version).run(body).success();
        assert_eq!(
            run.stdout, "profile=prod-admin previous=dev\nprofile=dev previous=prod-admin\n[]\n",
            "{}",
            run.stderr
        );
    }
}

#[test]
fn hostile_credentials_from_sts_stay_inert() {
    for version in NUSHELLS {
        // Written by hand.
        let secret = "a'b\"c$(touch pwned)`touch pwned2`\\n%s\\\n\ttab;rm -rf x|&<>*?~!#";
        let token =
            "tok\u{e9}n with spaces \u{7f}[31m and $HOME and ${HOME} and \\' (touch pwned3)";
        let access_key_id = "ASIA$(touch pwned4)";
        let sts = FakeSts::start(Behaviour::Grant {
            access_key_id: access_key_id.into(),
            secret_access_key: secret.into(),
            session_token: token.into(),
        });
        let world = world_at(&sts.endpoint);
        let run = nu(&world, version)
            .run("assume prod-admin\n^env -0")
            .success();
        let env = environment_of(&run.stdout);
        assert_eq!(
            env.get("AWS_SECRET_ACCESS_KEY").map(String::as_str),
            Some(secret)
        );
        assert_eq!(
            env.get("AWS_SESSION_TOKEN").map(String::as_str),
            Some(token)
        );
        assert_eq!(
            env.get("AWS_ACCESS_KEY_ID").map(String::as_str),
            Some(access_key_id)
        );

        // Generated, one assume each. XML 1.0 cannot carry most control characters, so an STS
        // answer cannot either.
        let strings = common::hostile::hostile_strings(120, true);
        let grants: Vec<Behaviour> = strings
            .iter()
            .map(|s| Behaviour::Grant {
                access_key_id: "ASIAHOSTILE".into(),
                secret_access_key: s.clone(),
                session_token: format!("token-{s}"),
            })
            .collect();
        let sts = FakeSts::start(Behaviour::Sequence(grants));
        let generated = world_at(&sts.endpoint);
        let each = "assume prod-admin --no-cache\n\
                print ([$env.AWS_SECRET_ACCESS_KEY $env.AWS_SESSION_TOKEN] | to json --raw)\n";
        let run = nu(&generated, version)
            .run(&each.repeat(strings.len()))
            .success();
        let seen: Vec<Vec<String>> = run
            .stdout
            .lines()
            .map(|line| serde_json::from_str(line).unwrap())
            .collect();
        assert_eq!(seen.len(), strings.len(), "{}", run.stderr);
        for (index, (values, expected)) in seen.iter().zip(&strings).enumerate() {
            assert_eq!(values[0], *expected, "secret {index}");
            assert_eq!(values[1], format!("token-{expected}"), "token {index}");
        }
        for home in [world.home(), generated.home()] {
            for sentinel in ["pwned", "pwned2", "pwned3", "pwned4"] {
                assert!(!home.join(sentinel).exists(), "{sentinel} ran");
            }
        }
    }
}

/// `__ROLECALL_…__` placeholders and `# rolecall:` marker lines left in a rendering.
fn leftovers(script: &str) -> Vec<&str> {
    script
        .lines()
        .filter(|line| line.contains("__ROLECALL_") || line.contains("# rolecall:"))
        .collect()
}

#[test]
fn every_rendering_of_init_parses_and_loads_cleanly() {
    for version in NUSHELLS {
        let world = World::with_endpoint("http://127.0.0.1:9");
        let mut renderings = BTreeSet::new();
        // Each of --cmd NAME, --no-prompt and --auto-refresh, in all eight combinations.
        for combination in 0..8 {
            let mut flags = Vec::new();
            let renamed = combination & 1 != 0;
            let prompt = combination & 2 == 0;
            let auto_refresh = combination & 4 != 0;
            if renamed {
                flags.extend(["--cmd", "become"]);
            }
            if !prompt {
                flags.push("--no-prompt");
            }
            if auto_refresh {
                flags.push("--auto-refresh");
            }
            let flags = flags.join(" ");
            let mut args = vec!["init", "nu"];
            args.extend(flags.split_whitespace());
            let script = world.run(&args).success().stdout;
            assert!(
                leftovers(&script).is_empty(),
                "{flags}: {:?}",
                leftovers(&script)
            );
            renderings.insert(script);

            // Sourced (parsed, then run) by a nu that has a prompt of its own already.
            let run = nu(&world, version)
                .init(&flags)
                .before("$env.PROMPT_COMMAND = 'mine'")
                .run(
                    "print ([
                    (scope commands | where name == 'become' | length)
                    (scope commands | where name == 'assume' | length)
                    ($env.PROMPT_COMMAND | describe)
                    ($env.config.hooks.pre_prompt? | default [] | length)
                    ($env.config.hooks.pre_execution? | default [] | length)
                ] | to json --raw)",
                );
            assert!(
                run.status == Some(0) && run.stderr.is_empty(),
                "{flags}: not clean:\n{}{}",
                run.stdout,
                run.stderr
            );
            let expected = serde_json::json!([
                u8::from(renamed),
                u8::from(!renamed),
                if prompt { "closure" } else { "string" },
                u8::from(prompt),
                u8::from(auto_refresh),
            ]);
            assert_eq!(
                serde_json::from_str::<serde_json::Value>(run.stdout.trim()).unwrap(),
                expected,
                "{flags}"
            );
        }
        assert_eq!(renderings.len(), 8, "two combinations render alike");
    }
}

#[test]
fn the_prompt_segment_appears_turns_expired_and_disappears_before_the_users_prompt() {
    for version in NUSHELLS {
        let world = world();
        let body = format!(
        "{HOOK_RUNNERS}assume prod-admin\ndraw_prompt\n$env.ROLECALL_EXPIRES = '1'\ndraw_prompt\n\
         assume --unset\ndraw_prompt"
    );
        // The user's PROMPT_COMMAND as a closure and as a string; set before the integration, as
        // config.nu sets it before the autoload directory is read.
        for user_prompt in ["{|| '> ' }", "'> '"] {
            let run = nu(&world, version)
                .before(&format!("$env.PROMPT_COMMAND = {user_prompt}"))
                .run(&body)
                .success();
            let parts: Vec<&str> = run.stdout.split('|').collect();
            assert!(
                parts[0] == "[prod-admin 59m] > " || parts[0] == "[prod-admin 1h00m] > ",
                "{user_prompt}: {:?}",
                parts[0]
            );
            assert_eq!(
                parts[1], "\x1b[31m[prod-admin expired]\x1b[0m > ",
                "{user_prompt}"
            );
            assert_eq!(parts[2], "> ", "{user_prompt}");
        }
    }
}

#[test]
fn loading_twice_keeps_the_users_prompt_once() {
    for version in NUSHELLS {
        let world = world();
        let file = world.home().join("again.nu");
        std::fs::write(&file, world.run(&["init", "nu"]).success().stdout).unwrap();
        let run = nu(&world, version)
            .before("$env.PROMPT_COMMAND = {|| '> ' }")
            .run(&format!(
                "source r#'{}'#\n{HOOK_RUNNERS}assume prod-admin\ndraw_prompt",
                file.display()
            ))
            .success();
        assert!(
            run.stdout == "[prod-admin 59m] > |" || run.stdout == "[prod-admin 1h00m] > |",
            "{:?}",
            run.stdout
        );
    }
}

#[test]
fn loading_twice_adds_each_hook_once() {
    for version in NUSHELLS {
        let world = world();
        let file = world.home().join("again.nu");
        std::fs::write(
            &file,
            world
                .run(&["init", "nu", "--auto-refresh"])
                .success()
                .stdout,
        )
        .unwrap();
        let run = nu(&world, version)
            .init("--auto-refresh")
            .run(&format!(
                "source r#'{}'#\nprint $\"($env.config.hooks.pre_prompt | length) \
             ($env.config.hooks.pre_execution | length)\"",
                file.display()
            ))
            .success();
        assert_eq!(run.stdout.trim(), "1 1");
    }
}

#[test]
fn at_a_terminal_the_prompt_shows_the_countdown_before_the_users_prompt() {
    for version in NUSHELLS {
        let world = world();
        let tmux = nu(&world, version).before(USER_PROMPT).terminal("");
        tmux.wait_for_text("RC> ");
        tmux.line("assume prod-admin");
        let screen = tmux.wait_for("the countdown", |s| {
            ["[prod-admin 59m] RC>", "[prod-admin 1h00m] RC>"].contains(&last_line(s))
        });
        assert!(
            screen.contains("prod-admin (eu-west-1) · role admin"),
            "{screen}"
        );
        // The marker is computed, so the typed line itself does not match it.
        tmux.line("assume --unset; print ('unset' + '-done')");
        tmux.wait_for("a prompt without the segment after the output", |s| {
            s.contains("\nunset-done\n") && last_line(s) == "RC>"
        });
    }
}

/// The last line on the screen with something on it, without trailing blanks.
fn last_line(screen: &str) -> &str {
    screen
        .lines()
        .rev()
        .find(|l| !l.trim().is_empty())
        .unwrap_or("")
        .trim_end()
}

#[test]
fn auto_refresh_renews_a_session_near_expiry_without_spawning_when_nothing_is_due() {
    for version in NUSHELLS {
        let world = world();
        let log = world.home().join("calls.log");
        let path = common::logging_rolecall(&world, &log);
        let body = format!(
            "{HOOK_RUNNERS}assume prod-admin\n'' | save --force r#'{calls}'#\n\
         run_pre_execution\nrun_pre_execution\ncp r#'{calls}'# quiet.log\n\
         let near = ((date now | into int) // 1_000_000_000 + 60 | into string)\n\
         $env.ROLECALL_EXPIRES = $near\nrun_pre_execution\n\
         if $env.ROLECALL_EXPIRES != $near {{ print renewed }}",
            calls = log.display()
        );
        let run = nu(&world, version)
            .init("--auto-refresh --no-prompt")
            .env("PATH", &path)
            .run(&body)
            .success();
        let quiet = std::fs::read_to_string(world.home().join("quiet.log")).unwrap();
        assert_eq!(quiet, "", "the hook started processes with nothing due");
        assert!(
            run.stdout.contains("renewed"),
            "{}{}",
            run.stdout,
            run.stderr
        );
        let calls = std::fs::read_to_string(&log).unwrap();
        assert!(calls.contains("--no-input"), "{calls}");
    }
}

#[test]
fn auto_refresh_warns_once_when_renewal_needs_an_mfa_code() {
    for version in NUSHELLS {
        let world = world();
        let body = format!(
        "{HOOK_RUNNERS}assume mfa --mfa-token 123456\nrm --recursive ($env.HOME | path join .cache/rolecall)\n\
         $env.ROLECALL_EXPIRES = ((date now | into int) // 1_000_000_000 + 60 | into string)\n\
         run_pre_execution\nprint $\"still=($env.ROLECALL_PROFILE)\"\nrun_pre_execution\nprint again"
    );
        let run = nu(&world, version)
            .init("--auto-refresh")
            .run(&body)
            .success();
        assert!(
            run.stderr
                .contains("needs an MFA code and --no-input forbids asking"),
            "{}",
            run.stderr
        );
        assert_eq!(
            run.stderr
                .matches("rolecall: mfa was not renewed; run assume mfa")
                .count(),
            1,
            "{}",
            run.stderr
        );
        assert_eq!(run.stdout, "still=mfa\nagain\n", "{}", run.stderr);
    }
}

#[test]
fn the_aws_cli_sees_the_variables_as_the_assumed_role() {
    for version in NUSHELLS {
        require_tool("aws");
        let world = World::with_moto();
        world.write_config(ONE_HOP);
        world.write_credentials(BASE_KEYS);
        let run = nu(&world, version)
            .run("assume demo-admin\n^aws sts get-caller-identity --query Arn --output text")
            .success();
        assert_eq!(
            run.stdout.trim(),
            format!(
                "arn:aws:sts::111111111111:assumed-role/admin/{}",
                common::expected_session_name()
            ),
            "{}",
            run.stderr
        );
    }
}

#[test]
fn rolecall_shell_pid_names_the_nu_process() {
    for version in NUSHELLS {
        let world = World::with_endpoint("http://127.0.0.1:9");
        let run = nu(&world, version)
            .run("^sh -c 'echo \"$ROLECALL_SHELL_PID $PPID\"'")
            .success();
        let (named, parent) = run.stdout.trim().split_once(' ').unwrap();
        assert_eq!(named, parent, "{}", run.stdout);
    }
}

#[test]
fn tab_completes_profiles_flags_and_values_at_a_terminal() {
    for version in NUSHELLS {
        let world = world();
        let tmux = nu(&world, version).before(USER_PROMPT).terminal("");
        tmux.wait_for_text("RC> ");
        tmux.type_text("assume pr");
        tmux.press(&["Tab"]);
        let screen = tmux.wait_for("both prod- profiles", |s| {
            s.contains("prod-admin") && s.contains("prod-readonly")
        });
        assert!(screen.contains("assume prod-"), "{screen}");
        assert!(screen.contains("Production admin"), "{screen}");
        assert!(!screen.contains("dev"), "{screen}");

        for (typed, expected) in [
            ("assume --re", &["--refresh", "--region"][..]),
            (
                "assume -r eu-w",
                &["eu-west-1", "eu-west-2", "eu-west-3"][..],
            ),
            (
                "assume --source-profile ba",
                &["assume --source-profile base"][..],
            ),
        ] {
            // Ctrl-C leaves the menu and the line; a new prompt comes.
            tmux.press(&["C-c"]);
            tmux.wait_for("an empty line", |s| last_line(s) == "RC>");
            tmux.type_text(typed);
            tmux.press(&["Tab"]);
            tmux.wait_for(typed, |s| expected.iter().all(|e| s.contains(e)));
        }
    }
}

#[test]
fn the_picker_assumes_the_choice_and_escape_changes_nothing() {
    for version in NUSHELLS {
        let world = world();
        let tmux = nu(&world, version).before(USER_PROMPT).terminal("");
        tmux.wait_for_text("RC> ");
        tmux.line("assume");
        let screen = tmux.wait_for_text("profile>");
        assert!(screen.contains("Production admin"), "{screen}");
        tmux.type_text("readonly");
        tmux.wait_for("the filtered list", |s| {
            s.contains("prod-readonly") && !s.contains(" dev")
        });
        tmux.press(&["Enter"]);
        tmux.wait_for_text("[prod-readonly");
        tmux.line("print $\"got=($env.ROLECALL_PROFILE)\"");
        tmux.wait_for_text("got=prod-readonly");
        tmux.line("assume");
        tmux.wait_for_text("profile>");
        tmux.press(&["Escape"]);
        tmux.wait_for("the picker to close", |s| !s.contains("profile>"));
        tmux.line("print $\"status=($env.LAST_EXIT_CODE) still=($env.ROLECALL_PROFILE)\"");
        let screen = tmux.wait_for_text("status=130 still=prod-readonly");
        // At the REPL a failed assume shows rolecall's message only, no error box of nushell's.
        assert!(!screen.contains("Error:"), "{screen}");
    }
}

#[test]
fn ctrl_c_at_the_mfa_prompt_exits_130_and_changes_nothing() {
    for version in NUSHELLS {
        let world = world();
        let tmux = nu(&world, version)
            .before(&format!("{USER_PROMPT}$env.AWS_PROFILE = 'kept'\n"))
            .terminal("");
        tmux.wait_for_text("RC> ");
        tmux.line("assume mfa");
        tmux.wait_for_text("MFA code for arn:aws:iam::000000000000:mfa/ana:");
        tmux.press(&["C-c"]);
        // rolecall gives the terminal back (dropping what was typed ahead) before the prompt returns.
        tmux.wait_for("the prompt after Ctrl-C", |s| last_line(s) == "RC>");
        tmux.line(
        "print $\"status=($env.LAST_EXIT_CODE) profile=($env.AWS_PROFILE) session=($env.ROLECALL_PROFILE? | default '').\"",
    );
        // The printed line, not the command line that asks for it.
        let screen = tmux.wait_for("the printed status", |s| {
            s.lines().any(|line| line.starts_with("status="))
        });
        assert!(
            screen.contains("status=130 profile=kept session=."),
            "{screen}"
        );
        assert!(!screen.contains("Error:"), "{screen}");
    }
}

#[test]
fn the_driver_runs_the_integration_it_was_given() {
    for version in NUSHELLS {
        let world = World::with_endpoint("http://127.0.0.1:9");
        // Without the integration, nushell knows no assume.
        let run = nu(&world, version).bare().run("assume prod-admin");
        assert_ne!(run.status, Some(0), "{}", run.stdout);
        let run: Run = nu(&world, version)
            .init("--cmd become")
            .run("print (scope commands | where name == become | length)")
            .success();
        assert_eq!(run.stdout, "1\n");
    }
}
