//! What `assume` prints, evaluated by the real bash, zsh and fish, and the result used by the
//! real AWS CLI.

use crate::common::fake_sts::{Behaviour, FakeSts};
use crate::common::{self, require_tool, Run, World, BASE_KEYS, ONE_HOP};
use std::collections::HashMap;

const SHELLS: [&str; 3] = ["bash", "zsh", "fish"];

/// Runs `body` in a fresh, non-interactive `shell` of `world` with strict options where the
/// shell has them, and returns the environment the shell ends with.
fn shell_environment(world: &World, shell: &str, body: &str) -> (Run, HashMap<String, String>) {
    let program = require_tool(shell);
    let mut command = world.command(program);
    match shell {
        "bash" => command.args(["--norc", "--noprofile", "-eu", "-c"]),
        "zsh" => command.args(["--no-rcs", "-eu", "-c"]),
        _ => command.args(["--no-config", "-c"]),
    };
    command.arg(format!("{body}\nenv -0"));
    let run = Run::of(command).success();
    let environment = run
        .stdout
        .split('\0')
        .filter_map(|pair| pair.split_once('='))
        .map(|(name, value)| (name.to_string(), value.to_string()))
        .collect();
    (run, environment)
}

fn eval_assume(shell: &str, args: &str) -> String {
    match shell {
        "fish" => format!("rolecall assume {args} --shell fish | source"),
        _ => format!("eval \"$(rolecall assume {args} --shell {shell})\""),
    }
}

fn export(shell: &str, name: &str, value: &str) -> String {
    match shell {
        "fish" => format!("set -gx {name} {value}"),
        _ => format!("export {name}={value}"),
    }
}

#[test]
fn each_shell_ends_with_exactly_the_designed_variables() {
    let world = World::with_moto();
    world.write_config(ONE_HOP);
    world.write_credentials(BASE_KEYS);
    for shell in SHELLS {
        let body = [
            export(shell, "AWS_SECURITY_TOKEN", "stale"),
            export(shell, "AWS_DEFAULT_PROFILE", "stale"),
            export(shell, "ROLECALL_PROFILE", "older"),
            export(
                shell,
                "ROLECALL_ROLE_ARN",
                "arn:aws:iam::999999999999:role/older",
            ),
            eval_assume(shell, "demo-admin"),
        ]
        .join("\n");
        let (run, env) = shell_environment(&world, shell, &body);
        assert!(
            run.stderr.starts_with("demo-admin (eu-west-1)"),
            "{shell}: {}",
            run.stderr
        );
        // The cache makes a second call answer with the same credentials, as JSON.
        let expected = world.run(&["assume", "--json", "-r", "eu-west-1", "demo-admin"]);
        let expected: HashMap<String, String> =
            serde_json::from_str::<HashMap<String, String>>(&expected.success().stdout).unwrap();
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
        assert!(
            !env.contains_key("AWS_DEFAULT_PROFILE"),
            "{shell}: stale profile kept"
        );
    }
}

#[test]
fn unset_removes_every_variable_in_each_shell() {
    let world = World::with_moto();
    world.write_config(ONE_HOP);
    world.write_credentials(BASE_KEYS);
    for shell in SHELLS {
        let unset = match shell {
            "fish" => "rolecall assume --unset --shell fish | source".to_string(),
            _ => format!("eval \"$(rolecall assume --unset --shell {shell})\""),
        };
        let body = [eval_assume(shell, "demo-admin"), unset].join("\n");
        let (_, env) = shell_environment(&world, shell, &body);
        let left: Vec<_> = common::MANAGED_VARIABLES
            .iter()
            .filter(|k| env.contains_key(**k))
            .collect();
        assert!(left.is_empty(), "{shell}: {left:?} left after --unset");
    }
}

#[test]
fn hostile_values_from_sts_are_inert_in_each_shell() {
    let secret = "a'b\"c$(touch pwned)`touch pwned2`\\n%s\\\n\ttab;rm -rf x|&<>*?~!#";
    let token = "tok\u{e9}n with spaces \u{7f}[31m and $HOME and ${HOME} and \\'";
    let sts = FakeSts::start(Behaviour::Grant {
        access_key_id: "ASIA$(touch pwned3)".into(),
        secret_access_key: secret.into(),
        session_token: token.into(),
    });
    let world = World::with_endpoint(&sts.endpoint);
    world.write_config(ONE_HOP);
    world.write_credentials(BASE_KEYS);
    for shell in SHELLS {
        let (run, env) = shell_environment(&world, shell, &eval_assume(shell, "demo-admin"));
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
    let (run, _) = shell_environment(&world, "bash", &body);
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
    let (run, _) = shell_environment(
        &world,
        "fish",
        "rolecall assume demo-admin --shell fish | source; echo status=$status >&2",
    );
    assert!(run.stderr.contains("status=0"), "{}", run.stderr);
}
