//! The tests' own STS, for what moto cannot do: error responses, silence, malformed answers.
//! It answers every request with one scripted behaviour and records the Action of each, and the
//! access key ID each was signed with.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::{Arc, Mutex};
use std::time::Duration;

#[derive(Clone)]
pub enum Behaviour {
    /// An HTTP status, extra headers and a body.
    Answer {
        status: u16,
        headers: Vec<(String, String)>,
        body: String,
    },
    /// Answer AssumeRole and GetSessionToken with these credentials, valid for an hour.
    Grant {
        access_key_id: String,
        secret_access_key: String,
        session_token: String,
    },
    /// Answer with credentials of their own for each request (`ASIAFAKE<n>`, n counting the
    /// requests), valid for this many seconds: renewals show as new keys.
    Lasting(i64),
    /// Read the request, then never answer.
    Silent,
    /// The n-th request gets the n-th behaviour; the last one repeats.
    Sequence(Vec<Behaviour>),
    /// Wait, then behave.
    Delayed(Duration, Box<Behaviour>),
}

impl Behaviour {
    pub fn grant() -> Behaviour {
        Behaviour::Grant {
            access_key_id: "ASIAFAKE".into(),
            secret_access_key: "secret".into(),
            session_token: "token".into(),
        }
    }

    /// An STS error as the real service writes it.
    pub fn sts_error(status: u16, code: &str, message: &str) -> Behaviour {
        Behaviour::Answer {
            status,
            headers: Vec::new(),
            body: format!(
                "<ErrorResponse xmlns=\"https://sts.amazonaws.com/doc/2011-06-15/\">\
                 <Error><Type>Sender</Type><Code>{code}</Code><Message>{message}</Message></Error>\
                 <RequestId>c6104cbe-af31-11e0-8154-cbc7ccf896c7</RequestId></ErrorResponse>"
            ),
        }
    }

    pub fn with_header(self, name: &str, value: &str) -> Behaviour {
        match self {
            Behaviour::Answer {
                status,
                mut headers,
                body,
            } => {
                headers.push((name.into(), value.into()));
                Behaviour::Answer {
                    status,
                    headers,
                    body,
                }
            }
            silent => silent,
        }
    }
}

pub struct FakeSts {
    pub endpoint: String,
    pub actions: Arc<Mutex<Vec<String>>>,
    /// The access key ID of each request's signature, in the order of `actions`.
    pub signers: Arc<Mutex<Vec<String>>>,
    /// Each request's form body, in the order of `actions`.
    pub bodies: Arc<Mutex<Vec<String>>>,
}

impl FakeSts {
    pub fn start(behaviour: Behaviour) -> FakeSts {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind fake STS");
        let endpoint = format!("http://{}", listener.local_addr().unwrap());
        let actions = Arc::new(Mutex::new(Vec::new()));
        let signers = Arc::new(Mutex::new(Vec::new()));
        let bodies = Arc::new(Mutex::new(Vec::new()));
        let recorded = Recorded {
            actions: actions.clone(),
            signers: signers.clone(),
            bodies: bodies.clone(),
        };
        std::thread::spawn(move || {
            for stream in listener.incoming().flatten() {
                let behaviour = behaviour.clone();
                let recorded = recorded.clone();
                std::thread::spawn(move || serve(stream, behaviour, recorded));
            }
        });
        FakeSts {
            endpoint,
            actions,
            signers,
            bodies,
        }
    }

    /// The value of form field `name` in each request so far.
    pub fn fields(&self, name: &str) -> Vec<String> {
        self.bodies
            .lock()
            .unwrap()
            .iter()
            .map(|body| {
                form_urlencoded::parse(body.as_bytes())
                    .find(|(n, _)| n == name)
                    .map(|(_, v)| v.into_owned())
                    .unwrap_or_default()
            })
            .collect()
    }

    pub fn actions(&self) -> Vec<String> {
        self.actions.lock().unwrap().clone()
    }

    /// (Action, access key ID it was signed with) of each request so far.
    pub fn signed_actions(&self) -> Vec<(String, String)> {
        let actions = self.actions.lock().unwrap();
        let signers = self.signers.lock().unwrap();
        actions
            .iter()
            .cloned()
            .zip(signers.iter().cloned())
            .collect()
    }
}

/// What the requests were: shared with the test.
#[derive(Clone)]
struct Recorded {
    actions: Arc<Mutex<Vec<String>>>,
    signers: Arc<Mutex<Vec<String>>>,
    bodies: Arc<Mutex<Vec<String>>>,
}

