//! The shell integration in real bash, zsh and fish: what `assume` prints, evaluated as it is
//! and through `rolecall init` (loading, the function, `--unset`, `assume -`, `--cmd`), every
//! rendering of `rolecall init`, the prompt segment, completion, the picker, `status`, `prompt`,
//! auto-refresh, aliases, and the exported variables used by the real AWS CLI.

use crate::common::{
    self, environment_of, eval_assume, require_tool, Run, Shell, World, BASE_KEYS, ONE_HOP, SHELLS,
};
use std::collections::{BTreeMap, BTreeSet};

const CONFIG: &str = "[profile base]\nregion = eu-west-1\n\
[profile prod-admin]\nrole_arn = arn:aws:iam::111111111111:role/admin\nsource_profile = base\n\
rolecall_description = Production admin\n\
[profile prod-readonly]\nrole_arn = arn:aws:iam::111111111111:role/readonly\nsource_profile = base\n\
[profile dev]\nrole_arn = arn:aws:iam::222222222222:role/dev\nsource_profile = base\n\
[profile mfa]\nrole_arn = arn:aws:iam::111111111111:role/mfa\nsource_profile = base\n\
mfa_serial = arn:aws:iam::000000000000:mfa/ana\n";

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

fn export(shell: &str, name: &str, value: &str) -> String {
    match shell {
        "fish" => format!("set -gx {name} {value}"),
        _ => format!("export {name}={value}"),
    }
}

/// The `__ROLECALL_…__` placeholders left in `text`: what `__ROLECALL_[A-Z_]*__` matches.
fn placeholders_in(text: &str) -> Vec<&str> {
    const PREFIX: &str = "__ROLECALL_";
    let mut found = Vec::new();
    let mut from = 0;
    while let Some(at) = text[from..].find(PREFIX).map(|at| from + at) {
        let name_start = at + PREFIX.len();
        let name = &text[name_start..];
        let run = name
            .find(|c: char| !(c.is_ascii_uppercase() || c == '_'))
            .unwrap_or(name.len());
        if let Some(end) = name[..run].rfind("__") {
            found.push(&text[at..name_start + end + 2]);
        }
        from = name_start;
    }
    found
}

#[test]
fn placeholders_are_found_as_the_pattern_matches_them() {
    assert_eq!(
        placeholders_in("a __ROLECALL_CMD__ b __ROLECALL___ c"),
        ["__ROLECALL_CMD__", "__ROLECALL___"]
    );
    assert!(placeholders_in("__rolecall_hook __ROLECALL_ __ROLECALL_X_y__").is_empty());
}

#[test]
fn every_rendering_of_init_is_complete_and_clean() {
    let world = World::with_endpoint("http://127.0.0.1:9");
    let shellcheck = require_tool("shellcheck");
    let fish = require_tool("fish");
    for shell in SHELLS {
        let mut renderings = BTreeSet::new();
        // Each of --cmd NAME, --no-prompt and --auto-refresh, in all eight combinations.
        for combination in 0..8 {
            let mut args = vec!["init", shell];
            if combination & 1 != 0 {
                args.extend(["--cmd", "become"]);
            }
            if combination & 2 != 0 {
                args.push("--no-prompt");
            }
            if combination & 4 != 0 {
                args.push("--auto-refresh");
            }
            let what = args.join(" ");
            let script = world.run(&args).success().stdout;
            let left = placeholders_in(&script);
            assert!(left.is_empty(), "{what}: placeholders left: {left:?}");
            let markers: Vec<&str> = script
                .lines()
                .filter(|line| line.contains("# rolecall:"))
                .collect();
            assert!(markers.is_empty(), "{what}: marker lines left: {markers:?}");
            let mut check = match shell {
                "fish" => world.command(&fish),
                _ => world.command(&shellcheck),
            };
            match shell {
                "fish" => check.args(["--no-config", "--no-execute"]),
                _ => check.args(["-s", "bash", "-"]),
            };
            let checked = Run::feeding(check, &script);
            assert!(
                checked.status == Some(0) && checked.stderr.is_empty(),
                "{what}: not clean:\n{}{}",
                checked.stdout,
                checked.stderr
            );
            renderings.insert(script);
        }
        assert_eq!(
            renderings.len(),
            8,
            "{shell}: two combinations render alike"
        );
    }
}

