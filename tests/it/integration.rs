//! The shell integration (`rolecall init`) in real bash, zsh and fish: loading, the assume
//! function, failures that change nothing, the prompt segment, completion, --cmd, auto-refresh,
//! and shellcheck over every rendering.

use crate::common::fake_sts::{Behaviour, FakeSts};
use crate::common::{self, require_tool, run_shell, Run, Tmux, World, BASE_KEYS};
use std::collections::BTreeMap;
use std::process::Stdio;

const CONFIG: &str = "[profile base]\nregion = eu-west-1\n\
[profile prod-admin]\nrole_arn = arn:aws:iam::111111111111:role/admin\nsource_profile = base\n\
rolecall_description = Production admin\n\
[profile prod-readonly]\nrole_arn = arn:aws:iam::111111111111:role/readonly\nsource_profile = base\n\
[profile dev]\nrole_arn = arn:aws:iam::222222222222:role/dev\nsource_profile = base\n\
[profile mfa]\nrole_arn = arn:aws:iam::111111111111:role/mfa\nsource_profile = base\n\
mfa_serial = arn:aws:iam::000000000000:mfa/ana\n";

const SHELLS: [&str; 3] = ["bash", "zsh", "fish"];

const FLAG_SETS: [&[&str]; 4] = [
    &[],
    &["--no-prompt"],
    &["--auto-refresh"],
    &["--cmd", "become", "--no-prompt", "--auto-refresh"],
];

fn world() -> World {
    let world = World::with_moto();
    world.write_config(CONFIG);
    world.write_credentials(BASE_KEYS);
    world
}

