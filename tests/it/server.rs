//! `rolecall exec --server`: the command gets a loopback credentials endpoint (the container
//! credentials protocol) instead of fixed keys, checked with clients we did not write (the AWS
//! CLI, Python's urllib).

use crate::common::{self, require_tool, Run, World, BASE_KEYS, ONE_HOP};
use std::os::unix::process::CommandExt;

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

/// Python that the scripts below start with: the endpoint's address and token, and `ask()`,
/// which returns the status and the answer's JSON (None when refused) or the name of the
/// error that ended the request.
const ASKING: &str = r#"
import json, os, sys, time, urllib.error, urllib.request
url = os.environ["AWS_CONTAINER_CREDENTIALS_FULL_URI"]
token = os.environ["AWS_CONTAINER_AUTHORIZATION_TOKEN"]
port = int(url.rstrip("/").rsplit(":", 1)[1])
def ask(timeout=5):
    request = urllib.request.Request(url, headers={"Authorization": token})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as answer:
            return answer.status, json.load(answer)
    except urllib.error.HTTPError as refused:
        return refused.code, None
    except Exception as error:
        return type(error).__name__, None
"#;

/// `rolecall exec --server demo-admin -- python -c ASKING+script`.
fn inside_server(world: &World, script: &str) -> std::process::Command {
    let mut command = world.rolecall(&["exec", "--server", "demo-admin", "--"]);
    command
        .arg(common::test_python())
        .args(["-c", &format!("{ASKING}{script}")]);
    command
}

/// Sends a request's head a byte a second, well inside any per-read limit, for up to 20 s, and
/// prints when the endpoint closed the connection; then asks as a client would.
const TRICKLE: &str = r#"
import select, socket
trickle = socket.create_connection(("127.0.0.1", port), timeout=5)
trickle.sendall(b"GET / HTTP/1.1\r\nX-Slow: ")
started = time.monotonic()
verdict = "still open after 20 s"
while time.monotonic() - started < 20:
    try:
        readable, _, _ = select.select([trickle], [], [], 1.0)
        if readable and trickle.recv(1024) == b"":
            raise ConnectionResetError
        trickle.send(b"a")
    except OSError:
        verdict = "closed after %d s" % round(time.monotonic() - started)
        break
print(verdict)
print("then", ask()[0])
"#;

#[test]
fn a_request_that_trickles_in_is_dropped_at_the_deadline() {
    let world = server_world();
    let run = Run::of(inside_server(&world, TRICKLE)).success();
    let seconds: u64 = run
        .stdout
        .lines()
        .find_map(|l| l.strip_prefix("closed after "))
        .and_then(|rest| rest.strip_suffix(" s"))
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("the trickling request was not dropped: {}", run.stdout));
    // The deadline is 5 s for the whole connection; the rest is slack for a loaded machine.
    assert!(seconds <= 12, "dropped only after {seconds} s");
    assert!(run.stdout.contains("then 200\n"), "{}", run.stdout);
}

/// Another local user's flood, run as nobody: as many connections as it can open (up to the
/// count in argv[2]) to the port in argv[1], each sent a request line and then a byte every
/// 2 s so that no per-read limit ends it; it prints `ready` once they are all started and
/// gives up after 30 s.
const FLOOD: &str = r#"
import resource, select, socket, sys, time
port, count = int(sys.argv[1]), int(sys.argv[2])
_, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
resource.setrlimit(resource.RLIMIT_NOFILE, (min(hard, count + 64), hard))
poller = select.poll()
sockets = {}
for _ in range(count):
    connection = socket.socket()
    connection.setblocking(False)
    connection.connect_ex(("127.0.0.1", port))
    sockets[connection.fileno()] = connection
    poller.register(connection, select.POLLOUT)
started = set()
deadline = time.monotonic() + 5
while len(started) < len(sockets) and time.monotonic() < deadline:
    for fd, _ in poller.poll(500):
        poller.unregister(fd)
        started.add(fd)
print("ready", len(started), flush=True)
until = time.monotonic() + 30
line = b"GET / HTTP/1.1\r\n"
while sockets and time.monotonic() < until:
    for fd, connection in list(sockets.items()):
        try:
            connection.send(line)
        except OSError:
            del sockets[fd]
    line = b"a"
    time.sleep(2)
