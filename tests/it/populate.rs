//! `rolecall sso populate` against its contract (issue 12): one profile per account and role
//! the tests' Identity Center grants, in a marked block of the config, with everything outside
//! the block left byte for byte; what it writes is read back by rolecall (aws-config's parser)
//! and by botocore, clients that did not write it.
//!
//! The expected blocks are built here from the contract's format, so a test fails on any byte
//! the implementation adds, drops or reorders.

use crate::common::fake_sso::{self, FakeSso, Script, ACCESS_KEY_ID};
use crate::common::{self, Run, World};
use std::collections::BTreeMap;
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::process::Command;

const CORP: &str = "[sso-session corp]\nsso_start_url = https://corp.awsapps.com/start\n\
sso_region = eu-west-1\n";

const OTHER: &str = "[sso-session other]\nsso_start_url = https://other.awsapps.com/start\n\
sso_region = us-east-1\n";

/// A HOME with a config, logged in, and the fake Identity Center as portal and OIDC service.
struct Populate {
    world: World,
    portal: FakeSso,
}

impl Populate {
    /// `config` as ~/.aws/config, the portal granting what `script` says, and a valid login to
    /// sso-session `corp` (token `token-corp`).
    fn new(config: &str, script: Script) -> Populate {
        // No test here reaches STS: a port nothing listens on.
        let sts = format!("http://127.0.0.1:{}", common::free_port());
        let populate = Populate {
            world: World::with_endpoint(&sts),
            portal: FakeSso::start_with(script),
        };
        populate.world.write_config(config);
        populate.log_in("corp");
        populate
    }

    /// A login to `session` as `rolecall sso login` or `aws sso login` leaves it, good for an
    /// hour, with the token `token-SESSION`.
    fn log_in(&self, session: &str) {
        common::write_sso_token(
            self.world.home(),
            session,
            &serde_json::json!({
                "accessToken": format!("token-{session}"),
                "expiresAt": common::token_time(3600),
            }),
        );
    }

    fn command(&self, program: impl AsRef<std::ffi::OsStr>) -> Command {
        let mut command = self.world.command(program);
        command
            .env("AWS_ENDPOINT_URL_SSO", &self.portal.endpoint)
            .env("AWS_ENDPOINT_URL_SSO_OIDC", &self.portal.endpoint);
        command
    }

    fn rolecall(&self, args: &[&str]) -> Command {
        let mut command = self.command(common::BIN);
        command.args(args);
        command
    }

    /// `rolecall sso populate ARGS`.
    fn populate(&self, args: &[&str]) -> Run {
        let mut all = vec!["sso", "populate"];
        all.extend_from_slice(args);
        Run::of(self.rolecall(&all))
    }

    fn config_path(&self) -> PathBuf {
        self.world.home().join(".aws/config")
    }

    fn config(&self) -> String {
        std::fs::read_to_string(self.config_path()).expect("read the config")
    }

    /// Changes what the portal grants from now on: only `grants`' accounts and roles.
    fn grant(&self, grants: &Script) {
        let (accounts, roles) = (grants.accounts.clone(), grants.roles.clone());
        self.portal.script(|s| {
            s.accounts = accounts;
            s.roles = roles;
        });
    }

    /// botocore's view of the files: its profile names, each profile's keys and values, and
    /// its sso-sessions. Its configparser refuses a section that appears twice.
    fn botocore_view(&self) -> serde_json::Value {
        let mut command = self.command(common::test_python());
        command.args([
            "-c",
            "import json, botocore.session\n\
             session = botocore.session.Session()\n\
             config = session.full_config\n\
             print(json.dumps({'available': sorted(session.available_profiles),\n\
                               'profiles': config.get('profiles', {}),\n\
                               'sso_sessions': config.get('sso_sessions', {})}))",
        ]);
        let run = Run::of(command).success();
        serde_json::from_str(&run.stdout).unwrap_or_else(|e| panic!("{e}: {}", run.stdout))
    }

    /// botocore resolving `profile`'s credentials itself: the SSO token file, then the
    /// portal's GetRoleCredentials for the profile's account and role.
    fn botocore_access_key(&self, profile: &str) -> Run {
        let mut command = self.command(common::test_python());
        command.args([
            "-c",
            "import sys, botocore.session\n\
             print(botocore.session.Session(profile=sys.argv[1]).get_credentials().access_key)",
            profile,
        ]);
        Run::of(command)
    }

    /// rolecall's view through aws-config's rules: `profiles --long`, name → description.
    fn rolecall_view(&self) -> BTreeMap<String, String> {
        let run = Run::of(self.rolecall(&["profiles", "--long"])).success();
        run.stdout
            .lines()
            .map(|line| {
                let fields: Vec<&str> = line.split('\t').collect();
                assert_eq!(fields.len(), 3, "{line:?}");
                (fields[0].to_string(), fields[2].to_string())
            })
            .collect()
    }

    /// The account and role each GetRoleCredentials call asked for, in order.
    fn credential_calls(&self) -> Vec<(String, String)> {
        self.portal
            .calls_to("/federation/credentials")
            .iter()
            .map(|request| {
                let query = parse_query(&request.path);
                (query["account_id"].clone(), query["role_name"].clone())
            })
            .collect()
    }
}

fn parse_query(path: &str) -> BTreeMap<String, String> {
    let query = path.split_once('?').map(|(_, q)| q).unwrap_or("");
    form_urlencoded::parse(query.as_bytes())
        .into_owned()
        .collect()
}

/// A profile the contract says populate writes.
#[derive(Clone, Debug)]
struct Generated {
    name: String,
    account_id: String,
    role: String,
    description: String,
}

/// A generated profile for names with nothing to reduce: the description is
/// `ACCOUNT_NAME (ACCOUNT_ID) · ROLE_NAME` as it stands.
fn plain(name: &str, account_id: &str, account_name: &str, role: &str) -> Generated {
    Generated {
        name: name.to_string(),
        account_id: account_id.to_string(),
        role: role.to_string(),
        description: format!("{account_name} ({account_id}) · {role}"),
    }
}