fn env_of(stdout: &str) -> BTreeMap<String, String> {
    stdout
        .split('\0')
        .filter_map(|pair| pair.split_once('='))
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

#[test]
fn init_loads_silently_under_strict_modes_and_twice_adds_nothing_twice() {
    let world = World::with_endpoint("http://127.0.0.1:9");
    world.write_config(CONFIG);
    for shell in SHELLS {
        for flags in FLAG_SETS {
            let flags = flags.join(" ");
            let (twice, count) = match shell {
                "bash" => (
                    "eval \"$(rolecall init bash FLAGS)\"",
                    "printf '%s' \"${PROMPT_COMMAND[*]-}\" | grep -c __rolecall_hook || true",
                ),
                "zsh" => (
                    "eval \"$(rolecall init zsh FLAGS)\"",
                    "print -l -- ${precmd_functions-} ${preexec_functions-} | grep -c __rolecall || true",
                ),
                _ => (
                    "rolecall init fish FLAGS | source",
                    "functions fish_prompt | grep -c __rolecall_original_fish_prompt; complete -c rolecall | count",
                ),
            };
            let once = run_shell(&world, shell, &flags, count).success();
            assert!(once.stderr.is_empty(), "{shell} {flags}: {}", once.stderr);
            let again = run_shell(
                &world,
                shell,
                &flags,
                &format!("{}\n{count}", twice.replace("FLAGS", &flags)),
            )
            .success();
            assert!(again.stderr.is_empty(), "{shell} {flags}: {}", again.stderr);
            assert_eq!(
                once.stdout, again.stdout,
                "{shell} {flags}: loading twice added hooks"
            );
        }
    }
}

#[test]
fn init_prints_nothing_when_loaded() {
    let world = World::with_endpoint("http://127.0.0.1:9");
    for shell in SHELLS {
        let run = run_shell(&world, shell, "--auto-refresh", "true").success();
        assert_eq!(run.stdout, "", "{shell}");
        assert_eq!(run.stderr, "", "{shell}");
    }
}

#[test]
fn every_rendering_is_shellcheck_clean() {
    let shellcheck = require_tool("shellcheck");
    for shell in ["bash", "zsh"] {
        for flags in FLAG_SETS {
            let script = std::process::Command::new(common::BIN)
                .args(["init", shell])
                .args(flags)
                .output()
                .unwrap();
            let mut check = std::process::Command::new(&shellcheck)
                .args(["-s", "bash", "-"])
                .stdin(Stdio::piped())
                .stdout(Stdio::piped())
                .spawn()
                .unwrap();
            use std::io::Write;
            check
                .stdin
                .take()
                .unwrap()
                .write_all(&script.stdout)
                .unwrap();
            let result = check.wait_with_output().unwrap();
            assert!(
                result.status.success(),
                "shellcheck on init {shell} {flags:?}:\n{}",
                String::from_utf8_lossy(&result.stdout)
            );
        }
    }
}

#[test]
fn assume_sets_every_variable_of_the_design_in_each_shell() {
    let world = world();
    for shell in SHELLS {
        let run = run_shell(&world, shell, "", "assume prod-admin\nenv -0").success();
        let env = env_of(&run.stdout);
        for name in common::DESIGN_VARIABLES {
            assert!(
                env.get(name).is_some_and(|v| !v.is_empty()),
                "{shell}: {name}"
            );
        }
        assert_eq!(env["ROLECALL_PROFILE"], "prod-admin");
        assert_eq!(env["AWS_PROFILE"], "prod-admin");
        assert_eq!(env["AWS_REGION"], "eu-west-1");
        assert!(run
            .stderr
            .contains("prod-admin (eu-west-1) · role admin in 111111111111"));
    }
}

/// The environment before and after a failing assume, which must be identical.
fn env_around_failure(world: &World, shell: &str, target: &str) -> (Run, String, String) {
    let body = match shell {
        "fish" => format!(
            "set -gx AWS_PROFILE kept; set -gx ROLECALL_PROFILE kept\nenv -0; printf '\\n--split--\\n'\n\
             assume {target}; echo status=$status >&2\nenv -0; true"
        ),
        _ => format!(
            "export AWS_PROFILE=kept ROLECALL_PROFILE=kept\nenv -0; printf '\\n--split--\\n'\n\
             assume {target} || echo status=$? >&2\nenv -0; true"
        ),
    };
    let run = run_shell(world, shell, "", &body).success();
    let (before, after) = run.stdout.split_once("\n--split--\n").unwrap();
    let (before, after) = (before.to_string(), after.to_string());
    (run, before, after)
}

#[test]
fn a_failing_assume_leaves_the_environment_byte_for_byte_as_it_was() {
    let world = world();
    let refused = World::with_endpoint(&format!("http://127.0.0.1:{}", common::free_port()));
    refused.write_config(CONFIG);
    refused.write_credentials(BASE_KEYS);
    let denied_sts = FakeSts::start(Behaviour::sts_error(
        403,
        "AccessDenied",
        "User: arn:aws:iam::123456789012:user/ana is not authorized to perform: sts:AssumeRole",
    ));
    let denied = World::with_endpoint(&denied_sts.endpoint);
    denied.write_config(CONFIG);
    denied.write_credentials(BASE_KEYS);
    let cases = [
        (&world, "no-such-profile", "status=2", "no profile named"),
        (&refused, "prod-admin", "status=1", "could not be reached"),
        (&denied, "prod-admin", "status=1", "access denied"),
    ];
    for shell in SHELLS {
        for (world, target, status, message) in cases {
            let (run, before, after) = env_around_failure(world, shell, target);
            assert!(
                run.stderr.contains(status),
                "{shell} {target}: {}",
                run.stderr
            );
            assert!(
                run.stderr.contains(message),
                "{shell} {target}: {}",
                run.stderr
            );
            assert_eq!(before, after, "{shell}: {target} changed the environment");
        }
    }
}

#[test]
fn unset_clears_and_minus_returns_to_the_previous_target() {
    let world = world();
    for shell in SHELLS {
        let body = "assume prod-admin\nassume dev\nassume -\necho profile=$ROLECALL_PROFILE previous=$ROLECALL_PREVIOUS\n\
                    assume -\necho profile=$ROLECALL_PROFILE previous=$ROLECALL_PREVIOUS\n\
                    assume --unset\nenv -0";
        let run = run_shell(&world, shell, "", body).success();
        let (lines, env) = run.stdout.split_at(
            run.stdout
                .find("\n\0")
                .unwrap_or(run.stdout.rfind("previous=").unwrap() + 30),
        );
        assert!(
            lines.contains("profile=prod-admin previous=dev\nprofile=dev previous=prod-admin"),
            "{shell}: {lines}"
        );
        let env = env_of(env);
        let left: Vec<_> = common::MANAGED_VARIABLES
            .iter()
            .filter(|k| env.contains_key(**k))
            .collect();
        assert!(left.is_empty(), "{shell}: {left:?} after --unset");
    }
}

#[test]
fn cmd_renames_the_function_and_its_completion() {
    let world = world();
    let checks = [
        ("bash", "become prod-admin\necho $ROLECALL_PROFILE\ncomplete -p become\ntype assume >/dev/null 2>&1 || echo no-assume"),
        ("zsh", "become prod-admin\necho $ROLECALL_PROFILE\necho $_comps[become]\nwhence assume >/dev/null || echo no-assume"),
        ("fish", "become prod-admin\necho $ROLECALL_PROFILE\ncomplete -c become | string match -q '*__rolecall_complete*'; and echo completes\nfunctions -q assume; or echo no-assume"),
    ];
    for (shell, body) in checks {
        let run = run_shell(&world, shell, "--cmd become", body).success();
        assert!(
            run.stdout.starts_with("prod-admin\n"),
            "{shell}: {}",
            run.stdout
        );
        assert!(
            run.stdout.contains("__rolecall_complete") || run.stdout.contains("completes"),
            "{shell}: {}",
            run.stdout
        );
        assert!(run.stdout.contains("no-assume"), "{shell}: {}", run.stdout);
    }
}

#[test]
fn bash_completion_function_lists_matching_profiles_flags_and_regions() {
    let world = world();
    let body = "complete_words() { COMP_WORDS=(\"$@\"); COMP_CWORD=$(( $# - 1 )); \
                __rolecall_complete \"$1\" \"${COMP_WORDS[COMP_CWORD]}\" x; printf '%s,' \"${COMPREPLY[@]}\"; echo; }\n\
                complete_words assume pr\ncomplete_words rolecall assume pr\ncomplete_words assume -r eu-west-\n\
                complete_words assume --no-";
    let run = run_shell(&world, "bash", "", body).success();
    let lines: Vec<&str> = run.stdout.lines().collect();
    assert_eq!(lines[0], "prod-admin,prod-readonly,");
    assert_eq!(lines[1], "prod-admin,prod-readonly,");
    assert_eq!(lines[2], "eu-west-1,eu-west-2,eu-west-3,");
    assert_eq!(lines[3], "--no-cache,--no-input,");
}

#[test]
fn fish_completion_lists_matching_profiles_with_descriptions() {
    let world = world();
    let run = run_shell(
        &world,
        "fish",
        "",
        "complete -C 'assume pr'\necho ==\ncomplete -C 'rolecall assume pr'\necho ==\ncomplete -C 'assume -r us-west-'",
    )
    .success();
    let expected =
        "prod-admin\tProduction admin\nprod-readonly\tarn:aws:iam::111111111111:role/readonly\n";
    let parts: Vec<&str> = run.stdout.split("==\n").collect();
    assert_eq!(parts[0], expected);
    assert_eq!(parts[1], expected);
    assert_eq!(parts[2], "us-west-1\nus-west-2\n");
}

#[test]
fn zsh_completion_through_a_terminal_lists_matching_profiles_with_descriptions() {
    let world = world();
    std::fs::write(
        world.home().join(".zshrc"),
        "PROMPT='%% '\nautoload -Uz compinit\ncompinit -u -D\nzstyle ':completion:*' format ''\n\
         eval \"$(rolecall init zsh)\"\n",
    )
    .unwrap();
    let tmux = Tmux::start(
        &world,
        &format!("env ZDOTDIR={} zsh -i", world.home().display()),
    );
    tmux.wait_for_text("%");
    tmux.type_text("assume pr");
    tmux.press(&["Tab"]);
    tmux.wait_for_text("% assume prod-");
    tmux.press(&["Tab"]);
    let screen = tmux.wait_for_text("prod-readonly");
    assert!(screen.contains("prod-admin"), "{screen}");
    assert!(screen.contains("Production admin"), "{screen}");
    assert!(!screen.contains("dev"), "{screen}");
    tmux.press(&["C-u"]);
    tmux.type_text("rolecall assume prod-r");
    tmux.press(&["Tab"]);
    tmux.wait_for_text("rolecall assume prod-readonly");
}

#[test]
fn the_prompt_segment_appears_turns_expired_and_disappears() {
    let world = world();
    let bodies = [
        (
            "bash",
            "PS1='$ '\nassume prod-admin\n__rolecall_hook\nprintf '%s|' \"$PS1\"\n\
             ROLECALL_EXPIRES=1\n__rolecall_hook\nprintf '%s|' \"$PS1\"\n\
             assume --unset\n__rolecall_hook\nprintf '%s|' \"$PS1\"",
        ),
        (
            "zsh",
            "PROMPT='%% '\nassume prod-admin\n__rolecall_precmd\nprintf '%s|' \"$PROMPT\"\n\
             ROLECALL_EXPIRES=1\n__rolecall_precmd\nprintf '%s|' \"$PROMPT\"\n\
             assume --unset\n__rolecall_precmd\nprintf '%s|' \"$PROMPT\"",
        ),
        (
            "fish",
            "function __rolecall_original_fish_prompt; echo -n '> '; end\nassume prod-admin\nfish_prompt; echo -n '|'\n\
             set -gx ROLECALL_EXPIRES 1\nfish_prompt; echo -n '|'\nassume --unset\nfish_prompt; echo -n '|'",
        ),
    ];
    for (shell, body) in bodies {
        let run = run_shell(&world, shell, "", body).success();
        let parts: Vec<&str> = run.stdout.split('|').collect();
        let base = match shell {
            "bash" => "$ ",
            "zsh" => "%% ",
            _ => "> ",
        };
        assert!(
            parts[0] == format!("[prod-admin 59m] {base}")
                || parts[0] == format!("[prod-admin 1h00m] {base}"),
            "{shell}: {:?}",
            parts[0]
        );
        let (open, close) = match shell {
            "bash" => ("\x01", "\x02"),
            "zsh" => ("%{", "%}"),
            _ => ("", ""),
        };
        assert_eq!(
            parts[1],
            format!("{open}\x1b[31m{close}[prod-admin expired]{open}\x1b[0m{close} {base}"),
            "{shell}"
        );
        assert_eq!(parts[2], base, "{shell}");
    }
}

#[test]
fn an_interactive_prompt_shows_the_countdown_in_each_shell() {
    let world = world();
    std::fs::write(
        world.home().join(".bashrc"),
        "PS1='RC$ '\neval \"$(rolecall init bash)\"\n",
    )
    .unwrap();
    std::fs::write(
        world.home().join(".zshrc"),
        "PROMPT='RC%% '\neval \"$(rolecall init zsh)\"\n",
    )
    .unwrap();
    let home = world.home().display().to_string();
    for command in [
        format!("bash --rcfile {home}/.bashrc -i"),
        format!("env ZDOTDIR={home} zsh -i"),
        "fish --no-config --init-command 'function fish_prompt; echo -n \"RC> \"; end; rolecall init fish | source'".to_string(),
    ] {
        let tmux = Tmux::start(&world, &command);
        tmux.wait_for(&format!("a prompt from {command}"), |s| s.contains("RC"));
        tmux.line("assume prod-admin");
        let screen = tmux.wait_for("the countdown", |s| s.contains("[prod-admin 59m]") || s.contains("[prod-admin 1h00m]"));
        assert!(screen.contains("prod-admin (eu-west-1) · role admin"), "{screen}");
        tmux.line("assume --unset; echo unset-done | tr a-z A-Z");
        let screen = tmux.wait_for_text("UNSET-DONE");
        let last_prompt = screen.lines().rev().find(|l| !l.trim().is_empty()).unwrap_or("");
        assert!(!last_prompt.contains("prod-admin"), "{command}: {last_prompt}");
    }
}

#[test]
fn the_picker_opens_on_the_terminal_and_assumes_the_choice() {
    let world = world();
    std::fs::write(
        world.home().join(".bashrc"),
        "PS1='RC$ '\neval \"$(rolecall init bash)\"\n",
    )
    .unwrap();
    let tmux = Tmux::start(
        &world,
        &format!("bash --rcfile {}/.bashrc -i", world.home().display()),
    );
    tmux.wait_for_text("RC$");
    tmux.line("assume");
    let screen = tmux.wait_for_text("profile>");
    assert!(screen.contains("Production admin"), "{screen}");
    tmux.type_text("readonly");
    tmux.wait_for("the filtered list", |s| {
        s.contains("prod-readonly") && !s.contains(" dev")
    });
    tmux.press(&["Enter"]);
    tmux.wait_for_text("[prod-readonly");
    tmux.line("echo \"got=$ROLECALL_PROFILE\"");
    tmux.wait_for_text("got=prod-readonly");
    // Escape cancels: nothing changes, status 130.
    tmux.line("assume");
    tmux.wait_for_text("profile>");
    tmux.press(&["Escape"]);
    tmux.wait_for("the picker to close", |s| !s.contains("profile>"));
    tmux.line("echo \"status=$? still=$ROLECALL_PROFILE\"");
    tmux.wait_for_text("status=130 still=prod-readonly");
}

#[test]
fn status_reports_the_session_and_exits_by_validity() {
    let world = world();
    {
        let run = run_shell(
            &world,
            "bash",
            "",
            "rolecall status || echo no-session=$?\nassume prod-admin 2>/dev/null\nrolecall status\n\
             rolecall status --verify | grep identity\nrolecall status --json\n\
             ROLECALL_EXPIRES=1 rolecall status -q || echo expired=$?",
        )
        .success();
        assert!(run.stdout.contains("no-session=1"), "{}", run.stdout);
        assert!(
            run.stderr.contains("no rolecall session in this shell"),
            "{}",
            run.stderr
        );
        assert!(
            run.stdout.contains("profile  prod-admin\n"),
            "{}",
            run.stdout
        );
        assert!(
            run.stdout.contains("account  111111111111\n"),
            "{}",
            run.stdout
        );
        assert!(
            run.stdout.contains("region   eu-west-1\n"),
            "{}",
            run.stdout
        );
        assert!(
            run.stdout
                .contains("identity arn:aws:sts::111111111111:assumed-role/admin/"),
            "{}",
            run.stdout
        );
        let json_line = run.stdout.lines().find(|l| l.starts_with('{')).unwrap();
        let json: serde_json::Value = serde_json::from_str(json_line).unwrap();
        assert_eq!(json["valid"], true);
        assert_eq!(json["role_arn"], "arn:aws:iam::111111111111:role/admin");
        assert!(json["seconds_left"].as_i64().unwrap() > 3000);
        assert!(run.stdout.contains("expired=1"), "{}", run.stdout);
    }
}

#[test]
fn prompt_command_formats_honours_no_color_and_keeps_percent_literal_in_zsh() {
    let world = World::with_endpoint("http://127.0.0.1:9");
    let expires = (chrono::Utc::now().timestamp() + 290).to_string();
    let mut command = world.rolecall(&[
        "prompt",
        "--shell",
        "zsh",
        "--format",
        "{profile}|{account}|{region}|{role}|{left}",
    ]);
    command
        .env("ROLECALL_PROFILE", "50%-off$(touch pwned)")
        .env("ROLECALL_ROLE_ARN", "arn:aws:iam::222222222222:role/ops")
        .env("AWS_REGION", "eu-west-1")
        .env("ROLECALL_EXPIRES", &expires);
    let run = Run::of(command).success();
    assert!(
        run.stdout
            .starts_with("%{\x1b[33m%}50%%-off?(touch pwned)|222222222222|eu-west-1|ops|4m"),
        "{:?}",
        run.stdout
    );
    let mut command = world.rolecall(&["prompt", "--shell", "bash"]);
    command
        .env("ROLECALL_PROFILE", "dev")
        .env("ROLECALL_EXPIRES", &expires)
        .env("NO_COLOR", "1");
    assert_eq!(Run::of(command).success().stdout, "[dev 4m]\n");
    // No session: nothing at all.
    assert_eq!(world.run(&["prompt"]).success().stdout, "");
}

/// `prompt` parses its flags apart from the other commands (it runs at every redraw); its help,
/// its usage errors and `--format=` spelling must still be those of the whole command line.
#[test]
fn prompt_flags_help_and_errors_match_the_rest_of_the_command_line() {
    let world = World::with_endpoint("http://127.0.0.1:9");
    let help = world.run(&["prompt", "--help"]).success();
    assert!(
        help.stdout.starts_with("One short line for the prompt")
            && help.stdout.contains("Usage: rolecall prompt [OPTIONS]"),
        "{}",
        help.stdout
    );
    world
        .run(&["prompt", "--bogus"])
        .failure(2)
        .stderr_has("unexpected argument '--bogus'")
        .stderr_has("Usage: rolecall prompt [OPTIONS]");
    world
        .run(&["prompt", "--shell", "tcsh"])
        .failure(2)
        .stderr_has("invalid value 'tcsh' for '--shell <SHELL>'");
    let mut command = world.rolecall(&["prompt", "--format={profile}!"]);
    command.env("ROLECALL_PROFILE", "dev").env("NO_COLOR", "1");
    assert_eq!(Run::of(command).success().stdout, "dev?\n");
}

#[test]
fn auto_refresh_renews_a_session_near_expiry_without_spawning_when_nothing_is_due() {
    let world = world();
    let log = world.home().join("calls.log");
    let path = common::logging_rolecall(&world, &log);

    let bodies = [
        ("bash", "assume prod-admin 2>/dev/null\n: > CALLS\n__rolecall_hook\ntrue\n__rolecall_hook\ntrue\ncp CALLS quiet.log\n\
                  near=$(( $(date +%s) + 60 ))\nexport ROLECALL_EXPIRES=$near\n__rolecall_hook\ntrue\n\
                  test \"$ROLECALL_EXPIRES\" != \"$near\" && echo renewed"),
        ("zsh", "assume prod-admin 2>/dev/null\n: > CALLS\n__rolecall_preexec\n__rolecall_preexec\ncp CALLS quiet.log\n\
                 near=$(( $(date +%s) + 60 ))\nexport ROLECALL_EXPIRES=$near\n__rolecall_preexec\n\
                 test \"$ROLECALL_EXPIRES\" != \"$near\" && echo renewed"),
        ("fish", "assume prod-admin 2>/dev/null\necho -n > CALLS\nemit fish_preexec\nemit fish_preexec\ncp CALLS quiet.log\n\
                  set near (math (date +%s) + 60)\nset -gx ROLECALL_EXPIRES $near\nemit fish_preexec\n\
                  test \"$ROLECALL_EXPIRES\" != \"$near\"; and echo renewed"),
    ];
    for (shell, body) in bodies {
        let program = require_tool(shell);
        let mut command = world.command(program);
        let body = body.replace("CALLS", &log.display().to_string());
        let script = match shell {
            "bash" => format!("eval \"$(rolecall init bash --auto-refresh --no-prompt)\"\n{body}"),
            "zsh" => format!("eval \"$(rolecall init zsh --auto-refresh --no-prompt)\"\n{body}"),
            _ => format!("rolecall init fish --auto-refresh --no-prompt | source\n{body}"),
        };
        match shell {
            "bash" => command.args(["--norc", "--noprofile", "-eu", "-c", &script]),
            "zsh" => command.args(["--no-rcs", "-eu", "-c", &script]),
            _ => command.args(["--no-config", "-c", &script]),
        };
        command.env("PATH", &path);
        command.current_dir(world.home());
        let run = Run::of(command).success();
        let quiet = std::fs::read_to_string(world.home().join("quiet.log")).unwrap();
        assert_eq!(
            quiet, "",
            "{shell}: the hook started processes with nothing due"
        );
        assert!(
            run.stdout.contains("renewed"),
            "{shell}: {}{}",
            run.stdout,
            run.stderr
        );
        let calls = std::fs::read_to_string(&log).unwrap();
        assert!(calls.contains("--no-input"), "{shell}: {calls}");
    }
}

#[test]
fn auto_refresh_warns_when_renewal_needs_an_mfa_code() {
    let world = world();
    let body = "assume mfa --mfa-token 123456 2>/dev/null\nrm -rf \"$HOME/.cache/rolecall\"\n\
                export ROLECALL_EXPIRES=$(( $(date +%s) + 60 ))\n__rolecall_hook\ntrue\necho still=$ROLECALL_PROFILE\n\
                __rolecall_hook\ntrue\necho again";
    let run = run_shell(&world, "bash", "--auto-refresh", body).success();
    assert!(
        run.stderr
            .contains("needs an MFA code and --no-input forbids asking"),
        "{}",
        run.stderr
    );
    assert!(
        run.stderr
            .contains("rolecall: mfa was not renewed; run assume mfa"),
        "{}",
        run.stderr
    );
    // Not retried for the same session: one message, not one per command.
    assert_eq!(
        run.stderr.matches("was not renewed").count(),
        1,
        "{}",
        run.stderr
    );
    assert!(run.stdout.contains("still=mfa"));
}

#[test]
fn aliases_cannot_break_the_function() {
    let world = world();
    let body = "shopt -s expand_aliases\nalias eval='echo broken-eval'\nalias rolecall='echo broken-rolecall'\n\
                alias test='echo broken-test'\nalias return='echo broken-return'\nalias local='echo broken-local'\n\
                alias assume='. assume'\nalias export='echo leaked'\nalias unset='echo broken-unset'\n\
                \\eval \"$(\\command rolecall init bash --auto-refresh)\"\nassume prod-admin\necho profile=$ROLECALL_PROFILE\n\
                __rolecall_hook\necho a b\necho \"last=$_\"";
    let program = require_tool("bash");
    let mut command = world.command(program);
    command.args(["--norc", "--noprofile", "-eu", "-c", body]);
    let run = Run::of(command).success();
    assert!(
        run.stdout.contains("profile=prod-admin"),
        "{}{}",
        run.stdout,
        run.stderr
    );
    assert!(!run.stdout.contains("broken"), "{}", run.stdout);
    assert!(
        !run.stdout.contains("leaked"),
        "an alias saw the exports: {}",
        run.stdout
    );
    // The refresh hook's DEBUG trap keeps `$_` for the user.
    assert!(run.stdout.contains("last=b"), "{}", run.stdout);
}

#[test]
fn assume_help_through_the_function_shows_help_and_runs_nothing() {
    let world = world();
    let run = run_shell(
        &world,
        "bash",
        "",
        "assume --help\necho after=${ROLECALL_PROFILE-none}",
    )
    .success();
    assert!(
        run.stderr.contains("Usage: rolecall assume"),
        "{}",
        run.stderr
    );
    assert!(run.stdout.contains("after=none"), "{}", run.stdout);
}

#[test]
fn an_existing_assume_alias_does_not_stop_zsh_from_loading() {
    let world = world();
    let run = run_shell(
        &world,
        "zsh",
        "",
        "alias assume='. assume'\neval \"$(rolecall init zsh)\"\nassume prod-admin\necho profile=$ROLECALL_PROFILE",
    );
    // run_shell loaded the integration once already; the alias comes before the second load.
    let run = run.success();
    assert!(
        run.stdout.contains("profile=prod-admin"),
        "{}{}",
        run.stdout,
        run.stderr
    );
}

#[test]
fn json_needs_no_shell_and_unset_is_shell_code_only() {
    let world = world();
    let mut command = world.rolecall(&["assume", "--json", "prod-admin"]);
    command.env("SHELL", "/bin/tcsh");
    Run::of(command).success().json();
    world.run(&["assume", "--unset", "--json"]).failure(2);
    let run = world
        .run(&["assume", "--unset", "--shell", "bash"])
        .success();
    assert!(
        run.stdout
            .starts_with("\\builtin unset -v AWS_ACCESS_KEY_ID"),
        "{}",
        run.stdout
    );
}

#[test]
fn the_prompt_segment_is_redrawn_only_when_its_text_can_change() {
    let world = world();
    let log = world.home().join("prompt-calls.log");
    let path = common::logging_rolecall(&world, &log);
    // Ten minutes and thirty seconds left: the text holds for the next thirty seconds.
    let draws = [
        ("bash", "__rolecall_hook"),
        ("zsh", "__rolecall_precmd"),
        ("fish", "fish_prompt >/dev/null"),
    ];
    for (shell, draw) in draws {
        let _ = std::fs::remove_file(&log);
        let body = format!(
            "{}\n{draw}\n{draw}\n{draw}\n{}\n{draw}\n",
            match shell {
                "fish" =>
                    "set -gx ROLECALL_PROFILE p; set -gx ROLECALL_EXPIRES (math (date +%s) + 630)",
                _ => "export ROLECALL_PROFILE=p ROLECALL_EXPIRES=$(( $(date +%s) + 630 ))",
            },
            match shell {
                "fish" => "set -gx ROLECALL_PROFILE q",
                _ => "export ROLECALL_PROFILE=q",
            },
        );
        let mut command = world.command(require_tool(shell));
        let script = match shell {
            "bash" => format!("eval \"$(rolecall init bash)\"\nPS1='$ '\n{body}"),
            "zsh" => format!("eval \"$(rolecall init zsh)\"\nPROMPT='%% '\n{body}"),
            _ => format!("rolecall init fish | source\n{body}"),
        };
        match shell {
            "bash" => command.args(["--norc", "--noprofile", "-eu", "-c", &script]),
            "zsh" => command.args(["--no-rcs", "-eu", "-c", &script]),
            _ => command.args(["--no-config", "-c", &script]),
        };
        command.env("PATH", &path);
        Run::of(command).success();
        let calls = std::fs::read_to_string(&log).unwrap_or_default();
        let prompts = calls.lines().filter(|l| l.starts_with("prompt")).count();
        assert_eq!(
            prompts, 2,
            "{shell}: three draws of one session, then a new one: {calls:?}"
        );
    }
}