"#;

/// Inside `exec --server`, as the person: starts FLOOD as nobody, then asks with the token
/// every 2 s while the flood's connections are accepted (or refused) and trickle on.
const UNDER_A_FLOOD: &str = r#"
import subprocess
flood = subprocess.Popen(
    [os.environ["SETPRIV"], "--reuid=65534", "--regid=65534", "--clear-groups",
     os.environ["OTHERS_PYTHON"], "-c", os.environ["FLOOD"], str(port), "1100"],
    stdout=subprocess.PIPE, text=True)
print(flood.stdout.readline().strip(), flush=True)
answers = []
for _ in range(4):
    answers.append(str(ask(timeout=5)[0]))
    time.sleep(2)
print("own", " ".join(answers), flush=True)
flood.kill()
flood.wait()
"#;

#[test]
fn a_flood_of_slow_connections_from_another_user_leaves_the_commands_requests_answered() {
    let world = server_world();
    let mut command = inside_server(&world, UNDER_A_FLOOD);
    command
        .env("SETPRIV", require_tool("setpriv"))
        .env("OTHERS_PYTHON", python_for_other_users())
        .env("FLOOD", FLOOD);
    // rolecall gets 1,024 descriptors, fewer than the flood's connections.
    // SAFETY: getrlimit and setrlimit are async-signal-safe and touch only the child.
    unsafe {
        command.pre_exec(|| {
            let mut limit: libc::rlimit = std::mem::zeroed();
            libc::getrlimit(libc::RLIMIT_NOFILE, &mut limit);
            limit.rlim_cur = 1024;
            if libc::setrlimit(libc::RLIMIT_NOFILE, &limit) != 0 {
                return Err(std::io::Error::last_os_error());
            }
            Ok(())
        });
    }
    let run = Run::of(command).success();
    assert!(run.stdout.contains("ready "), "{}", run.stdout);
    assert!(
        run.stdout.contains("own 200 200 200 200\n"),
        "the command's own request was not answered: {}\n{}",
        run.stdout,
        run.stderr
    );
    eprintln!("OUT {}", run.stdout);
    run.stderr_has("refused a connection from another user (uid 65534)");
}

/// Starts threads until the process limit refuses one (at most 400), asks three times while
/// they all run, then lets them go.
const AT_THE_PROCESS_LIMIT: &str = r#"
import threading
release = threading.Event()
threads = []
while len(threads) < 400:
    thread = threading.Thread(target=release.wait)
    try:
        thread.start()
    except RuntimeError:
        break
    threads.append(thread)
print("threads", len(threads), flush=True)
answers = [str(ask(timeout=3)[0]) for _ in range(3)]
release.set()
for thread in threads:
    thread.join()
print("answers", " ".join(answers))
"#;

/// The system's python, for processes of other uids (the stdlib is all they need): the test
/// python may live under root's home, where no other user may look.
fn python_for_other_users() -> &'static str {
    const PYTHON: &str = "/usr/bin/python3";
    assert!(
        std::path::Path::new(PYTHON).is_file(),
        "{PYTHON} is missing: install python3 (scripts/test installs python3-venv, which needs it)"
    );
    PYTHON
}

/// A uid of its own for the process-limit test: the limit counts every process of the user,
/// so nobody (the other tests' attacker) would share it. Root ignores the limit, so rolecall
/// itself runs as this uid.
const LIMITED_UID: u32 = 65533;