/// The block the contract specifies for `session`: its markers, the notice, and each profile
/// sorted by name and followed by one blank line.
fn block(session: &str, region: &str, profiles: &[Generated]) -> String {
    let mut sorted = profiles.to_vec();
    sorted.sort_by(|a, b| a.name.cmp(&b.name));
    let mut text = format!(
        "# BEGIN rolecall sso populate [sso-session {session}]\n\
         # Generated from what IAM Identity Center grants; rolecall replaces everything up to END.\n\n"
    );
    for profile in sorted {
        text.push_str(&format!(
            "[profile {}]\nsso_session = {session}\nsso_account_id = {}\nsso_role_name = {}\n\
             region = {region}\nrolecall_description = {}\nrolecall_generated = {session}\n\n",
            profile.name, profile.account_id, profile.role, profile.description
        ));
    }
    text.push_str(&format!(
        "# END rolecall sso populate [sso-session {session}]\n"
    ));
    text
}

/// The first part of the summary line, up to its skipped count.
fn summary_head(dry_run: bool, profiles: usize, path: &Path, counts: [usize; 4]) -> String {
    let [added, changed, removed, skipped] = counts;
    let dry = if dry_run {
        " (dry run, nothing written)"
    } else {
        ""
    };
    format!(
        "rolecall: sso-session corp{dry}: {profiles} profiles in {}: {added} added, \
         {changed} changed, {removed} removed, {skipped} skipped",
        path.display()
    )
}

/// Checks that stderr holds the summary line and nothing else (as it must off a terminal), that
/// it starts with `head`, and gives what follows.
fn summary_after(run: &Run, head: &str) -> String {
    let lines: Vec<&str> = run.stderr.lines().collect();
    assert_eq!(
        lines.len(),
        1,
        "off a terminal stderr holds the summary alone:\n{}",
        run.stderr
    );
    let rest = lines[0]
        .strip_prefix(head)
        .unwrap_or_else(|| panic!("the summary\n  {}\ndoes not start\n  {head}", lines[0]));
    rest.to_string()
}

/// What tells a replaced file from one left alone: its inode and its mtime to the nanosecond.
fn identity(path: &Path) -> (u64, i64, i64) {
    let meta = std::fs::metadata(path).unwrap();
    (meta.ino(), meta.mtime(), meta.mtime_nsec())
}

fn mode(path: &Path) -> u32 {
    std::fs::metadata(path).unwrap().mode() & 0o777
}