fn serve(stream: TcpStream, behaviour: Behaviour, recorded: Recorded) {
    let mut reader = BufReader::new(stream.try_clone().unwrap());
    loop {
        let mut content_length = 0usize;
        let mut signer = String::new();
        let mut line = String::new();
        if reader.read_line(&mut line).unwrap_or(0) == 0 {
            return;
        }
        loop {
            line.clear();
            if reader.read_line(&mut line).unwrap_or(0) == 0 {
                return;
            }
            let header = line.trim_end();
            if header.is_empty() {
                break;
            }
            if let Some((name, value)) = header.split_once(':') {
                if name.eq_ignore_ascii_case("content-length") {
                    content_length = value.trim().parse().unwrap_or(0);
                }
                // SigV4: `… Credential=AKIA…/date/region/service/aws4_request, …`.
                if name.eq_ignore_ascii_case("authorization") {
                    if let Some((_, credential)) = value.split_once("Credential=") {
                        signer = credential.split('/').next().unwrap_or("").to_string();
                    }
                }
            }
        }
        let mut body = vec![0u8; content_length];
        if reader.read_exact(&mut body).is_err() {
            return;
        }
        let body = String::from_utf8_lossy(&body);
        let action = body
            .split('&')
            .find_map(|pair| pair.strip_prefix("Action="))
            .unwrap_or("")
            .to_string();
        // Both under the actions' lock, so concurrent requests keep the two lists in step.
        let count = {
            let mut actions = recorded.actions.lock().unwrap();
            recorded.signers.lock().unwrap().push(signer);
            recorded.bodies.lock().unwrap().push(body.to_string());
            actions.push(action.clone());
            actions.len()
        };
        let mut current = match &behaviour {
            Behaviour::Sequence(steps) => steps[(count - 1).min(steps.len() - 1)].clone(),
            other => other.clone(),
        };
        if let Behaviour::Delayed(delay, then) = current {
            std::thread::sleep(delay);
            current = *then;
        }
        let answer;
        let behaviour_now = match &current {
            Behaviour::Grant {
                access_key_id,
                secret_access_key,
                session_token,
            } => {
                answer = Behaviour::Answer {
                    status: 200,
                    headers: Vec::new(),
                    body: grant_body(
                        &action,
                        access_key_id,
                        secret_access_key,
                        session_token,
                        3600,
                    ),
                };
                &answer
            }
            Behaviour::Lasting(seconds) => {
                answer = Behaviour::Answer {
                    status: 200,
                    headers: Vec::new(),
                    body: grant_body(
                        &action,
                        &format!("ASIAFAKE{count}"),
                        "secret",
                        "token",
                        *seconds,
                    ),
                };
                &answer
            }
            other => other,
        };
        match behaviour_now {
            Behaviour::Grant { .. }
            | Behaviour::Lasting(_)
            | Behaviour::Sequence(_)
            | Behaviour::Delayed(..) => {
                unreachable!("resolved to an answer above")
            }
            Behaviour::Silent => {
                std::thread::sleep(Duration::from_secs(600));
                return;
            }
            Behaviour::Answer {
                status,
                headers,
                body,
            } => {
                let mut response = format!(
                    "HTTP/1.1 {status} Status\r\nContent-Type: text/xml\r\nContent-Length: {}\r\n",
                    body.len()
                );
                for (name, value) in headers {
                    response.push_str(&format!("{name}: {value}\r\n"));
                }
                response.push_str("\r\n");
                response.push_str(body);
                let mut writer = &stream;
                if writer.write_all(response.as_bytes()).is_err() {
                    return;
                }
            }
        }
    }
}

fn xml_escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
        .replace('\'', "&apos;")
}

fn grant_body(action: &str, key: &str, secret: &str, token: &str, seconds: i64) -> String {
    let expiration = (chrono::Utc::now() + chrono::Duration::seconds(seconds))
        .to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
    let assumed = if action == "AssumeRole" {
        "<AssumedRoleUser><AssumedRoleId>AROA:tester</AssumedRoleId>\
         <Arn>arn:aws:sts::111111111111:assumed-role/fake/tester</Arn></AssumedRoleUser>"
    } else {
        ""
    };
    format!(
        "<{action}Response xmlns=\"https://sts.amazonaws.com/doc/2011-06-15/\"><{action}Result>\
         <Credentials><AccessKeyId>{}</AccessKeyId><SecretAccessKey>{}</SecretAccessKey>\
         <SessionToken>{}</SessionToken><Expiration>{expiration}</Expiration></Credentials>\
         {assumed}</{action}Result><ResponseMetadata><RequestId>1</RequestId></ResponseMetadata>\
         </{action}Response>",
        xml_escape(key),
        xml_escape(secret),
        xml_escape(token)
    )
}
