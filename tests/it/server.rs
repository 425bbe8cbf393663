//! `rolecall exec --server`: the command gets a loopback credentials endpoint (the container
//! credentials protocol) instead of fixed keys, checked with clients we did not write (the AWS
//! CLI, Python's urllib).

use crate::common::{self, require_tool, Run, World, BASE_KEYS, ONE_HOP};

/// A world at moto with `demo-admin`, and a `[default]` profile of keys that an SDK would take
/// before it asked any endpoint.
fn server_world() -> World {
    let world = World::with_moto();
    world.write_config(ONE_HOP);
    world.write_credentials(&format!(
        "[default]\naws_access_key_id = AKIADEFAULTKEYS00000\naws_secret_access_key = \
         not-the-role\n{BASE_KEYS}"
    ));
    world
}

#[test]
fn the_aws_cli_inside_uses_the_endpoint_even_with_default_keys_in_the_files() {
    let world = server_world();
    let aws = require_tool("aws");
    let mut command = world.rolecall(&["exec", "--server", "demo-admin", "--"]);
    command.arg(&aws).args([
        "sts",
        "get-caller-identity",
        "--query",
        "Arn",
        "--output",
        "text",
    ]);
    let run = Run::of(command).success();
    assert!(
        run.stdout.contains("assumed-role/admin/"),
        "the CLI did not sign as the role: {}",
        run.stdout
    );
}

/// A Python program run inside `exec --server`: it asks the endpoint without a token, with a
/// wrong one and with the right one, prints each status and what the right one gave, then
/// exits 7.
const ASK_THE_ENDPOINT: &str = r#"
import json, os, sys, urllib.request, urllib.error
url = os.environ["AWS_CONTAINER_CREDENTIALS_FULL_URI"]
token = os.environ["AWS_CONTAINER_AUTHORIZATION_TOKEN"]
assert "AWS_ACCESS_KEY_ID" not in os.environ and "AWS_PROFILE" not in os.environ
def ask(authorization):
    request = urllib.request.Request(url)
    if authorization is not None:
        request.add_header("Authorization", authorization)
    try:
        with urllib.request.urlopen(request, timeout=5) as answer:
            return answer.status, json.load(answer)
    except urllib.error.HTTPError as refused:
        return refused.code, refused.read().decode()
print("missing", ask(None)[0])
print("wrong", ask(token[:-1] + ("A" if token[-1] != "A" else "B"))[0])
status, body = ask(token)
print("right", status, sorted(body), body["AccessKeyId"][:4])
print("url", url)
sys.exit(7)
"#;

#[test]
fn the_endpoint_wants_its_token_answers_the_protocol_and_ends_with_the_command() {
    let world = server_world();
    let mut command = world.rolecall(&["exec", "--server", "demo-admin", "--"]);
    command
        .arg(common::test_python())
        .args(["-c", ASK_THE_ENDPOINT]);
    let run = Run::of(command).failure_allowing_output(7);
    assert!(run.stdout.contains("missing 403\n"), "{}", run.stdout);
    assert!(run.stdout.contains("wrong 403\n"), "{}", run.stdout);
    assert!(
        run.stdout
            .contains("right 200 ['AccessKeyId', 'Expiration', 'SecretAccessKey', 'Token'] ASIA\n"),
        "{}",
        run.stdout
    );
    let url = run
        .stdout
        .lines()
        .find_map(|l| l.strip_prefix("url "))
        .expect("the endpoint's URL");
    let address = url
        .trim_start_matches("http://")
        .trim_end_matches('/')
        .to_string();
    assert!(address.starts_with("127.0.0.1:"), "{address}");
    // The command has ended: so has the endpoint.
    assert!(
        std::net::TcpStream::connect(&address).is_err(),
        "{address} still answers after the command ended"
    );
}
