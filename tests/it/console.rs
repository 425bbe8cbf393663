//! `rolecall console` against its contract (issue 13): the credentials a target resolves to
//! (moto_server's, through the same engine and cache as `assume`) exchanged for a sign-in token
//! at the tests' own federation endpoint (`common/fake_signin.rs`: moto has none), and the login
//! URL built from it, printed with `--url` or given to a `$BROWSER` script that logs it. Every URL
//! is taken apart with the `url` crate rather than compared as text, so an encoding that smuggles
//! a parameter in shows as an extra or changed parameter.

use crate::common::fake_signin::{Answer, FakeSignin, SigninRequest};
use crate::common::fake_sso::FakeSso;
use crate::common::{self, Run, World, BASE_KEYS, ONE_HOP};
use std::path::PathBuf;
use std::process::Command;
use std::time::{Duration, Instant};
use url::Url;

/// Besides `base` (long-term keys, no role) and `demo-admin` (a role on them): a role on that
/// role, a role on the keys behind an MFA session, long-term keys with an MFA device and no
/// role, a role whose region carries a URL parameter, and a role whose name is made of the
/// characters a profile name may hold that mean something in a URL.
const MORE_PROFILES: &str = "[profile chained]\nrole_arn = arn:aws:iam::222222222222:role/two\n\
source_profile = demo-admin\n\
[profile mfa-admin]\nrole_arn = arn:aws:iam::111111111111:role/admin\nsource_profile = base\n\
mfa_serial = arn:aws:iam::000000000000:mfa/ana\n\
[profile keys-mfa]\nregion = eu-west-1\nmfa_serial = arn:aws:iam::000000000000:mfa/ana\n\
[profile evil-region]\nrole_arn = arn:aws:iam::111111111111:role/admin\nsource_profile = base\n\
region = eu-west-1&Issuer=evil\n\
[profile a%26Issuer%3Devil%23x/..@:+]\nrole_arn = arn:aws:iam::111111111111:role/admin\n\
source_profile = base\n";

/// `keys-mfa`'s own long-term keys.
const MFA_KEYS: &str = "[keys-mfa]\naws_access_key_id = AKIAI44QH8DHBEXAMPLE\n\
aws_secret_access_key = je7MtGbClwBF/2Zp9Utk/h3yCo8nvbEXAMPLEKEY\n";

/// The profile whose name is made of URL syntax.
const URL_SYNTAX_PROFILE: &str = "a%26Issuer%3Devil%23x/..@:+";

struct Console {
    world: World,
    signin: FakeSignin,
    browser_log: PathBuf,
    browser: PathBuf,
}

fn console_world() -> Console {
    let world = World::with_moto();
    world.write_config(&format!("{ONE_HOP}{MORE_PROFILES}"));
    world.write_credentials(&format!("{BASE_KEYS}{MFA_KEYS}"));
    let browser_log = world.home().join("browser.log");
    let browser = common::logging_browser(&world, &browser_log);
    Console {
        world,
        signin: FakeSignin::start(),
        browser_log,
        browser,
    }
}

impl Console {
    /// `rolecall console ARGS` signing in at the fake, with the logging browser.
    fn console(&self, args: &[&str]) -> Command {
        let mut command = self.world.rolecall(&["console"]);
        command
            .args(args)
            .env("ROLECALL_SIGNIN_URL", &self.signin.endpoint)
            .env("BROWSER", &self.browser);
        command
    }

    fn run(&self, args: &[&str]) -> Run {
        Run::of(self.console(args))
    }

    /// `rolecall console ARGS` holding `credentials` in its environment.
    fn run_on_environment(&self, credentials: &serde_json::Value, args: &[&str]) -> Run {
        let mut command = self.console(args);
        hold(&mut command, credentials);
        Run::of(command)
    }

    /// What `rolecall assume --json ARGS` exports.
    fn assume(&self, args: &[&str]) -> serde_json::Value {
        let mut all = vec!["assume", "--json"];
        all.extend_from_slice(args);
        self.world.run(&all).success().json()
    }

    /// `console --url ARGS`, which must succeed and print one line: the URL.
    fn url(&self, args: &[&str]) -> String {
        let mut all = vec!["--url"];
        all.extend_from_slice(args);
        let run = self.run(&all).success();
        assert_no_token_on_stderr(&run, &self.signin);
        one_line(&run.stdout)
    }

    /// The URLs the browser was given so far, without waiting: for a test that expects none.
    fn opened_now(&self) -> Vec<String> {
        let text = std::fs::read_to_string(&self.browser_log).unwrap_or_default();
        text.lines().map(String::from).collect()
    }