fn names_in_directory(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .flatten()
        .map(|entry| entry.file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

/// The grants of `accounts` generated accounts with `roles` roles each, as `Generated`
/// profiles under the default name template.
fn generated_profiles(accounts: usize, roles: usize) -> Vec<Generated> {
    let mut profiles = Vec::new();
    for index in 0..accounts {
        let (id, name) = fake_sso::generated_account(index);
        for role in (0..roles).map(fake_sso::generated_role) {
            let profile_name = format!("{}/{role}", name.replace(' ', "-"));
            profiles.push(plain(&profile_name, &id, &name, &role));
        }
    }
    profiles
}

#[test]
fn the_fake_portal_pages_accounts_and_roles_as_botocore_reads_them() {
    let mut script = Script::default();
    script.grant_generated(74, 3);
    // A name botocore must get back exactly, as JSON carries it.
    script.grant(
        "999999999999",
        "Ünïcode \u{2028} [x] \"quoted\"",
        &["Admin"],
    );
    script.grant("888888888888", "Failing", &["Admin"]);
    script.accounts_page_size = 37;
    script.roles_page_size = 2;
    script.throttle_first = 2;
    script.failing_roles_account = Some("888888888888".into());
    script.refused_tokens = vec!["refused-token".into()];
    let grants = script.clone();
    let portal = FakeSso::start_with(script);
    let world = World::with_endpoint(&portal.endpoint);
    let mut command = world.command(common::test_python());
    command.args([
        "-c",
        r#"import json, sys
import botocore.session
from botocore import UNSIGNED
from botocore.config import Config
from botocore.exceptions import ClientError
endpoint, token, failing = sys.argv[1:4]
session = botocore.session.get_session()
def client(attempts):
    return session.create_client('sso', region_name='eu-west-1', endpoint_url=endpoint,
        config=Config(signature_version=UNSIGNED,
                      retries={'mode': 'standard', 'total_max_attempts': attempts}))
patient = client(10)
accounts = [a for page in patient.get_paginator('list_accounts').paginate(
                accessToken=token, PaginationConfig={'PageSize': 100})
            for a in page['accountList']]
roles = {}
for account in accounts:
    if account['accountId'] == failing:
        continue
    roles[account['accountId']] = [r['roleName'] for page in
        patient.get_paginator('list_account_roles').paginate(
            accessToken=token, accountId=account['accountId'], PaginationConfig={'PageSize': 100})
        for r in page['roleList']]
def error(call):
    try:
        call()
        return None
    except ClientError as e:
        return [e.response['Error']['Code'], e.response['ResponseMetadata']['HTTPStatusCode'],
                e.response['Error'].get('Message')]
impatient = client(1)
print(json.dumps({
    'accounts': [[a['accountId'], a['accountName']] for a in accounts],
    'roles': roles,
    'refused': error(lambda: impatient.list_accounts(accessToken='refused-token')),
    'failing': error(lambda: impatient.list_account_roles(accessToken=token, accountId=failing)),
    'stray_token': error(lambda: impatient.list_accounts(accessToken=token,
                                                         nextToken='roles-of-1@1')),
}))
"#,
        &portal.endpoint,
        "token-corp",
        "888888888888",
    ]);
    let run = Run::of(command).success();
    let seen: serde_json::Value = serde_json::from_str(&run.stdout).unwrap();
    let expected_accounts: Vec<[&str; 2]> = grants
        .accounts
        .iter()
        .map(|(id, name)| [id.as_str(), name.as_str()])
        .collect();
    assert_eq!(seen["accounts"], serde_json::json!(expected_accounts));
    for (id, _) in &grants.accounts {
        if id == "888888888888" {
            continue;
        }
        assert_eq!(
            seen["roles"][id],
            serde_json::json!(grants.roles[id]),
            "{id}"
        );
    }
    assert_eq!(seen["roles"].as_object().unwrap().len(), 75);
    assert_eq!(
        seen["refused"],
        serde_json::json!([
            "UnauthorizedException",
            401,
            "Session token not found or invalid"
        ])
    );
    assert_eq!(
        seen["failing"],
        serde_json::json!(["InternalServerException", 500, "An internal error occurred"])
    );
    assert_eq!(seen["stray_token"][0], "InvalidRequestException");
    // botocore asked as the contract says rolecall asks: `max_result`, `next_token`, and the
    // token in `x-amz-sso_bearer_token`; three pages of accounts after two throttled calls (and
    // then the call with a stray token), and two pages of roles for each account.
    let account_calls = portal.calls_to("/assignment/accounts");
    let good_token: Vec<_> = account_calls
        .iter()
        .filter(|call| call.token == "token-corp")
        .collect();
    assert_eq!(good_token.len(), 2 + 3 + 1, "{account_calls:#?}");
    for (page, call) in good_token[2..5].iter().enumerate() {
        let query = parse_query(&call.path);
        assert_eq!(query["max_result"], "100", "{}", call.path);
        assert_eq!(query.contains_key("next_token"), page > 0, "{}", call.path);
    }
    let role_calls = portal.calls_to("/assignment/roles");
    // 74 accounts of three roles on two pages each, one of one role, one failing call.
    assert_eq!(role_calls.len(), 74 * 2 + 1 + 1, "{role_calls:#?}");
}

#[test]
fn two_thousand_accounts_become_six_thousand_profiles_that_rolecall_and_botocore_use() {
    let mut script = Script::default();
    script.grant_generated(2000, 3);
    script.accounts_page_size = 37;
    script.roles_page_size = 2;
    let populate = Populate::new(CORP, script);
    let run = populate.populate(&[]).success();
    assert!(run.stdout.is_empty(), "{}", run.stdout);
    let rest = summary_after(
        &run,
        &summary_head(false, 6000, &populate.config_path(), [6000, 0, 0, 0]),
    );
    assert_eq!(rest, "");
    let expected = generated_profiles(2000, 3);
    assert_eq!(
        populate.config(),
        format!("{CORP}\n{}", block("corp", "eu-west-1", &expected))
    );
    // Every page was asked for with the service's maximum, and every account's roles.
    let listings = populate.portal.listing_calls();
    assert!(listings.iter().all(|call| call.token == "token-corp"));
    assert!(listings
        .iter()
        .all(|call| parse_query(&call.path)["max_result"] == "100"));
    assert_eq!(populate.portal.calls_to("/assignment/accounts").len(), 55);
    assert_eq!(populate.portal.calls_to("/assignment/roles").len(), 4000);
    let in_flight = populate.portal.most_in_flight();
    assert!((1..=8).contains(&in_flight), "{in_flight} calls at once");
    // rolecall lists them all…
    let listed = Run::of(populate.rolecall(&["profiles"])).success();
    let mut names: Vec<&str> = listed.stdout.lines().collect();
    names.sort_unstable();
    let mut expected_names: Vec<&str> = expected.iter().map(|p| p.name.as_str()).collect();
    expected_names.sort_unstable();
    assert_eq!(names, expected_names);
    // …botocore resolves one of them end to end, through the token and GetRoleCredentials…
    let profile = "Account-0042/ReadOnlyAccess";
    let boto = populate.botocore_access_key(profile).success();
    assert_eq!(boto.stdout.trim(), ACCESS_KEY_ID, "{}", boto.stderr);
    let account = fake_sso::generated_account(41).0;
    assert_eq!(
        populate.credential_calls(),
        [(account.clone(), "ReadOnlyAccess".to_string())]
    );
    // …and so does rolecall.
    let json = Run::of(populate.rolecall(&["assume", "--json", profile]))
        .success()
        .json();
    assert_eq!(json["AWS_ACCESS_KEY_ID"], ACCESS_KEY_ID);
    assert_eq!(json["ROLECALL_PROFILE"], profile);
    assert_eq!(json["AWS_REGION"], "eu-west-1");
    assert_eq!(
        populate.credential_calls().last().unwrap(),
        &(account, "ReadOnlyAccess".to_string())
    );
}

#[test]
fn hostile_names_from_the_portal_make_exactly_the_expected_profiles_and_keys() {
    let mut script = Script::default();
    // Each whitespace control sits beside a space, so removing it and squeezing whitespace give
    // the same text in either order.
    script.grant(
        "111111111111",
        "Prod \n[profile injected] \nsso_account_id = 999999999999",
        &[
            "AdministratorAccess",
            "Admin\n[profile x]",
            "Role;rm",
            "Ops+=,.@_-1",
        ],
    );
    script.grant(
        "222222222222",
        "Café \r# comment ; x \u{1b}[31m red \u{2028}line \u{85}nel \u{202e}evil \u{b}\u{c}end",
        &["ReadOnly"],
    );
    script.grant("12345678901\n", "Short ID", &["Admin"]);
    script.grant("444444444444", "\u{1b}\u{202e}###", &["Admin"]);
    let populate = Populate::new(CORP, script);
    let run = populate.populate(&[]).success();
    for raw in ['\u{1b}', '\r', '\u{202e}', '\u{2028}', '\u{85}'] {
        assert!(!run.stderr.contains(raw), "{raw:?} in {:?}", run.stderr);
    }
    // Two roles that cannot be IAM roles, one account ID that is not 12 digits.
    let rest = summary_after(
        &run,
        &summary_head(false, 4, &populate.config_path(), [4, 0, 0, 3]),
    );
    assert!(rest.starts_with(" ("), "{rest}");
    let expected = [
        Generated {
            name: "Prod-profile-injected-sso_account_id-999999999999/AdministratorAccess".into(),
            account_id: "111111111111".into(),
            role: "AdministratorAccess".into(),
            description: "Prod [profile injected] sso_account_id = 999999999999 (111111111111) · \
                          AdministratorAccess"
                .into(),
        },
        Generated {
            name: "Prod-profile-injected-sso_account_id-999999999999/Ops-.-_-1".into(),
            account_id: "111111111111".into(),
            role: "Ops+=,.@_-1".into(),
            description: "Prod [profile injected] sso_account_id = 999999999999 (111111111111) · \
                          Ops+=,.@_-1"
                .into(),
        },
        Generated {
            name: "Caf-comment-x-31m-red-line-nel-evil-end/ReadOnly".into(),
            account_id: "222222222222".into(),
            role: "ReadOnly".into(),
            description: "Café comment x [31m red line nel evil end (222222222222) · ReadOnly"
                .into(),
        },
        // Nothing is left of the account name, so the account is named by its ID.
        Generated {
            name: "444444444444/Admin".into(),
            account_id: "444444444444".into(),
            role: "Admin".into(),
            description: "(444444444444) · Admin".into(),
        },
    ];
    assert_eq!(
        populate.config(),
        format!("{CORP}\n{}", block("corp", "eu-west-1", &expected))
    );
    // rolecall's view: these profiles, these descriptions, nothing else.
    let by_rolecall: BTreeMap<String, String> = expected
        .iter()
        .map(|p| (p.name.clone(), p.description.clone()))
        .collect();
    assert_eq!(populate.rolecall_view(), by_rolecall);
    // botocore's: the same profiles, each with exactly its six keys, and the one sso-session.
    let view = populate.botocore_view();
    let mut names: Vec<&str> = expected.iter().map(|p| p.name.as_str()).collect();
    names.sort_unstable();
    assert_eq!(view["available"], serde_json::json!(names));
    let profiles: serde_json::Map<String, serde_json::Value> = expected
        .iter()
        .map(|p| {
            (
                p.name.clone(),
                serde_json::json!({
                    "sso_session": "corp",
                    "sso_account_id": p.account_id,
                    "sso_role_name": p.role,
                    "region": "eu-west-1",
                    "rolecall_description": p.description,
                    "rolecall_generated": "corp",
                }),
            )
        })
        .collect();
    assert_eq!(view["profiles"], serde_json::Value::Object(profiles));
    assert_eq!(
        view["sso_sessions"],
        serde_json::json!({"corp": {
            "sso_start_url": "https://corp.awsapps.com/start",
            "sso_region": "eu-west-1",
        }})
    );
    // aws-config resolves the one with the most hostile description, and the role name with
    // `=` in it reaches the portal whole.
    for profile in [&expected[2], &expected[1]] {
        Run::of(populate.rolecall(&["assume", "--json", &profile.name])).success();
        assert_eq!(
            populate.credential_calls().last().unwrap(),
            &(profile.account_id.clone(), profile.role.clone())
        );
    }
}

#[test]
fn a_second_run_with_the_same_grants_changes_nothing_and_says_so() {
    let mut script = Script::default();
    script.grant_generated(30, 2);
    let populate = Populate::new(CORP, script);
    populate.populate(&[]).success();
    let bytes = populate.config();
    let before = identity(&populate.config_path());
    // A rewrite would show in the mtime even within the same second.
    std::thread::sleep(std::time::Duration::from_millis(20));
    let run = populate.populate(&[]).success();
    assert!(run.stdout.is_empty(), "{}", run.stdout);
    let rest = summary_after(
        &run,
        &summary_head(false, 60, &populate.config_path(), [0, 0, 0, 0]),
    );
    assert_eq!(rest, "; nothing to change");
    assert_eq!(populate.config(), bytes);
    assert_eq!(identity(&populate.config_path()), before, "rewritten");
}

#[test]
fn a_pair_no_longer_granted_is_stale_and_kept_until_prune_removes_it() {
    let mut first = Script::default();
    first.grant("111111111111", "Prod", &["Admin", "ReadOnly"]);
    first.grant("222222222222", "Dev", &["Admin"]);
    let populate = Populate::new(CORP, first);
    populate.populate(&[]).success();
    let all = [
        plain("Prod/Admin", "111111111111", "Prod", "Admin"),
        plain("Prod/ReadOnly", "111111111111", "Prod", "ReadOnly"),
        plain("Dev/Admin", "222222222222", "Dev", "Admin"),
    ];
    let full = format!("{CORP}\n{}", block("corp", "eu-west-1", &all));
    assert_eq!(populate.config(), full);
    let mut second = Script::default();
    second.grant("111111111111", "Prod", &["Admin"]);
    second.grant("222222222222", "Dev", &["Admin"]);
    populate.grant(&second);
    // Without --prune the stale profile stays as it was: the file is not even rewritten.
    let before = identity(&populate.config_path());
    let run = populate.populate(&[]).success();
    let rest = summary_after(
        &run,
        &summary_head(false, 3, &populate.config_path(), [0, 0, 0, 0]),
    );
    assert_eq!(
        rest,
        ", 1 stale (kept; --prune removes them); nothing to change"
    );
    assert_eq!(populate.config(), full);
    assert_eq!(identity(&populate.config_path()), before);
    // With it, the profile goes.
    let run = populate.populate(&["--prune"]).success();
    let rest = summary_after(
        &run,
        &summary_head(false, 2, &populate.config_path(), [0, 0, 1, 0]),
    );
    assert_eq!(rest, "");
    assert_eq!(
        populate.config(),
        format!(
            "{CORP}\n{}",
            block("corp", "eu-west-1", &[all[0].clone(), all[2].clone()])
        )
    );
}

#[test]
fn dry_run_lists_each_difference_and_writes_nothing() {
    let config = format!("{CORP}[profile Clash/Admin]\nregion = us-west-2\n");
    let mut first = Script::default();
    first.grant("111111111111", "Keep", &["Admin"]);
    first.grant("222222222222", "Prod Ops", &["Admin"]);
    first.grant("333333333333", "Gone", &["Admin"]);
    let populate = Populate::new(&config, first);
    populate.populate(&[]).success();
    let bytes = populate.config();
    assert_eq!(
        bytes,
        format!(
            "{config}\n{}",
            block(
                "corp",
                "eu-west-1",
                &[
                    plain("Keep/Admin", "111111111111", "Keep", "Admin"),
                    plain("Prod-Ops/Admin", "222222222222", "Prod Ops", "Admin"),
                    plain("Gone/Admin", "333333333333", "Gone", "Admin"),
                ]
            )
        )
    );
    let mut second = Script::default();
    second.grant("111111111111", "Keep", &["Admin"]);
    // The same profile name, another description.
    second.grant("222222222222", "Prod (Ops)", &["Admin"]);
    second.grant("444444444444", "New", &["Admin"]);
    second.grant("555555555555", "Clash", &["Admin"]);
    populate.grant(&second);
    let before = identity(&populate.config_path());
    std::thread::sleep(std::time::Duration::from_millis(20));
    let run = populate.populate(&["--dry-run"]).success();
    let lines: Vec<&str> = run.stdout.lines().collect();
    assert_eq!(lines.len(), 4, "{}", run.stdout);
    assert_eq!(
        lines[..3],
        ["add New/Admin", "change Prod-Ops/Admin", "stale Gone/Admin"]
    );
    assert!(
        lines[3].starts_with("skip Clash/Admin (") && lines[3].ends_with(')'),
        "{}",
        lines[3]
    );
    let rest = summary_after(
        &run,
        &summary_head(true, 4, &populate.config_path(), [1, 1, 0, 1]),
    );
    assert!(
        rest.starts_with(" (") && rest.contains("Clash/Admin"),
        "{rest}"
    );
    assert!(
        rest.ends_with("), 1 stale (kept; --prune removes them)"),
        "{rest}"
    );
    assert_eq!(populate.config(), bytes);
    assert_eq!(identity(&populate.config_path()), before, "rewritten");
    // With --prune the stale one would be removed instead.
    let run = populate.populate(&["--dry-run", "--prune"]).success();
    let lines: Vec<&str> = run.stdout.lines().collect();
    assert_eq!(
        lines[..3],
        [
            "add New/Admin",
            "change Prod-Ops/Admin",
            "remove Gone/Admin"
        ],
        "{}",
        run.stdout
    );
    assert!(lines[3].starts_with("skip Clash/Admin ("), "{}", run.stdout);
    assert_eq!(lines.len(), 4, "{}", run.stdout);
    let rest = summary_after(
        &run,
        &summary_head(true, 3, &populate.config_path(), [1, 1, 1, 1]),
    );
    assert!(!rest.contains("stale"), "{rest}");
    assert_eq!(populate.config(), bytes);
    assert_eq!(identity(&populate.config_path()), before, "rewritten");
}

#[test]
fn a_name_taken_outside_the_block_is_skipped_and_the_other_profile_kept_byte_for_byte() {
    // Hand-written profiles (one with comments and odd spacing), one in the credentials file,
    // and one in another session's block.
    let hand_written = "# mine, keep it\n[profile Production/AdministratorAccess]   \n\
        role_arn=arn:aws:iam::111111111111:role/Custom ; my own\n\
        region =  us-west-2\n\n[default]\nregion = eu-central-1\n";
    let other_block = block(
        "other",
        "us-east-1",
        &[plain("Shared/Admin", "777777777777", "Shared", "Admin")],
    );
    let config = format!("{hand_written}{CORP}{OTHER}\n{other_block}");
    let credentials = "[Staging/Admin]\naws_access_key_id = AKIAIOSFODNN7EXAMPLE\n\
        aws_secret_access_key = wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY\n";
    let mut script = Script::default();
    script.grant(
        "111111111111",
        "Production",
        &["AdministratorAccess", "ReadOnly"],
    );
    script.grant("222222222222", "Staging", &["Admin"]);
    script.grant("333333333333", "Shared", &["Admin"]);
    let populate = Populate::new(&config, script);
    populate.world.write_credentials(credentials);
    let run = populate.populate(&["--sso-session", "corp"]).success();
    let rest = summary_after(
        &run,
        &summary_head(false, 1, &populate.config_path(), [1, 0, 0, 3]),
    );
    for name in [
        "Production/AdministratorAccess",
        "Staging/Admin",
        "Shared/Admin",
    ] {
        assert!(rest.contains(name), "{name} not named in {rest}");
    }
    let generated = [plain(
        "Production/ReadOnly",
        "111111111111",
        "Production",
        "ReadOnly",
    )];
    assert_eq!(
        populate.config(),
        format!("{config}\n{}", block("corp", "eu-west-1", &generated))
    );
    assert_eq!(
        std::fs::read_to_string(populate.world.home().join(".aws/credentials")).unwrap(),
        credentials
    );
    // A template that makes `default` never takes the name every tool falls back to: the
    // profile gets the account ID appended instead.
    let mut script = Script::default();
    script.grant("555555555555", "default", &["Admin"]);
    populate.grant(&script);
    let run = populate
        .populate(&["--sso-session", "corp", "--name", "{account_name}"])
        .success();
    let rest = summary_after(
        &run,
        &summary_head(false, 2, &populate.config_path(), [1, 0, 0, 0]),
    );
    assert_eq!(rest, ", 1 stale (kept; --prune removes them)");
    let text = populate.config();
    assert!(
        text.contains("\n[profile default-555555555555]\n"),
        "{text}"
    );
    assert!(!text.contains("[profile default]"), "{text}");
}

/// Runs a populate that must fail with `code` and checks it wrote nothing: the same bytes, the
/// same inode, the same mtime.
fn fails_untouched(populate: &Populate, args: &[&str], code: i32) -> Run {
    let bytes = populate.config();
    let before = identity(&populate.config_path());
    let run = populate.populate(args).failure(code);
    assert_eq!(populate.config(), bytes);
    assert_eq!(identity(&populate.config_path()), before);
    run
}

#[test]
fn a_portal_failure_mid_listing_or_a_refused_token_fails_and_leaves_the_file() {
    let mut script = Script::default();
    script.grant_generated(20, 2);
    script.accounts_page_size = 7;
    let populate = Populate::new(CORP, script);
    populate.populate(&[]).success();
    // The 12th account's roles answer 500 every time.
    let failing = fake_sso::generated_account(11).0;
    populate
        .portal
        .script(|s| s.failing_roles_account = Some(failing));
    let mut script = Script::default();
    script.grant_generated(21, 2);
    populate.grant(&script);
    fails_untouched(&populate, &[], 1);
    // A token the portal refuses: log in again.
    populate.portal.script(|s| {
        s.failing_roles_account = None;
        s.refused_tokens = vec!["token-corp".into()];
    });
    fails_untouched(&populate, &["--prune"], 1)
        .stderr_has("run `rolecall sso login --sso-session corp`");
}

#[test]
fn throttled_calls_are_retried_until_every_profile_is_written() {
    let mut script = Script::default();
    script.grant_generated(40, 2);
    script.accounts_page_size = 7;
    script.roles_page_size = 1;
    // The first ListAccounts is throttled five times: the contract promises six attempts.
    script.throttle_first = 5;
    script.throttle_every = 9;
    let populate = Populate::new(CORP, script);
    let run = populate.populate(&[]).success();
    summary_after(
        &run,
        &summary_head(false, 80, &populate.config_path(), [80, 0, 0, 0]),
    );
    assert_eq!(
        populate.config(),
        format!(
            "{CORP}\n{}",
            block("corp", "eu-west-1", &generated_profiles(40, 2))
        )
    );
    // 6 account pages and 80 role pages answered, and the throttled calls on top.
    let calls = populate.portal.listing_calls().len();
    assert!(calls > 86 + 5, "{calls} listing calls");
}

#[test]
fn role_lists_are_fetched_in_parallel_but_never_more_than_eight_at_once() {
    // A short delay on each call, so calls that can overlap do.
    let mut script = Script::default();
    script.grant_generated(40, 1);
    script.portal_delay_ms = 20;
    let populate = Populate::new(CORP, script);
    populate.populate(&[]).success();
    let in_flight = populate.portal.most_in_flight();
    assert!((2..=8).contains(&in_flight), "{in_flight} calls at once");
}

#[test]
fn everything_outside_the_block_stays_byte_for_byte_and_the_mode_is_kept() {
    let prefix = "# my AWS config\r\n[default]\r\nregion=us-east-1   \r\noutput = json\n\n\
        ;  a semicolon comment\n[profile hand]   \nrole_arn = arn:aws:iam::123456789012:role/x\n\
        source_profile = default\n\n\t\n"
        .to_string()
        + CORP
        + "\n";
    let old = block(
        "corp",
        "eu-west-1",
        &[plain("Old/Admin", "111111111111", "Old", "Admin")],
    );
    let suffix = format!(
        "\n{OTHER}\n{}[profile after]\r\nregion = eu-west-2 # a trailing comment\n\
         # the last line, without a newline",
        block(
            "other",
            "us-east-1",
            &[plain("Other/Admin", "777777777777", "Other", "Admin")],
        )
    );
    let mut script = Script::default();
    script.grant("222222222222", "New", &["Admin"]);
    let populate = Populate::new(&format!("{prefix}{old}{suffix}"), script);
    std::fs::set_permissions(
        populate.config_path(),
        std::fs::Permissions::from_mode(0o640),
    )
    .unwrap();
    let before = names_in_directory(&populate.world.home().join(".aws"));
    let run = populate
        .populate(&["--sso-session", "corp", "--prune"])
        .success();
    summary_after(
        &run,
        &summary_head(false, 1, &populate.config_path(), [1, 0, 1, 0]),
    );
    let text = populate.config();
    let new = block(
        "corp",
        "eu-west-1",
        &[plain("New/Admin", "222222222222", "New", "Admin")],
    );
    assert!(text.starts_with(&prefix), "the start changed:\n{text:?}");
    assert!(text.ends_with(&suffix), "the end changed:\n{text:?}");
    assert_eq!(text, format!("{prefix}{new}{suffix}"));
    assert_eq!(mode(&populate.config_path()), 0o640);
    assert_eq!(
        names_in_directory(&populate.world.home().join(".aws")),
        before,
        "a file was left beside the config"
    );
    // A file without a block and without a final newline gets one, a blank line, the block.
    let bare = format!("{CORP}[profile after]\r\nregion = eu-west-2\n# no newline at the end");
    populate.world.write_config(&bare);
    populate.populate(&[]).success();
    assert_eq!(populate.config(), format!("{bare}\n\n{new}"));
}

#[test]
fn a_config_reached_through_a_symbolic_link_stays_a_link_and_its_target_gets_the_block() {
    let mut script = Script::default();
    script.grant("222222222222", "New", &["Admin"]);
    let populate = Populate::new(CORP, script);
    let home = populate.world.home();
    let dotfiles = home.join("dotfiles");
    std::fs::create_dir(&dotfiles).unwrap();
    let target = dotfiles.join("aws-config");
    std::fs::write(&target, CORP).unwrap();
    std::fs::set_permissions(&target, std::fs::Permissions::from_mode(0o640)).unwrap();
    std::fs::remove_file(populate.config_path()).unwrap();
    std::os::unix::fs::symlink("../dotfiles/aws-config", populate.config_path()).unwrap();
    let run = populate.populate(&[]).success();
    assert!(run.stderr.contains(": 1 added, "), "{}", run.stderr);
    let link = std::fs::symlink_metadata(populate.config_path()).unwrap();
    assert!(link.file_type().is_symlink(), "the link was replaced");
    assert_eq!(
        std::fs::read_link(populate.config_path()).unwrap(),
        Path::new("../dotfiles/aws-config")
    );
    assert_eq!(
        std::fs::read_to_string(&target).unwrap(),
        format!(
            "{CORP}\n{}",
            block(
                "corp",
                "eu-west-1",
                &[plain("New/Admin", "222222222222", "New", "Admin")]
            )
        )
    );
    assert_eq!(mode(&target), 0o640);
    assert_eq!(names_in_directory(&dotfiles), ["aws-config"]);
}

#[test]
fn a_config_that_does_not_parse_is_a_usage_error_before_any_portal_call() {
    let mut script = Script::default();
    script.grant("111111111111", "Prod", &["Admin"]);
    let a_block = block(
        "corp",
        "eu-west-1",
        &[plain("Prod/Admin", "111111111111", "Prod", "Admin")],
    );
    let broken = [
        format!("{CORP}[profile broken\nregion = eu-west-1\n"),
        format!("{CORP}\n# BEGIN rolecall sso populate [sso-session corp]\n[profile x]\nregion = eu-west-1\n"),
        format!("{CORP}\n{a_block}\n{a_block}"),
    ];
    for config in broken {
        let populate = Populate::new(&config, script.clone());
        fails_untouched(&populate, &[], 2);
        assert!(
            populate.portal.requests().is_empty(),
            "the portal was asked, for {config:?}"
        );
        // The same world with a config that parses populates: it was the config that failed.
        populate.world.write_config(CORP);
        populate.populate(&[]).success();
        assert!(!populate.portal.listing_calls().is_empty());
    }
}

#[test]
fn populates_started_together_leave_each_block_exactly_once() {
    // Little to list, so the processes reach the file together; a long config, so reading,
    // merging and writing it takes long enough for them to overlap there.
    let mut script = Script::default();
    script.grant_generated(3, 2);
    let template = "{session}/{account_name}/{role_name}";
    let expected_for = |session: &str, region: &str| {
        let profiles: Vec<Generated> = generated_profiles(3, 2)
            .into_iter()
            .map(|p| Generated {
                name: format!("{session}/{}", p.name),
                ..p
            })
            .collect();
        block(session, region, &profiles)
    };
    let corp = expected_for("corp", "eu-west-1");
    let other = expected_for("other", "us-east-1");
    let mut config = format!("{CORP}{OTHER}");
    for index in 0..3000 {
        config.push_str(&format!(
            "[profile hand-{index}]\nregion = eu-west-1\nrolecall_description = mine\n"
        ));
    }
    for round in 0..3 {
        let populate = Populate::new(&config, script.clone());
        populate.log_in("other");
        // Two sessions, each four times, all at once.
        let children: Vec<_> = ["corp", "other"]
            .repeat(4)
            .iter()
            .map(|session| {
                populate
                    .rolecall(&[
                        "sso",
                        "populate",
                        "--sso-session",
                        session,
                        "--name",
                        template,
                    ])
                    .stdout(std::process::Stdio::null())
                    .stderr(std::process::Stdio::piped())
                    .spawn()
                    .unwrap()
            })
            .collect();
        for child in children {
            let output = child.wait_with_output().unwrap();
            assert!(
                output.status.success(),
                "round {round}: {}",
                String::from_utf8_lossy(&output.stderr)
            );
        }
        let text = populate.config();
        let either_order = [
            format!("{config}\n{corp}\n{other}"),
            format!("{config}\n{other}\n{corp}"),
        ];
        assert!(
            either_order.contains(&text),
            "round {round}: the file ends\n{}",
            &text[config.len().min(text.len())..]
        );
        // And botocore, which refuses a section twice, reads all of it.
        let view = populate.botocore_view();
        assert_eq!(view["available"].as_array().unwrap().len(), 3000 + 12);
    }
}

#[test]
fn an_expired_login_is_renewed_with_its_refresh_token_or_else_reported() {
    let mut script = Script::default();
    script.grant("111111111111", "Prod", &["Admin"]);
    let populate = Populate::new(CORP, script);
    // As the AWS CLI leaves a login: expired, with a refresh token and its registration.
    common::write_sso_token(
        populate.world.home(),
        "corp",
        &serde_json::json!({
            "startUrl": "https://corp.awsapps.com/start",
            "region": "eu-west-1",
            "accessToken": "expired-token",
            "expiresAt": common::token_time(-60),
            "clientId": "client-seed",
            "clientSecret": "secret-seed",
            "registrationExpiresAt": common::token_time(30 * 86400),
            "refreshToken": "refresh-seed",
        }),
    );
    populate.populate(&[]).success();
    let token_file = common::sso_token_file(populate.world.home(), "corp");
    let renewed: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&token_file).unwrap()).unwrap();
    let access = renewed["accessToken"].as_str().unwrap();
    assert_ne!(access, "expired-token");
    let refresh = &populate.portal.calls_to("/token")[0];
    assert!(refresh.body.contains("refresh-seed"), "{}", refresh.body);
    let listings = populate.portal.listing_calls();
    assert!(!listings.is_empty());
    assert!(listings.iter().all(|call| call.token == access));
    assert_eq!(
        populate.config(),
        format!(
            "{CORP}\n{}",
            block(
                "corp",
                "eu-west-1",
                &[plain("Prod/Admin", "111111111111", "Prod", "Admin")]
            )
        )
    );
    // Expired with no refresh token, and no person to log in: say how, touch nothing.
    common::write_sso_token(
        populate.world.home(),
        "corp",
        &serde_json::json!({
            "accessToken": "expired-token",
            "expiresAt": common::token_time(-60),
        }),
    );
    let calls = populate.portal.requests().len();
    fails_untouched(&populate, &[], 1).stderr_has("run `rolecall sso login --sso-session corp`");
    assert_eq!(
        populate.portal.requests().len(),
        calls,
        "the portal was asked"
    );
}