#[test]
fn init_loads_silently_under_strict_modes_and_twice_adds_nothing_twice() {
    let world = World::with_endpoint("http://127.0.0.1:9");
    world.write_config(CONFIG);
    // Loading prints nothing at all, in a world without a config as well.
    let empty = World::with_endpoint("http://127.0.0.1:9");
    for shell in SHELLS {
        for flags in FLAG_SETS {
            let flags = flags.join(" ");
            let quiet = Shell::new(&empty, shell)
                .compinit()
                .init(&flags)
                .run("true")
                .success();
            assert_eq!(quiet.stdout, "", "{shell} {flags}");
            assert_eq!(quiet.stderr, "", "{shell} {flags}");
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
            let loaded = Shell::new(&world, shell).compinit().init(&flags);
            let once = loaded.run(count).success();
            assert!(once.stderr.is_empty(), "{shell} {flags}: {}", once.stderr);
            let again = loaded
                .run(&format!("{}\n{count}", twice.replace("FLAGS", &flags)))
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
fn assume_sets_exactly_the_designed_variables_in_each_shell() {
    let world = world();
    for shell in SHELLS {
        // What `assume` prints, evaluated as it is, over stale values it must clear.
        let body = [
            export(shell, "AWS_SECURITY_TOKEN", "stale"),
            export(shell, "AWS_DEFAULT_PROFILE", "stale"),
            export(shell, "AWS_PROFILE", "stale"),
            export(shell, "ROLECALL_PROFILE", "older"),
            export(
                shell,
                "ROLECALL_ROLE_ARN",
                "arn:aws:iam::999999999999:role/older",
            ),
            eval_assume(shell, "prod-admin"),
            "env -0".to_string(),
        ]
        .join("\n");
        let run = Shell::new(&world, shell).bare().run(&body).success();
        let env = environment_of(&run.stdout);
        assert!(
            run.stderr.starts_with("prod-admin (eu-west-1)"),
            "{shell}: {}",
            run.stderr
        );
        // The cache makes a second call answer with the same credentials, as JSON.
        let expected = world.run(&["assume", "--json", "-r", "eu-west-1", "prod-admin"]);
        let expected: BTreeMap<String, String> =
            serde_json::from_str(&expected.success().stdout).unwrap();
        for name in common::DESIGN_VARIABLES {
            assert_eq!(
                env.get(name),
                expected.get(name),
                "{shell}: {name} differs from the JSON output"
            );
            assert!(env.contains_key(name), "{shell}: {name} not set");
        }
        assert_eq!(
            env.get("ROLECALL_PREVIOUS").map(String::as_str),
            Some("older")
        );
        assert_eq!(
            env.get("ROLECALL_ROLE_ARN").map(String::as_str),
            Some("arn:aws:iam::111111111111:role/admin")
        );
        assert!(
            !env.contains_key("AWS_SECURITY_TOKEN"),
            "{shell}: stale token kept"
        );
        for name in common::NEVER_SET {
            assert!(!env.contains_key(name), "{shell}: {name} beside the keys");
        }

        // Through the function of the integration.
        let run = Shell::new(&world, shell)
            .compinit()
            .run("assume prod-admin\nenv -0")
            .success();
        let env = environment_of(&run.stdout);
        for name in common::DESIGN_VARIABLES {
            assert!(
                env.get(name).is_some_and(|v| !v.is_empty()),
                "{shell}: {name}"
            );
        }
        assert_eq!(env["ROLECALL_PROFILE"], "prod-admin");
        assert!(!env.contains_key("AWS_PROFILE"), "{shell}: AWS_PROFILE set");
        assert_eq!(env["AWS_REGION"], "eu-west-1");
        assert!(run
            .stderr
            .contains("prod-admin (eu-west-1) · role admin in 111111111111"));
    }
}

#[test]
fn unset_clears_every_variable_and_minus_returns_to_the_previous_target() {
    let world = world();
    let left_of = |env: &BTreeMap<String, String>| -> Vec<&str> {
        common::MANAGED_VARIABLES
            .into_iter()
            .filter(|name| env.contains_key(*name))
            .collect()
    };
    for shell in SHELLS {
        // What `assume --unset` prints, evaluated as it is.
        let body = [
            eval_assume(shell, "prod-admin"),
            eval_assume(shell, "--unset"),
            "env -0".to_string(),
        ]
        .join("\n");
        let run = Shell::new(&world, shell).bare().run(&body).success();
        let left = left_of(&environment_of(&run.stdout));
        assert!(left.is_empty(), "{shell}: {left:?} left after --unset");

        // Through the function, after going back and forth with `assume -`.
        let body = "assume prod-admin\nassume dev\nassume -\necho profile=$ROLECALL_PROFILE previous=$ROLECALL_PREVIOUS\n\
                    assume -\necho profile=$ROLECALL_PROFILE previous=$ROLECALL_PREVIOUS\n\
                    assume --unset\nenv -0";
        let run = Shell::new(&world, shell).compinit().run(body).success();
        // The echoed lines end where the last of them does; `env -0` follows.
        let last = run.stdout.rfind("previous=").unwrap();
        let (lines, env) = run
            .stdout
            .split_at(last + run.stdout[last..].find('\n').unwrap() + 1);
        assert!(
            lines.contains("profile=prod-admin previous=dev\nprofile=dev previous=prod-admin"),
            "{shell}: {lines}"
        );
        let left = left_of(&environment_of(env));
        assert!(left.is_empty(), "{shell}: {left:?} after --unset");
    }
}

#[test]
fn the_aws_cli_accepts_the_exported_variables_as_the_assumed_role() {
    require_tool("aws");
    let world = World::with_moto();
    world.write_config(ONE_HOP);
    world.write_credentials(BASE_KEYS);
    let body = format!(
        "{}\naws sts get-caller-identity --query Arn --output text >&2",
        eval_assume("bash", "demo-admin")
    );
    let run = Shell::new(&world, "bash").bare().run(&body).success();
    let arn = format!(
        "arn:aws:sts::111111111111:assumed-role/admin/{}",
        common::expected_session_name()
    );
    assert!(run.stderr.contains(&arn), "{}", run.stderr);
}

#[test]
fn the_aws_cli_uses_rolecall_as_a_credential_process() {
    require_tool("aws");
    let world = World::with_moto();
    world.write_config(&format!(
        "{ONE_HOP}[profile via-rolecall]\ncredential_process = rolecall credential-process demo-admin\nregion = us-east-1\n"
    ));
    world.write_credentials(BASE_KEYS);
    let mut command = world.command("aws");
    command.args([
        "--profile",
        "via-rolecall",
        "sts",
        "get-caller-identity",
        "--query",
        "Arn",
        "--output",
        "text",
    ]);
    let run = Run::of(command).success();
    assert_eq!(
        run.stdout.trim(),
        format!(
            "arn:aws:sts::111111111111:assumed-role/admin/{}",
            common::expected_session_name()
        )
    );
}

#[test]
fn on_a_terminal_assume_prints_no_secrets_only_the_setup() {
    require_tool("script");
    let world = World::with_moto();
    world.write_config(ONE_HOP);
    world.write_credentials(BASE_KEYS);
    let mut command = world.command("script");
    command.args([
        "-qec",
        "rolecall assume demo-admin --shell bash",
        "/dev/null",
    ]);
    let run = Run::of(command);
    assert_eq!(run.status, Some(2), "{}{}", run.stdout, run.stderr);
    assert!(
        run.stdout.contains("eval \"$(rolecall init bash)\""),
        "{}",
        run.stdout
    );
    assert!(!run.stdout.contains("AWS_SECRET_ACCESS_KEY"));
    assert!(!world.cache_dir().exists(), "nothing was fetched");
}

#[test]
fn sourcing_fish_output_directly_ends_with_success() {
    let world = World::with_moto();
    world.write_config(ONE_HOP);
    world.write_credentials(BASE_KEYS);
    let run = Shell::new(&world, "fish")
        .bare()
        .run("rolecall assume demo-admin --shell fish | source; echo status=$status >&2")
        .success();
    assert!(run.stderr.contains("status=0"), "{}", run.stderr);
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
        let run = Shell::new(&world, shell)
            .compinit()
            .init("--cmd become")
            .run(body)
            .success();
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
    let run = Shell::new(&world, "bash").run(body).success();
    let lines: Vec<&str> = run.stdout.lines().collect();
    assert_eq!(lines[0], "prod-admin,prod-readonly,");
    assert_eq!(lines[1], "prod-admin,prod-readonly,");
    assert_eq!(lines[2], "eu-west-1,eu-west-2,eu-west-3,");
    assert_eq!(lines[3], "--no-cache,--no-input,");
}

#[test]
fn fish_completion_lists_matching_profiles_with_descriptions() {
    let world = world();
    let run = Shell::new(&world, "fish")
        .run("complete -C 'assume pr'\necho ==\ncomplete -C 'rolecall assume pr'\necho ==\ncomplete -C 'assume -r us-west-'")
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
    let tmux = Shell::new(&world, "zsh")
        .before("PROMPT='%% '\nzstyle ':completion:*' format ''")
        .compinit()
        .terminal("");
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
        let run = Shell::new(&world, shell).compinit().run(body).success();
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
    for (shell, prompt) in [
        ("bash", "PS1='RC$ '"),
        ("zsh", "PROMPT='RC%% '"),
        ("fish", "function fish_prompt; echo -n 'RC> '; end"),
    ] {
        let tmux = Shell::new(&world, shell).before(prompt).terminal("");
        tmux.wait_for(&format!("a prompt from {shell}"), |s| s.contains("RC"));
        tmux.line("assume prod-admin");
        let screen = tmux.wait_for("the countdown", |s| {
            s.contains("[prod-admin 59m]") || s.contains("[prod-admin 1h00m]")
        });
        assert!(
            screen.contains("prod-admin (eu-west-1) · role admin"),
            "{screen}"
        );
        tmux.line("assume --unset; echo unset-done | tr a-z A-Z");
        let screen = tmux.wait_for_text("UNSET-DONE");
        let last_prompt = screen
            .lines()
            .rev()
            .find(|l| !l.trim().is_empty())
            .unwrap_or("");
        assert!(
            !last_prompt.contains("prod-admin"),
            "{shell}: {last_prompt}"
        );
    }
}

#[test]
fn the_picker_opens_on_the_terminal_and_assumes_the_choice() {
    let world = world();
    let tmux = Shell::new(&world, "bash").before("PS1='RC$ '").terminal("");
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
    let run = Shell::new(&world, "bash")
        .run(
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
    // For the integration, a second line: when the text next changes (the next whole minute).
    let stdout = Run::of(command).success().stdout;
    let (segment, until) = stdout.trim_end().split_once('\n').expect("two lines");
    assert_eq!(segment, "[dev 4m]");
    let now = chrono::Utc::now().timestamp();
    let until: i64 = until.parse().unwrap();
    assert!(until > now && until <= now + 61, "{until} vs {now}");
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
        let body = body.replace("CALLS", &log.display().to_string());
        let run = Shell::new(&world, shell)
            .init("--auto-refresh --no-prompt")
            .env("PATH", &path)
            .run(&body)
            .success();
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
    let run = Shell::new(&world, "bash")
        .init("--auto-refresh")
        .run(body)
        .success();
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
    // The body loads the integration itself, after the aliases, as `\eval "$(\command …)"`.
    let body = "shopt -s expand_aliases\nalias eval='echo broken-eval'\nalias rolecall='echo broken-rolecall'\n\
                alias test='echo broken-test'\nalias return='echo broken-return'\nalias local='echo broken-local'\n\
                alias assume='. assume'\nalias export='echo leaked'\nalias unset='echo broken-unset'\n\
                \\eval \"$(\\command rolecall init bash --auto-refresh)\"\nassume prod-admin\necho profile=$ROLECALL_PROFILE\n\
                __rolecall_hook\necho a b\necho \"last=$_\"";
    let run = Shell::new(&world, "bash").bare().run(body).success();
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
    let run = Shell::new(&world, "bash")
        .run("assume --help\necho after=${ROLECALL_PROFILE-none}")
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
    // Loaded once already; the alias comes before the second load.
    let run = Shell::new(&world, "zsh")
        .compinit()
        .run("alias assume='. assume'\neval \"$(rolecall init zsh)\"\nassume prod-admin\necho profile=$ROLECALL_PROFILE")
        .success();
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
        ("bash", "PS1='$ '", "__rolecall_hook"),
        ("zsh", "PROMPT='%% '", "__rolecall_precmd"),
        ("fish", "", "fish_prompt >/dev/null"),
    ];
    for (shell, prompt, draw) in draws {
        let _ = std::fs::remove_file(&log);
        let body = format!(
            "{prompt}\n{}\n{draw}\n{draw}\n{draw}\n{}\n{draw}\n",
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
        Shell::new(&world, shell)
            .env("PATH", &path)
            .run(&body)
            .success();
        let calls = std::fs::read_to_string(&log).unwrap_or_default();
        let prompts = calls.lines().filter(|l| l.starts_with("prompt")).count();
        assert_eq!(
            prompts, 2,
            "{shell}: three draws of one session, then a new one: {calls:?}"
        );
    }
}