    /// The URLs the browser was given, waiting a little for the first: the browser may still be
    /// starting when rolecall returns.
    fn browser_urls(&self) -> Vec<String> {
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            let text = std::fs::read_to_string(&self.browser_log).unwrap_or_default();
            if !text.is_empty() || Instant::now() > deadline {
                return text.lines().map(String::from).collect();
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

/// Puts `credentials` (from `assume --json`) in `command`'s environment as a shell that assumed
/// them holds them: the keys and the session token, nothing naming a profile.
fn hold(command: &mut Command, credentials: &serde_json::Value) {
    for name in [
        "AWS_ACCESS_KEY_ID",
        "AWS_SECRET_ACCESS_KEY",
        "AWS_SESSION_TOKEN",
    ] {
        command.env(name, credentials[name].as_str().unwrap());
    }
}

/// The single line of `stdout`, which must end with a newline and hold no other.
fn one_line(stdout: &str) -> String {
    let line = stdout
        .strip_suffix('\n')
        .unwrap_or_else(|| panic!("not one line ending in a newline: {stdout:?}"));
    assert!(!line.contains('\n'), "more than one line: {stdout:?}");
    line.to_string()
}

/// The sign-in token and the URL that carries it are for stdout when asked for, nowhere else.
fn assert_no_token_on_stderr(run: &Run, signin: &FakeSignin) {
    for token in signin.issued() {
        assert!(
            !run.stderr.contains(&token),
            "the token on stderr:\n{}",
            run.stderr
        );
    }
    for part in ["SigninToken", "Action=login"] {
        assert!(
            !run.stderr.contains(part),
            "the URL on stderr:\n{}",
            run.stderr
        );
    }
}

/// A login URL taken apart, its parts checked against the contract.
struct Login {
    token: String,
    destination: Url,
}

/// The SigninToken of a login URL, taken apart.
fn token_of(text: &str) -> Option<String> {
    let url = Url::parse(text).unwrap_or_else(|e| panic!("not a URL ({e}): {text}"));
    url.query_pairs()
        .find(|(name, _)| name == "SigninToken")
        .map(|(_, value)| value.into_owned())
}

/// Checks `text` is `<endpoint>?Action=login&Issuer=rolecall&Destination=…&SigninToken=…` at
/// the fake's endpoint, each parameter once and no other, with the last token the fake issued.
fn parse_login(text: &str, signin: &FakeSignin) -> Login {
    let url = Url::parse(text).unwrap_or_else(|e| panic!("not a URL ({e}): {text}"));
    let endpoint = Url::parse(&signin.endpoint).unwrap();
    assert_eq!(url.scheme(), endpoint.scheme(), "{text}");
    assert_eq!(url.host_str(), endpoint.host_str(), "{text}");
    assert_eq!(url.port(), endpoint.port(), "{text}");
    assert_eq!(url.path(), endpoint.path(), "{text}");
    // The console URL's `#logsV2:` belongs inside Destination, percent-encoded.
    assert_eq!(url.fragment(), None, "{text}");
    assert_values_encoded(&url);
    let pairs: Vec<(String, String)> = url.query_pairs().into_owned().collect();
    let mut names: Vec<&str> = pairs.iter().map(|(name, _)| name.as_str()).collect();
    names.sort();
    assert_eq!(
        names,
        ["Action", "Destination", "Issuer", "SigninToken"],
        "{text}"
    );
    let value = |name: &str| {
        pairs
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.clone())
            .unwrap()
    };
    assert_eq!(value("Action"), "login", "{text}");
    assert_eq!(value("Issuer"), "rolecall", "{text}");
    let token = value("SigninToken");
    assert_eq!(
        Some(&token),
        signin.issued().last(),
        "not the token the fake issued last: {text}"
    );
    let destination = value("Destination");
    let destination =
        Url::parse(&destination).unwrap_or_else(|e| panic!("Destination not a URL ({e}): {text}"));
    Login { token, destination }
}

/// Checks no value of `url`'s query holds `=`, `?`, `#` or a space as it is: the contract has
/// every value percent-encoded by a URL library. Taking the URL apart cannot tell, since a
/// parser leaves an unencoded console URL's `?region=…` inside the Destination value.
fn assert_values_encoded(url: &Url) {
    for pair in url.query().unwrap_or_default().split('&') {
        let (name, value) = pair.split_once('=').unwrap_or((pair, ""));
        assert!(
            !value.contains(['=', '?', '#', ' ']),
            "{name}'s value is not percent-encoded in {url}"
        );
    }
}

/// Checks a console URL: https, this host and path, `region=REGION` as its whole query, and this
/// fragment.
fn assert_console(destination: &Url, host: &str, path: &str, region: &str, fragment: Option<&str>) {
    assert_eq!(destination.scheme(), "https", "{destination}");
    assert_eq!(destination.host_str(), Some(host), "{destination}");
    assert_eq!(destination.port(), None, "{destination}");
    assert_eq!(destination.path(), path, "{destination}");
    let query: Vec<(String, String)> = destination.query_pairs().into_owned().collect();
    assert_eq!(
        query,
        [("region".to_string(), region.to_string())],
        "{destination}"
    );
    assert_eq!(destination.fragment(), fragment, "{destination}");
}

/// The credentials a sign-in request carried, as `assume --json` names them.
fn assert_session_is(request: &SigninRequest, credentials: &serde_json::Value) {
    let session = request.session();
    let expected = serde_json::json!({
        "sessionId": credentials["AWS_ACCESS_KEY_ID"],
        "sessionKey": credentials["AWS_SECRET_ACCESS_KEY"],
        "sessionToken": credentials["AWS_SESSION_TOKEN"],
    });
    assert_eq!(session, expected);
}

/// Arguments after the target, and the console URL's host, path, region and fragment.
type Case<'a> = (&'a [&'a str], &'a str, &'a str, &'a str, Option<&'a str>);

#[test]
fn the_url_signs_in_to_each_service_console_in_its_region_and_partition() {
    let console = console_world();
    // demo-admin's region is its source's, eu-west-1.
    let cases: &[Case] = &[
        (
            &[],
            "eu-west-1.console.aws.amazon.com",
            "/console/home",
            "eu-west-1",
            None,
        ),
        (
            &["-s", "s3"],
            "eu-west-1.console.aws.amazon.com",
            "/s3/home",
            "eu-west-1",
            None,
        ),
        (
            &["--service", "ec2", "-r", "us-west-2"],
            "us-west-2.console.aws.amazon.com",
            "/ec2/home",
            "us-west-2",
            None,
        ),
        (
            &["-s", "logs"],
            "eu-west-1.console.aws.amazon.com",
            "/cloudwatch/home",
            "eu-west-1",
            Some("logsV2:"),
        ),
        (
            &["-s", "ddb", "--region", "ap-southeast-2"],
            "ap-southeast-2.console.aws.amazon.com",
            "/dynamodbv2/home",
            "ap-southeast-2",
            None,
        ),
        (
            &["-s", "s3", "-r", "cn-north-1"],
            "cn-north-1.console.amazonaws.cn",
            "/s3/home",
            "cn-north-1",
            None,
        ),
        (
            &["-r", "us-gov-west-1"],
            "us-gov-west-1.console.amazonaws-us-gov.com",
            "/console/home",
            "us-gov-west-1",
            None,
        ),
        (
            &["-s", "logs", "-r", "us-gov-west-1"],
            "us-gov-west-1.console.amazonaws-us-gov.com",
            "/cloudwatch/home",
            "us-gov-west-1",
            Some("logsV2:"),
        ),
    ];
    for (index, (args, host, path, region, fragment)) in cases.iter().enumerate() {
        let mut all = vec!["demo-admin"];
        all.extend_from_slice(args);
        let login = parse_login(&console.url(&all), &console.signin);
        assert_console(&login.destination, host, path, region, *fragment);
        // One request per URL: the token in it is that request's.
        assert_eq!(console.signin.requests().len(), index + 1, "{args:?}");
        assert_eq!(login.token, format!("token-{}", index + 1));
    }
}

#[test]
fn every_service_of_the_contract_has_its_console_path() {
    let console = console_world();
    let services = [
        ("s3", "/s3/home"),
        ("ec2", "/ec2/home"),
        ("iam", "/iam/home"),
        ("lambda", "/lambda/home"),
        ("cloudwatch", "/cloudwatch/home"),
        ("dynamodb", "/dynamodbv2/home"),
        ("ddb", "/dynamodbv2/home"),
        ("cloudformation", "/cloudformation/home"),
        ("cfn", "/cloudformation/home"),
        ("ecs", "/ecs/v2/home"),
        ("eks", "/eks/home"),
        ("rds", "/rds/home"),
        ("sqs", "/sqs/v3/home"),
        ("sns", "/sns/v3/home"),
        ("ssm", "/systems-manager/home"),
        ("secretsmanager", "/secretsmanager/home"),
        ("sm", "/secretsmanager/home"),
        ("kms", "/kms/home"),
        ("vpc", "/vpc/home"),
        ("route53", "/route53/v2/home"),
        ("billing", "/billing/home"),
    ];
    for (service, path) in services {
        let login = parse_login(
            &console.url(&["demo-admin", "-s", service]),
            &console.signin,
        );
        assert_console(
            &login.destination,
            "eu-west-1.console.aws.amazon.com",
            path,
            "eu-west-1",
            None,
        );
    }
}

#[test]
fn the_region_is_the_flag_then_the_profile_then_the_environment_then_us_east_1() {
    let console = console_world();
    let credentials = console.assume(&["demo-admin"]);
    let destination_host = |run: Run| {
        let login = parse_login(&one_line(&run.stdout), &console.signin);
        let host = login.destination.host_str().unwrap().to_string();
        let region: Vec<(String, String)> = login.destination.query_pairs().into_owned().collect();
        assert_eq!(region.len(), 1, "{}", login.destination);
        assert_eq!(format!("{}.console.aws.amazon.com", region[0].1), host);
        host
    };
    // The profile's region beats the environment's; the flag beats both.
    let mut command = console.console(&["--url", "demo-admin"]);
    command.env("AWS_REGION", "ap-south-1");
    let run = Run::of(command).success();
    assert_eq!(destination_host(run), "eu-west-1.console.aws.amazon.com");
    let mut command = console.console(&["--url", "demo-admin", "-r", "sa-east-1"]);
    command.env("AWS_REGION", "ap-south-1");
    let run = Run::of(command).success();
    assert_eq!(destination_host(run), "sa-east-1.console.aws.amazon.com");
    // Environment credentials: AWS_REGION, else AWS_DEFAULT_REGION, else us-east-1.
    for (variables, expected) in [
        (&[("AWS_REGION", "ca-central-1")][..], "ca-central-1"),
        (&[("AWS_DEFAULT_REGION", "eu-north-1")][..], "eu-north-1"),
        (&[][..], "us-east-1"),
    ] {
        let mut command = console.console(&["--url"]);
        hold(&mut command, &credentials);
        command.envs(variables.iter().copied());
        let run = Run::of(command).success();
        assert_eq!(
            destination_host(run),
            format!("{expected}.console.aws.amazon.com"),
            "{variables:?}"
        );
    }
}

#[test]
fn the_session_sent_is_the_roles_cached_credentials_in_a_form_post() {
    let console = console_world();
    let credentials = console.assume(&["demo-admin"]);
    // moto issues new keys for every AssumeRole, so equal keys mean the cache was used.
    let run = console.run(&["demo-admin", "--url"]).success();
    let request = console.signin.only_request();
    assert_eq!(request.method, "POST");
    // Nothing of the session in the request line: the endpoint's path alone.
    assert_eq!(request.target, "/federation");
    let content_type = request.header("content-type").unwrap_or_default();
    assert!(
        content_type.starts_with("application/x-www-form-urlencoded"),
        "{content_type:?}"
    );
    assert_eq!(request.field("Action").as_deref(), Some("getSigninToken"));
    assert_session_is(&request, &credentials);
    // No -d: no SessionDuration, and nothing else beside Action and Session.
    let mut names: Vec<String> = request.form().into_iter().map(|(name, _)| name).collect();
    names.sort();
    assert_eq!(names, ["Action", "Session"]);
    for secret in ["AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN"] {
        let secret = credentials[secret].as_str().unwrap();
        assert!(!run.stderr.contains(secret), "{}", run.stderr);
        assert!(!run.stdout.contains(secret), "{}", run.stdout);
    }
}

#[test]
fn session_duration_is_sent_for_one_hop_on_long_term_keys_or_their_mfa_session() {
    let console = console_world();
    let credentials = console.assume(&["demo-admin", "-d", "2h"]);
    console.url(&["demo-admin", "-d", "2h"]);
    let request = console.signin.only_request();
    assert_eq!(request.session_duration().as_deref(), Some("7200"));
    assert_session_is(&request, &credentials);

    // The role's source is the keys' MFA session (moto accepts any code): still one hop.
    let console = console_world();
    let credentials = console.assume(&["mfa-admin", "-d", "90m", "--mfa-token", "123456"]);
    console.url(&["mfa-admin", "-d", "90m"]);
    let request = console.signin.only_request();
    assert_eq!(request.session_duration().as_deref(), Some("5400"));
    assert_session_is(&request, &credentials);
}

#[test]
fn session_duration_follows_the_flag_not_the_profile() {
    let console = console_world();
    // The duration_seconds a profile names is its role session's: the console session is
    // asked for only with -d.
    console.world.write_config(&format!(
        "{ONE_HOP}[profile long]\nrole_arn = arn:aws:iam::111111111111:role/admin\n\
         source_profile = base\nduration_seconds = 7200\n"
    ));
    console.url(&["long"]);
    let request = console.signin.only_request();
    assert_eq!(request.session_duration(), None, "{:?}", request.body);
}

#[test]
fn session_duration_is_sent_for_a_bare_role_arn_on_environment_keys_only() {
    let console = console_world();
    // A role ARN target assumed from long-term keys in the environment is one hop on keys.
    let mut command =
        console.console(&["--url", "arn:aws:iam::111111111111:role/admin", "-d", "1h"]);
    command
        .env("AWS_ACCESS_KEY_ID", "AKIAIOSFODNN7EXAMPLE")
        .env(
            "AWS_SECRET_ACCESS_KEY",
            "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
        );
    Run::of(command).success();
    assert_eq!(
        console.signin.requests()[0].session_duration().as_deref(),
        Some("3600")
    );
    // From a role's credentials in the environment it is a second hop.
    let credentials = console.assume(&["demo-admin"]);
    let mut command = console.console(&["--url", "arn:aws:iam::222222222222:role/two", "-d", "1h"]);
    hold(&mut command, &credentials);
    Run::of(command).success();
    let requests = console.signin.requests();
    assert_eq!(requests.len(), 2);
    assert_eq!(
        requests[1].session_duration(),
        None,
        "{:?}",
        requests[1].body
    );
}

#[test]
fn session_duration_is_not_sent_for_a_chained_role() {
    let console = console_world();
    let credentials = console.assume(&["chained", "-d", "30m"]);
    // Two hops, the second on the first's role credentials.
    assert_eq!(
        credentials["ROLECALL_ROLE_ARN"],
        "arn:aws:iam::222222222222:role/two"
    );
    console.url(&["chained", "-d", "30m"]);
    let request = console.signin.only_request();
    assert_eq!(request.session_duration(), None, "{:?}", request.body);
    assert_session_is(&request, &credentials);
}

#[test]
fn session_duration_is_not_sent_for_environment_credentials() {
    let console = console_world();
    let credentials = console.assume(&["demo-admin"]);
    let run = console
        .run_on_environment(&credentials, &["--url"])
        .success();
    parse_login(&one_line(&run.stdout), &console.signin);
    let request = console.signin.only_request();
    assert_eq!(request.session_duration(), None, "{:?}", request.body);
    assert_session_is(&request, &credentials);
    // With -d the contract still sends none. Whether -d without a TARGET is refused as a usage
    // error instead is not said, so either is accepted; never a SessionDuration.
    let run = console.run_on_environment(&credentials, &["--url", "-d", "2h"]);
    match run.status {
        Some(0) => {
            let requests = console.signin.requests();
            assert_eq!(requests.len(), 2);
            assert_eq!(
                requests[1].session_duration(),
                None,
                "{:?}",
                requests[1].body
            );
        }
        Some(2) => assert_eq!(console.signin.requests().len(), 1, "{}", run.stderr),
        other => panic!("exit {other:?}: {}", run.stderr),
    }
}

#[test]
fn sso_credentials_and_roles_on_them_send_no_session_duration() {
    let portal = FakeSso::start();
    let console = console_world();
    console.world.write_config(
        "[sso-session corp]\nsso_start_url = https://corp.awsapps.com/start\n\
         sso_region = eu-west-1\n\
         [profile sso-dev]\nsso_session = corp\nsso_account_id = 111111111111\n\
         sso_role_name = Developer\nregion = eu-west-1\n\
         [profile sso-admin]\nrole_arn = arn:aws:iam::222222222222:role/admin\n\
         source_profile = sso-dev\n",
    );
    common::write_sso_token(
        console.world.home(),
        "corp",
        &serde_json::json!({
            "accessToken": "token-from-login",
            "expiresAt": common::token_time(3600),
        }),
    );
    for (target, duration) in [("sso-dev", None), ("sso-admin", Some("30m"))] {
        let mut args = vec![target];
        args.extend(duration.iter().flat_map(|d| ["-d", *d]));
        let mut assume = console.world.rolecall(&["assume", "--json"]);
        assume
            .args(&args)
            .env("AWS_ENDPOINT_URL_SSO", &portal.endpoint);
        let credentials = Run::of(assume).success().json();
        let mut command = console.console(&["--url"]);
        command
            .args(&args)
            .env("AWS_ENDPOINT_URL_SSO", &portal.endpoint);
        let run = Run::of(command).success();
        parse_login(&one_line(&run.stdout), &console.signin);
        let request = console.signin.requests().pop().unwrap();
        assert_eq!(
            request.session_duration(),
            None,
            "{target}: {:?}",
            request.body
        );
        assert_session_is(&request, &credentials);
    }
    assert_eq!(console.signin.requests().len(), 2);
}

#[test]
fn without_url_the_browser_gets_the_login_url_and_nothing_is_printed() {
    let console = console_world();
    let run = console.run(&["demo-admin", "-s", "s3"]).success();
    assert_eq!(run.stdout, "");
    run.stderr_has("opened the AWS console for");
    assert_no_token_on_stderr(&run, &console.signin);
    let urls = console.browser_urls();
    assert_eq!(urls.len(), 1, "{urls:?}");
    assert!(!run.stderr.contains(&urls[0]), "{}", run.stderr);
    let login = parse_login(&urls[0], &console.signin);
    assert_console(
        &login.destination,
        "eu-west-1.console.aws.amazon.com",
        "/s3/home",
        "eu-west-1",
        None,
    );
}

/// Checks `text` is `<endpoint's origin>/oauth?Action=logout&redirect_uri=<login URL>` and
/// returns the login URL inside, taken apart.
fn parse_logout(text: &str, signin: &FakeSignin) -> Login {
    let url = Url::parse(text).unwrap_or_else(|e| panic!("not a URL ({e}): {text}"));
    let endpoint = Url::parse(&signin.endpoint).unwrap();
    assert_eq!(url.scheme(), endpoint.scheme(), "{text}");
    assert_eq!(url.host_str(), endpoint.host_str(), "{text}");
    assert_eq!(url.port(), endpoint.port(), "{text}");
    assert_eq!(url.path(), "/oauth", "{text}");
    assert_eq!(url.fragment(), None, "{text}");
    assert_values_encoded(&url);
    let pairs: Vec<(String, String)> = url.query_pairs().into_owned().collect();
    assert_eq!(pairs.len(), 2, "{text}");
    assert_eq!(pairs[0], ("Action".into(), "logout".into()), "{text}");
    assert_eq!(pairs[1].0, "redirect_uri", "{text}");
    parse_login(&pairs[1].1, signin)
}

#[test]
fn logout_first_sends_the_login_url_through_the_oauth_logout() {
    let console = console_world();
    let printed = console.url(&["demo-admin", "--logout-first", "-s", "ec2"]);
    let login = parse_logout(&printed, &console.signin);
    assert_eq!(login.token, "token-1");
    assert_console(
        &login.destination,
        "eu-west-1.console.aws.amazon.com",
        "/ec2/home",
        "eu-west-1",
        None,
    );
    let run = console
        .run(&["demo-admin", "--logout-first", "-s", "ec2"])
        .success();
    assert_eq!(run.stdout, "");
    assert_no_token_on_stderr(&run, &console.signin);
    let opened = console.browser_urls();
    assert_eq!(opened.len(), 1, "{opened:?}");
    assert!(!run.stderr.contains(&opened[0]), "{}", run.stderr);
    let login = parse_logout(&opened[0], &console.signin);
    assert_eq!(login.token, "token-2");
}

#[test]
fn what_cannot_sign_in_is_refused_before_the_sign_in_endpoint() {
    let console = console_world();
    // Long-term keys in the environment: no session token.
    let mut command = console.console(&["--url"]);
    command
        .env("AWS_ACCESS_KEY_ID", "AKIAIOSFODNN7EXAMPLE")
        .env(
            "AWS_SECRET_ACCESS_KEY",
            "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
        );
    Run::of(command)
        .failure(2)
        .stderr_has("cannot sign in to the console");
    // A profile of long-term keys, without and with an MFA device: no role to sign in as, and
    // the message says to assume one.
    for args in [
        &["base", "--url"][..],
        &["keys-mfa", "--url", "--mfa-token", "123456"][..],
        &["keys-mfa"][..],
    ] {
        let run = console.run(args).failure(2);
        run.stderr_has("cannot sign in to the console")
            .stderr_has("role");
    }
    assert_eq!(console.signin.requests(), []);
    assert_eq!(console.opened_now(), Vec::<String>::new());
}

#[test]
fn sign_in_faults_fail_with_a_clear_message_and_no_token() {
    let console = console_world();
    let credentials = console.assume(&["demo-admin"]);
    let faults: Vec<(Answer, &str)> = vec![
        (
            Answer::Status(400),
            "the sign-in endpoint refused these credentials",
        ),
        (
            Answer::Status(403),
            "the sign-in endpoint refused these credentials",
        ),
        (Answer::Status(500), "500"),
        (Answer::Status(503), "503"),
        (
            Answer::Malformed("<html>Sign in</html>".into()),
            "cannot read",
        ),
        (Answer::Malformed(String::new()), "cannot read"),
        // A token under another name, and a token that is not a string: neither is the JSON.
        (
            Answer::Malformed("{\"SigninTokn\":\"token-smuggled\"}".into()),
            "cannot read",
        ),
        (
            Answer::Malformed("{\"SigninToken\":7}".into()),
            "cannot read",
        ),
    ];
    for (count, (answer, message)) in faults.into_iter().enumerate() {
        console.signin.answer(answer.clone());
        for args in [&["demo-admin", "--url"][..], &["demo-admin"][..]] {
            let run = console.run(args).failure(1);
            run.stderr_has(message);
            assert!(!run.stderr.contains("token-"), "{answer:?}: {}", run.stderr);
            for secret in ["AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN"] {
                let secret = credentials[secret].as_str().unwrap();
                assert!(!run.stderr.contains(secret), "{answer:?}: {}", run.stderr);
            }
        }
        // One POST per run, never retried.
        assert_eq!(
            console.signin.requests().len(),
            2 * (count + 1),
            "{answer:?}"
        );
    }
    assert_eq!(console.opened_now(), Vec::<String>::new());
}

#[test]
fn a_silent_sign_in_endpoint_is_given_up_on_after_the_timeout() {
    let console = console_world();
    console.assume(&["demo-admin"]);
    console.signin.answer(Answer::Silent);
    // The world sets ROLECALL_STS_TIMEOUT=3.
    let run = console.run(&["demo-admin", "--url"]).failure(1);
    run.stderr_has("did not answer");
    assert!(
        run.elapsed >= Duration::from_secs(2) && run.elapsed < Duration::from_secs(12),
        "{:?}",
        run.elapsed
    );
    assert_eq!(console.signin.requests().len(), 1);
}

#[test]
fn a_sign_in_url_that_is_no_http_url_is_refused_naming_the_variable() {
    let console = console_world();
    for value in [
        "not a url",
        "ftp://127.0.0.1/federation",
        "file:///etc/passwd",
        "http://",
        "javascript:alert(1)",
    ] {
        let mut command = console.console(&["demo-admin", "--url"]);
        command.env("ROLECALL_SIGNIN_URL", value);
        Run::of(command)
            .failure(2)
            .stderr_has("ROLECALL_SIGNIN_URL");
    }
    assert_eq!(console.signin.requests(), []);
}

#[test]
fn an_unknown_service_is_refused_with_the_nearest_names() {
    let console = console_world();
    let run = console
        .run(&["demo-admin", "--url", "-s", "lamda"])
        .failure(2);
    run.stderr_has("did you mean").stderr_has("lambda");
    assert_eq!(console.signin.requests(), []);
}

#[test]
fn hostile_services_regions_and_names_cannot_break_the_url() {
    let console = console_world();
    // Not a service, whatever it would add to a path.
    for service in ["s3&Issuer=evil", "s3/../iam", "s3?region=x", "s3#x", "S3 "] {
        console
            .run(&["demo-admin", "--url", "-s", service])
            .failure(2);
    }
    // Not a region, from the flag, the profile or the environment.
    for region in [
        "eu-west-1&Issuer=evil",
        "eu-west-1/../evil",
        "evil.example#",
        "eu-west-1.evil.example",
    ] {
        console
            .run(&["demo-admin", "--url", "-r", region])
            .failure(2)
            .stderr_has("not a region name");
    }
    console
        .run(&["evil-region", "--url"])
        .failure(2)
        .stderr_has("not a region name");
    let credentials = console.assume(&["demo-admin"]);
    let mut command = console.console(&["--url"]);
    hold(&mut command, &credentials);
    command.env("AWS_REGION", "eu-west-1&Issuer=evil");
    Run::of(command).failure(2).stderr_has("not a region name");
    assert_eq!(console.signin.requests(), []);

    // A profile name made of URL syntax appears nowhere in the URL.
    let login = parse_login(&console.url(&[URL_SYNTAX_PROFILE]), &console.signin);
    assert_console(
        &login.destination,
        "eu-west-1.console.aws.amazon.com",
        "/console/home",
        "eu-west-1",
        None,
    );
    // A destination full of the login URL's own parameters is carried whole, as one value.
    let destination = "https://eu-west-1.console.aws.amazon.com/s3/buckets/a%2Fb?region=eu-west-1\
                       &Issuer=evil&SigninToken=evil&Action=logout#frag+x";
    let login = parse_login(
        &console.url(&["demo-admin", "--destination", destination]),
        &console.signin,
    );
    assert_eq!(login.destination.as_str(), destination);
    // Only an https destination.
    for destination in [
        "http://eu-west-1.console.aws.amazon.com/",
        "javascript:alert(1)",
        "not a url",
    ] {
        console
            .run(&["demo-admin", "--url", "--destination", destination])
            .failure(2);
    }
    assert_eq!(console.signin.requests().len(), 2);
}

#[test]
fn completion_of_the_service_lists_the_names_that_match() {
    let console = console_world();
    let mut command = console
        .world
        .rolecall(&["--", "rolecall", "console", "-s", "l"]);
    // As bash's completion function calls it: the word being completed is the fourth (from 0).
    command
        .env("ROLECALL_COMPLETE", "bash")
        .env("_CLAP_COMPLETE_INDEX", "3")
        .env("_CLAP_IFS", "\n");
    let run = Run::of(command).success();
    let names: Vec<&str> = run.stdout.lines().collect();
    assert!(names.contains(&"lambda"), "{names:?}");
    assert!(names.contains(&"logs"), "{names:?}");
    assert!(names.iter().all(|name| name.starts_with('l')), "{names:?}");
}

#[test]
fn a_browser_that_cannot_run_fails_pointing_at_url() {
    let console = console_world();
    let failing = console.world.home().join("failing-browser");
    std::fs::write(&failing, "#!/bin/sh\nexit 1\n").unwrap();
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&failing, std::fs::Permissions::from_mode(0o755)).unwrap();
    let missing = console.world.home().join("no-such-browser");
    for browser in [&missing, &failing] {
        let mut command = console.console(&["demo-admin"]);
        command.env("BROWSER", browser);
        let run = Run::of(command).failure(1);
        run.stderr_has("--url");
        assert_no_token_on_stderr(&run, &console.signin);
    }
}

#[test]
fn assume_c_opens_the_console_from_the_function_and_leaves_the_shell_as_it_was() {
    let console = console_world();
    for shell in common::SHELLS {
        let url_file = console.world.home().join(format!("url-{shell}"));
        let body = format!(
            "assume -c --url -s s3 demo-admin > '{}'\nassume -c demo-admin\nenv -0",
            url_file.display()
        );
        let run = common::Shell::new(&console.world, shell)
            .env("ROLECALL_SIGNIN_URL", &console.signin.endpoint)
            .env("BROWSER", console.browser.to_str().unwrap())
            .run(&body)
            .success();
        // Neither the URL nor credentials reached the shell's environment.
        let env = common::environment_of(&run.stdout);
        for name in common::MANAGED_VARIABLES {
            assert!(!env.contains_key(name), "{shell}: {name} set");
        }
        assert!(
            !run.stdout.contains("SigninToken"),
            "{shell}: {}",
            run.stdout
        );
        assert_no_token_on_stderr(&run, &console.signin);
        let printed = std::fs::read_to_string(&url_file).unwrap();
        let issued = console.signin.issued();
        let token = &issued[issued.len() - 2];
        assert_eq!(
            token_of(&one_line(&printed)).as_ref(),
            Some(token),
            "{shell}"
        );
        run.stderr_has("opened the AWS console for");
    }
    // The browser got one URL per shell, each with the token issued for it.
    let opened = console.browser_urls();
    assert_eq!(opened.len(), 3, "{opened:?}");
    let issued = console.signin.issued();
    for (index, url) in opened.iter().enumerate() {
        assert!(
            url.ends_with(&format!("SigninToken={}", issued[2 * index + 1])),
            "{url}"
        );
    }
}

#[test]
fn keys_from_a_credential_process_and_flags_without_a_target_are_refused_before_any_request() {
    let console = console_world();
    // A profile whose process hands out long-term keys: no session token, whatever the profile
    // looks like.
    let process = console.world.home().join("keys-process");
    std::fs::write(
        &process,
        "#!/bin/sh\nprintf '{\"Version\":1,\"AccessKeyId\":\"AKIAIOSFODNN7EXAMPLE\",\
         \"SecretAccessKey\":\"wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY\"}'\n",
    )
    .unwrap();
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&process, std::fs::Permissions::from_mode(0o755)).unwrap();
    let config = std::fs::read_to_string(console.world.home().join(".aws/config")).unwrap();
    console.world.write_config(&format!(
        "{config}\n[profile process-keys]\ncredential_process = {}\n",
        process.display()
    ));
    console
        .run(&["process-keys", "--url"])
        .failure(2)
        .stderr_has("cannot sign in to the console");
    // Without a TARGET, flags that shape how a target's credentials are fetched are refused.
    let credentials = console.assume(&["demo-admin"]);
    for flag in [
        &["-d", "2h"][..],
        &["--mfa-token", "123456"][..],
        &["--refresh"][..],
    ] {
        let mut args = vec!["--url"];
        args.extend_from_slice(flag);
        console
            .run_on_environment(&credentials, &args)
            .failure(2)
            .stderr_has("without a TARGET");
    }
    assert_eq!(console.signin.requests(), []);
}

#[test]
fn a_browser_launcher_that_quotes_the_url_on_failing_cannot_show_it() {
    let console = console_world();
    // As xdg-open does when it finds no browser: the URL in its complaint.
    let noisy = console.world.home().join("noisy-browser");
    std::fs::write(
        &noisy,
        "#!/bin/sh\necho \"no method available for opening '$1'\" >&2\nexit 3\n",
    )
    .unwrap();
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&noisy, std::fs::Permissions::from_mode(0o755)).unwrap();
    let mut command = console.console(&["demo-admin"]);
    command.env("BROWSER", &noisy);
    let run = Run::of(command).failure(1);
    run.stderr_has("--url");
    assert_no_token_on_stderr(&run, &console.signin);
}