#[test]
fn the_name_template_reduces_names_and_tells_clashing_ones_apart() {
    let mut script = Script::default();
    script.grant("111111111111", "Café Ops (EU)", &["Admin"]);
    script.grant("222222222222", "Shared", &["Admin"]);
    script.grant("333333333333", "Shared", &["Admin"]);
    script.grant("444444444444", "###", &["Admin"]);
    script.grant("555555555555", "Dev/Test", &["ReadOnly"]);
    script.grant("666666666666", "Twin", &["Ops=a", "Ops+a"]);
    let populate = Populate::new(CORP, script);
    // The description keeps the account name's text; only the profile name is reduced.
    let profile = |name: &str, id: &str, role: &str, account_name: &str| Generated {
        name: name.into(),
        account_id: id.into(),
        role: role.into(),
        description: format!("{account_name} ({id}) · {role}").trim().to_string(),
    };
    let cases: [(&str, [&str; 7]); 3] = [
        (
            "{account_name}/{role_name}",
            [
                "Caf-Ops-EU/Admin",
                "Shared/Admin-222222222222",
                "Shared/Admin-333333333333",
                // Nothing is left of `###`: the account is named by its ID.
                "444444444444/Admin",
                "Dev-Test/ReadOnly",
                // Both reduce to `Twin/Ops-a`, then both get the account ID, then the second in
                // (account ID, role name) order, `Ops=a`, gets `-2`.
                "Twin/Ops-a-666666666666",
                "Twin/Ops-a-666666666666-2",
            ],
        ),
        (
            "{account_name}",
            [
                "Caf-Ops-EU",
                "Shared-222222222222",
                "Shared-333333333333",
                "444444444444",
                "Dev-Test",
                "Twin-666666666666",
                "Twin-666666666666-2",
            ],
        ),
        (
            " ./aws.{session}:{account_id}::{role_name}/ ",
            [
                "aws.corp-111111111111-Admin",
                "aws.corp-222222222222-Admin",
                "aws.corp-333333333333-Admin",
                "aws.corp-444444444444-Admin",
                "aws.corp-555555555555-ReadOnly",
                "aws.corp-666666666666-Ops-a-666666666666",
                "aws.corp-666666666666-Ops-a-666666666666-2",
            ],
        ),
    ];
    for (template, names) in cases {
        let expected = [
            profile(names[0], "111111111111", "Admin", "Café Ops (EU)"),
            profile(names[1], "222222222222", "Admin", "Shared"),
            profile(names[2], "333333333333", "Admin", "Shared"),
            // `#` is removed from descriptions: nothing is left of this account's name.
            profile(names[3], "444444444444", "Admin", ""),
            profile(names[4], "555555555555", "ReadOnly", "Dev/Test"),
            profile(names[5], "666666666666", "Ops+a", "Twin"),
            profile(names[6], "666666666666", "Ops=a", "Twin"),
        ];
        populate
            .populate(&["--name", template, "--prune"])
            .success();
        assert_eq!(
            populate.config(),
            format!("{CORP}\n{}", block("corp", "eu-west-1", &expected)),
            "template {template:?}"
        );
    }
    // An unknown placeholder is a usage error, before any portal call.
    let calls = populate.portal.requests().len();
    fails_untouched(&populate, &["--name", "{account}/{role_name}"], 2);
    assert_eq!(populate.portal.requests().len(), calls);
}

