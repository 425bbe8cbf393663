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

/// Inside `exec --server`: asks for credentials, waits until they are within the margin of
/// their expiry, asks again (renewed: a new key), waits again, then asks 32 times at once (one
/// renewal: one key for all). Prints the three keys' counts.
const ASK_ACROSS_EXPIRIES: &str = r#"
import datetime, json, os, threading, time, urllib.request
url = os.environ["AWS_CONTAINER_CREDENTIALS_FULL_URI"]
token = os.environ["AWS_CONTAINER_AUTHORIZATION_TOKEN"]
margin = int(os.environ["ROLECALL_SERVER_MARGIN"])
def ask():
    request = urllib.request.Request(url, headers={"Authorization": token})
    with urllib.request.urlopen(request, timeout=10) as answer:
        return json.load(answer)
def wait_into_margin(answer):
    expires = datetime.datetime.fromisoformat(answer["Expiration"].replace("Z", "+00:00"))
    left = (expires - datetime.datetime.now(datetime.timezone.utc)).total_seconds()
    time.sleep(max(0.0, left - margin + 1.0))
first = ask()
wait_into_margin(first)
second = ask()
wait_into_margin(second)
keys = []
threads = [threading.Thread(target=lambda: keys.append(ask()["AccessKeyId"])) for _ in range(32)]
for thread in threads: thread.start()
for thread in threads: thread.join()
print("first", first["AccessKeyId"])
print("second", second["AccessKeyId"])
print("together", sorted(set(keys)), len(keys))
"#;

#[test]
fn a_command_asking_across_expiries_gets_renewed_credentials_once_for_requests_at_once() {
    use crate::common::fake_sts::{Behaviour, FakeSts};
    let sts = FakeSts::start(Behaviour::Lasting(6));
    let world = World::with_endpoint(&sts.endpoint);
    world.write_config(ONE_HOP);
    world.write_credentials(BASE_KEYS);
    let mut command = world.rolecall(&["exec", "--server", "demo-admin", "--"]);
    command
        .env("ROLECALL_SERVER_MARGIN", "3")
        .arg(common::test_python())
        .args(["-c", ASK_ACROSS_EXPIRIES]);
    let run = Run::of(command).success();
    let key = |label: &str| {
        run.stdout
            .lines()
            .find_map(|l| l.strip_prefix(label))
            .unwrap_or_else(|| panic!("no {label}in {}", run.stdout))
            .to_string()
    };
    let (first, second) = (key("first "), key("second "));
    assert_ne!(first, second, "not renewed across the margin");
    let together = key("together ");
    assert!(
        together.ends_with("] 32") && !together.contains(','),
        "32 requests at once got more than one key: {together}"
    );
    assert!(
        !together.contains(&second),
        "not renewed the second time: {together}"
    );
    // The first assume, and one renewal each time: three AssumeRole calls in all.
    let assumed = sts.actions().iter().filter(|a| *a == "AssumeRole").count();
    assert_eq!(assumed, 3, "{:?}", sts.actions());
}

#[test]
fn a_signal_sent_to_rolecall_reaches_the_command_whose_status_is_rolecalls() {
    let world = server_world();
    // The handler writes with os.write: the signal can arrive while `print('ready')` is still
    // returning (its bytes are already in the pipe), and a print inside it would then be a
    // reentrant call into stdout's buffer, which Python refuses.
    let script = "import os, signal, time\n\
                  def leave(number, frame):\n    os.write(1, b'got %d\\n' % number)\n    os._exit(5)\n\
                  signal.signal(signal.SIGTERM, leave)\nprint('ready', flush=True)\ntime.sleep(30)\n";
    let mut command = world.rolecall(&["exec", "--server", "demo-admin", "--"]);
    command
        .arg(common::test_python())
        .args(["-c", script])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped());
    let mut child = command.spawn().unwrap();
    let mut stdout = std::io::BufReader::new(child.stdout.take().unwrap());
    let mut line = String::new();
    std::io::BufRead::read_line(&mut stdout, &mut line).unwrap();
    assert_eq!(line, "ready\n");
    // SAFETY: kill with a process ID this test started.
    unsafe { libc::kill(child.id() as i32, libc::SIGTERM) };
    let status = child.wait().unwrap();
    let mut rest = String::new();
    std::io::Read::read_to_string(&mut stdout, &mut rest).unwrap();
    assert_eq!(rest, format!("got {}\n", libc::SIGTERM));
    assert_eq!(status.code(), Some(5));
}
