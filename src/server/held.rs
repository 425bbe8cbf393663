//! The credentials the endpoint holds, and their renewal on a thread of its own: the engine
//! blocks (STS, an MFA prompt), so it never runs on the endpoint's one thread, and no thread is
//! started per request.

use crate::error::Result;
use crate::session::{Credentials, Session};
use std::sync::{mpsc, Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::sync::watch;

/// After a renewal failed, the next waits this long, however many requests come.
pub const RETRY_AFTER: Duration = Duration::from_secs(5);

/// A request waits this long for a renewal under way before it gets the held credentials (while
/// they are valid): the SDKs give up on the endpoint after about 2 s.
const HELD_AFTER: Duration = Duration::from_secs(1);

pub type Renew = Box<dyn Fn() -> Result<Session> + Send>;

pub struct Holder {
    state: Mutex<State>,
    margin: i64,
    /// Wakes the renewal thread.
    ask: mpsc::Sender<()>,
    /// Sent when a renewal has ended: requests waiting for it watch this.
    ended: watch::Sender<()>,
}

struct State {
    session: Session,
    renewing: bool,
    /// When the last renewal failed, while no later one succeeded.
    failed_at: Option<Instant>,
    /// Whether that failure was said on stderr already: once is enough.
    told: bool,
}

/// What a request does next.
enum Step {
    Serve(Credentials),
    Wait(watch::Receiver<()>),
    Refuse,
}

impl Holder {
    /// Holds `session` and starts the thread that renews it through `renew`.
    pub fn start(session: Session, renew: Renew, margin: i64) -> std::io::Result<Arc<Holder>> {
        let (ask, asked) = mpsc::channel();
        let holder = Arc::new(Holder {
            state: Mutex::new(State {
                session,
                renewing: false,
                failed_at: None,
                told: false,
            }),
            margin,
            ask,
            ended: watch::channel(()).0,
        });
        let renewer = Arc::clone(&holder);
        std::thread::Builder::new()
            .name("renewal".into())
            .spawn(move || {
                for () in asked {
                    renewer.renew_once(&renew);
                }
            })?;
        Ok(holder)
    }

    /// Credentials to hand out: ones with more than the margin left, renewed first when the
    /// held ones are older; the held ones while valid if renewing fails or takes long; none once
    /// nothing valid is held.
    pub async fn credentials(&self) -> Option<Credentials> {
        let mut first = true;
        loop {
            match self.step(first) {
                Step::Serve(credentials) => return Some(credentials),
                Step::Refuse => return None,
                Step::Wait(mut ended) => {
                    let _ = tokio::time::timeout(HELD_AFTER, ended.changed()).await;
                }
            }
            first = false;
        }
    }

    /// Only a request's first step may start a renewal: one whose answer is again within the
    /// margin (a margin longer than the role's sessions) is served, not renewed in a loop.
    fn step(&self, first: bool) -> Step {
        let mut state = self.state.lock().unwrap_or_else(|e| e.into_inner());
        let left = state.session.credentials.seconds_left(crate::time::now());
        if left.is_none_or(|left| left > self.margin) {
            return Step::Serve(state.session.credentials.clone());
        }
        let valid = left.is_none_or(|left| left > 0);
        if first && !state.renewing {
            let due = state
                .failed_at
                .is_none_or(|failed| failed.elapsed() >= RETRY_AFTER);
            if due && self.ask.send(()).is_ok() {
                state.renewing = true;
            }
        }
        if state.renewing && (first || !valid) {
            Step::Wait(self.ended.subscribe())
        } else if valid {
            Step::Serve(state.session.credentials.clone())
        } else {
            Step::Refuse
        }
    }

    fn renew_once(&self, renew: &Renew) {
        // A bug in the engine must not leave requests waiting on a renewal that never ends.
        let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(renew))
            .unwrap_or_else(|_| Err(crate::error::Failure::local("an internal error")));
        let mut state = self.state.lock().unwrap_or_else(|e| e.into_inner());
        state.renewing = false;
        let mut untold = None;
        match result {
            Ok(session) => {
                state.session = session;
                state.failed_at = None;
                state.told = false;
            }
            Err(failure) => {
                state.failed_at = Some(Instant::now());
                if !state.told {
                    state.told = true;
                    untold = Some(failure);
                }
            }
        }
        drop(state);
        self.ended.send_replace(());
        // Said after the requests are let go: a stderr nobody reads must not hold them up.
        if let Some(failure) = untold {
            eprintln!(
                "rolecall: the credentials server could not renew the credentials (it serves \
                 the ones it holds while they last, and tries again): {}",
                crate::error::printable_lines(&failure.message)
            );
        }
    }
}