#[test]
fn a_config_file_named_relative_to_the_working_directory_is_written_and_said_so() {
    let mut script = Script::default();
    script.grant("111111111111", "Production", &["Admin"]);
    let populate = Populate::new(CORP, script);
    // The world's commands run in HOME, so `.aws/config` and `config` name files there.
    std::fs::copy(populate.config_path(), populate.world.home().join("config")).unwrap();
    let mut command = populate.rolecall(&["sso", "populate"]);
    command.env("AWS_CONFIG_FILE", "config");
    let run = Run::of(command).success();
    run.stderr_has("1 added");
    let written = std::fs::read_to_string(populate.world.home().join("config")).unwrap();
    assert!(written.contains("[profile Production/Admin]"), "{written}");
    assert_eq!(
        populate.config(),
        CORP,
        "the file named was written, not ~/.aws/config"
    );
}

#[test]
fn prune_refuses_to_empty_the_block_when_the_portal_lists_no_account() {
    let mut script = Script::default();
    script.grant("111111111111", "Production", &["Admin"]);
    let populate = Populate::new(CORP, script);
    populate.populate(&[]).success();
    populate.grant(&Script::default());
    fails_untouched(&populate, &["--prune"], 1).stderr_has("nothing was changed");
    // Without --prune the profile is only stale, and stays.
    populate.populate(&[]).success().stderr_has("1 stale");
    assert!(populate.config().contains("[profile Production/Admin]"));
}

