//! A loopback relay in front of a real service (moto) that keeps every byte sent to it, so a
//! test can see what reached STS (an MFA TokenCode) while moto still answers.

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::{Arc, Mutex};

pub struct Recorder {
    pub endpoint: String,
    sent: Arc<Mutex<Vec<u8>>>,
}

impl Recorder {
    /// A relay to `upstream` (`http://127.0.0.1:PORT`) on a port of its own.
    pub fn in_front_of(upstream: &str) -> Recorder {
        let target = upstream
            .strip_prefix("http://")
            .expect("the recorder relays plain HTTP")
            .to_string();
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind the recorder");
        let endpoint = format!("http://{}", listener.local_addr().unwrap());
        let sent = Arc::new(Mutex::new(Vec::new()));
        let log = Arc::clone(&sent);
        std::thread::spawn(move || {
            for client in listener.incoming().flatten() {
                let Ok(server) = TcpStream::connect(&target) else {
                    continue;
                };
                let log = Arc::clone(&log);
                std::thread::spawn(move || relay(client, server, log));
            }
        });
        Recorder { endpoint, sent }
    }

    /// Every request's bytes, as text, in the order they arrived.
    pub fn sent(&self) -> String {
        String::from_utf8_lossy(&self.sent.lock().unwrap()).into_owned()
    }

    /// How many requests named this STS Action.
    pub fn count(&self, action: &str) -> usize {
        self.sent().matches(&format!("Action={action}&")).count()
    }

    /// The TokenCode of every request that carried one, in order.
    pub fn token_codes(&self) -> Vec<String> {
        self.sent()
            .split("TokenCode=")
            .skip(1)
            .map(|rest| rest.chars().take_while(char::is_ascii_digit).collect())
            .collect()
    }
}

/// Copies the answer back on a thread of its own and the request forward here, keeping it.
fn relay(mut client: TcpStream, mut server: TcpStream, log: Arc<Mutex<Vec<u8>>>) {
    let (Ok(mut client_back), Ok(mut server_back)) = (client.try_clone(), server.try_clone())
    else {
        return;
    };
    let answers = std::thread::spawn(move || {
        let _ = std::io::copy(&mut server_back, &mut client_back);
        let _ = client_back.shutdown(std::net::Shutdown::Both);
    });
    let mut buffer = [0u8; 8192];
    loop {
        match client.read(&mut buffer) {
            Ok(0) | Err(_) => break,
            Ok(read) => {
                log.lock().unwrap().extend_from_slice(&buffer[..read]);
                if server.write_all(&buffer[..read]).is_err() {
                    break;
                }
            }
        }
    }
    let _ = server.shutdown(std::net::Shutdown::Write);
    let _ = answers.join();
}