#[test]
fn an_answer_larger_than_any_sign_in_token_is_not_read_on() {
    let console = console_world();
    console.signin.answer(Answer::Malformed(format!(
        "{{\"SigninToken\":\"{}\"}}",
        "x".repeat(200_000)
    )));
    let run = console.run(&["demo-admin", "--url"]).failure(1);
    run.stderr_has("more than a sign-in token");
    assert!(run.stdout.is_empty());
}

#[test]
fn no_sign_in_token_is_on_any_command_line_and_its_page_is_private_and_removed() {
    let console = console_world();
    let log = console.world.home().join("slow.log");
    // A browser that takes a moment to start, during which every command line is read, then
    // follows the page to the sign-in endpoint as a browser would.
    let slow = common::page_browser(&console.world, &log, true, Duration::from_secs(1));
    let mut command = console.console(&["demo-admin", "-s", "s3"]);
    command
        .env("BROWSER", &slow)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null());
    let (status, seen) =
        common::command_lines_while_running(command.spawn().unwrap(), "SigninToken");
    assert!(status.success());
    assert!(seen.is_empty(), "on a command line: {seen:?}");
    let opened = std::fs::read_to_string(&log).unwrap();
    let login = parse_login(opened.lines().next().unwrap(), &console.signin);
    assert_eq!(console.signin.logins(), [login.token]);
    assert_eq!(
        common::assert_pages_private_and_removed(console.world.home()),
        1
    );
}