#[test]
fn a_process_limit_reached_while_serving_does_not_end_the_endpoint() {
    let world = server_world();
    // The world's HOME becomes that user's, as a HOME is.
    let chowned = std::process::Command::new("chown")
        .arg("-R")
        .arg(format!("{LIMITED_UID}:{LIMITED_UID}"))
        .arg(world.home())
        .status()
        .expect("run chown");
    assert!(chowned.success(), "chown: {chowned}");
    let mut command = world.command(require_tool("setpriv"));
    command
        .args([
            &format!("--reuid={LIMITED_UID}"),
            &format!("--regid={LIMITED_UID}"),
            "--clear-groups",
            common::BIN,
            "exec",
            "--server",
            "demo-admin",
            "--",
        ])
        .arg(python_for_other_users())
        .args(["-c", &format!("{ASKING}{AT_THE_PROCESS_LIMIT}")]);
    // SAFETY: setrlimit is async-signal-safe and touches only the child.
    unsafe {
        command.pre_exec(|| {
            let limit = libc::rlimit {
                rlim_cur: 40,
                rlim_max: 40,
            };
            if libc::setrlimit(libc::RLIMIT_NPROC, &limit) != 0 {
                return Err(std::io::Error::last_os_error());
            }
            Ok(())
        });
    }
    let run = Run::of(command).success();
    let threads: usize = run
        .stdout
        .lines()
        .find_map(|l| l.strip_prefix("threads "))
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("{}\n{}", run.stdout, run.stderr));
    assert!(threads < 400, "the process limit was never reached");
    assert!(
        run.stdout.contains("answers 200 200 200\n"),
        "{}\n{}",
        run.stdout,
        run.stderr
    );
}

/// Asks once, waits until the credentials are inside the margin, then asks every quarter
/// second until 2 s after they expired; prints each answer as `left status key`.
const ACROSS_A_FAILING_RENEWAL: &str = r#"
import datetime
margin = int(os.environ["ROLECALL_SERVER_MARGIN"])
status, first = ask()
expires = datetime.datetime.fromisoformat(first["Expiration"].replace("Z", "+00:00")).timestamp()
print("first", first["AccessKeyId"])
time.sleep(max(0.0, expires - time.time() - margin + 0.5))
while time.time() < expires + 2:
    status, answer = ask()
    print("%.1f %s %s" % (expires - time.time(), status, answer and answer["AccessKeyId"]))
    time.sleep(0.25)
"#;

#[test]
fn a_failing_renewal_serves_the_held_credentials_until_they_expire_and_retries_seldom() {
    use crate::common::fake_sts::{Behaviour, FakeSts};
    let sts = FakeSts::start(Behaviour::Sequence(vec![
        Behaviour::Lasting(10),
        Behaviour::sts_error(403, "AccessDenied", "the role's trust policy changed"),
    ]));
    let world = World::with_endpoint(&sts.endpoint);
    world.write_config(ONE_HOP);
    world.write_credentials(BASE_KEYS);
    let mut command = inside_server(&world, ACROSS_A_FAILING_RENEWAL);
    command.env("ROLECALL_SERVER_MARGIN", "7");
    let run = Run::of(command).success();
    let first = run
        .stdout
        .lines()
        .find_map(|l| l.strip_prefix("first "))
        .unwrap_or_else(|| panic!("{}\n{}", run.stdout, run.stderr));
    let answers: Vec<(f64, &str, &str)> = run
        .stdout
        .lines()
        .filter(|l| !l.starts_with("first "))
        .map(|l| {
            let mut fields = l.split(' ');
            let left = fields.next().unwrap().parse().unwrap();
            (left, fields.next().unwrap(), fields.next().unwrap())
        })
        .collect();
    // A second either side of the expiry is the clock's and the Expiration's rounding.
    let valid: Vec<_> = answers.iter().filter(|a| a.0 >= 1.0).collect();
    let expired: Vec<_> = answers.iter().filter(|a| a.0 <= -1.0).collect();
    assert!(
        valid.len() >= 3,
        "too few answers inside the margin: {}",
        run.stdout
    );
    assert!(
        valid.iter().all(|a| a.1 == "200" && a.2 == first),
        "refused or changed while the held credentials were valid:\n{}",
        run.stdout
    );
    assert!(
        !expired.is_empty() && expired.iter().all(|a| a.1 == "503"),
        "not refused once they expired:\n{}",
        run.stdout
    );
    // The first assume, then a renewal at most every 5 s however many requests came.
    let assumed = sts.actions().iter().filter(|a| *a == "AssumeRole").count();
    assert!(
        (2..=4).contains(&assumed),
        "{assumed} AssumeRole calls for {} requests",
        answers.len()
    );
    assert_eq!(
        run.stderr
            .matches("could not renew the credentials")
            .count(),
        1,
        "{}",
        run.stderr
    );
}