#[test]
fn on_a_terminal_progress_shows_while_listing_and_gives_way_to_the_summary() {
    let mut script = Script::default();
    script.grant_generated(40, 2);
    // Slow enough that the listing lasts a second or so: a progress line must be seen.
    script.portal_delay_ms = 150;
    let populate = Populate::new(CORP, script);
    let terminal = common::shell::Shell::new(&populate.world, "bash")
        .env("AWS_ENDPOINT_URL_SSO", &populate.portal.endpoint)
        .env("AWS_ENDPOINT_URL_SSO_OIDC", &populate.portal.endpoint)
        .terminal("PS1='RC$ '\n");
    terminal.wait_for_text("RC$");
    terminal.line("rolecall sso populate; echo \"status=$?\"");
    terminal.wait_for_text("rolecall: listing roles: ");
    let screen = terminal.wait_for_text("status=0");
    assert!(
        screen.contains("80 profiles in") && screen.contains("80 added"),
        "{screen}"
    );
    assert!(
        !screen.contains("listing"),
        "the progress line was not cleared:\n{screen}"
    );
}

/// How an editor saves `text` at a path.
type Save = fn(&Path, &str);

#[test]
fn an_editor_s_save_while_populate_writes_is_kept_and_populate_writes_nothing() {
    let mut script = Script::default();
    script.grant("111111111111", "Dev", &["Admin"]);
    let populate = Populate::new(CORP, script);
    let path = populate.config_path();
    // An editor that saves by writing a new file and renaming it over the old one, and one
    // that writes the file in place.
    let saves: [(&str, Save); 2] = [
        ("renamed", |path, text| {
            let new = path.with_extension("swp");
            std::fs::write(&new, text).unwrap();
            std::fs::rename(&new, path).unwrap();
        }),
        ("in place", |path, text| std::fs::write(path, text).unwrap()),
    ];
    for (how, save) in saves {
        let saved = format!(
            "{}# saved {how} by an editor meanwhile\n",
            populate.config()
        );
        let run = Run::pausing_before_rename(populate.rolecall(&["sso", "populate"]), || {
            save(&path, &saved)
        })
        .failure(1);
        run.stderr_has("changed while rolecall was working on it; run the command again");
        assert_eq!(
            populate.config(),
            saved,
            "{how}: the editor's save was lost"
        );
        assert_eq!(
            names_in_directory(&populate.world.home().join(".aws")),
            ["config", "sso"],
            "{how}: a file was left beside the config"
        );
    }
    // Run again, it writes its block below the editor's lines.
    populate.populate(&[]).success();
    assert!(populate
        .config()
        .contains("# saved in place by an editor meanwhile\n"));
    assert!(populate.config().contains("[profile Dev/Admin]"));
}

#[test]
fn a_config_with_two_names_is_refused_and_both_stay_as_they_were() {
    let mut script = Script::default();
    script.grant("111111111111", "Dev", &["Admin"]);
    let populate = Populate::new(CORP, script);
    let other_name = populate.world.home().join("config-backup");
    std::fs::hard_link(populate.config_path(), &other_name).unwrap();
    let run = fails_untouched(&populate, &[], 2);
    run.stderr_has("has 2 names (hard links)")
        .stderr_has("nothing was changed");
    assert_eq!(std::fs::read_to_string(&other_name).unwrap(), CORP);
}
