//! A loopback HTTP proxy in front of moto that lets a test decide when a request goes through:
//! hold writes (or one operation) until the test releases them, so two envctl processes both
//! observe "missing" before either creates, or so a step is in flight when the test presses
//! Ctrl-C; and answer an operation the way real AWS does where moto behaves differently (moto
//! silently replaces a service or a schedule group that AWS refuses to create twice).
//!
//! One request per connection: the proxy reads a request (head and `Content-Length` body),
//! forwards it to moto on a new connection marked `Connection: close`, and passes the reply
//! back with `Connection: close` too. Every client here (the SDK's hyper pool) reconnects.

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::{Arc, Condvar, Mutex};
use std::time::{Duration, Instant};

/// A canned reply for one operation.
#[derive(Clone)]
pub struct Reply {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: String,
}

impl Reply {
    /// An awsJson error (ECS, Logs, ECR, Cloud Map): `__type` names it.
    pub fn json_error(status: u16, code: &str, message: &str) -> Reply {
        Reply {
            status,
            headers: vec![("Content-Type".into(), "application/x-amz-json-1.1".into())],
            body: serde_json::json!({ "__type": code, "message": message }).to_string(),
        }
    }

    /// A successful awsJson reply.
    pub fn json(body: serde_json::Value) -> Reply {
        Reply {
            status: 200,
            headers: vec![("Content-Type".into(), "application/x-amz-json-1.1".into())],
            body: body.to_string(),
        }
    }

    /// An awsQuery error (IAM, ELB, STS): XML with the code inside.
    pub fn query_error(status: u16, code: &str, message: &str) -> Reply {
        Reply {
            status,
            headers: vec![("Content-Type".into(), "text/xml".into())],
            body: format!(
                "<ErrorResponse><Error><Type>Sender</Type><Code>{code}</Code>\
                 <Message>{message}</Message></Error><RequestId>proxy</RequestId></ErrorResponse>"
            ),
        }
    }

    /// A restJson error (EventBridge Scheduler): the code is in `x-amzn-ErrorType`.
    pub fn rest_error(status: u16, code: &str, message: &str) -> Reply {
        Reply {
            status,
            headers: vec![
                ("Content-Type".into(), "application/json".into()),
                ("x-amzn-ErrorType".into(), code.into()),
            ],
            body: serde_json::json!({ "Message": message }).to_string(),
        }
    }
}

#[derive(Default)]
struct State {
    hold_writes: bool,
    hold_ops: Vec<String>,
    /// Every operation received, in order.
    seen: Vec<String>,
    /// Operations waiting to be released.
    held: Vec<String>,
    /// Operations answered by the proxy itself (see `Proxy::answer_after`).
    answers: BTreeMap<String, Answer>,
    /// Requests being forwarded to moto, by operation.
    forwarding: BTreeMap<String, usize>,
}

struct Answer {
    reply: Reply,
    /// Only requests whose body contains this (a resource name) are answered.
    body_contains: Option<String>,
    /// Requests of the operation still to forward before answering.
    skip: usize,
    /// Requests still to answer.
    times: usize,
}

pub struct Proxy {
    pub url: String,
    shared: Arc<(Mutex<State>, Condvar)>,
}

impl Proxy {
    pub fn start(upstream: &str) -> Proxy {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind loopback");
        let url = format!("http://{}", listener.local_addr().expect("proxy address"));
        let upstream = upstream
            .trim_start_matches("http://")
            .trim_end_matches('/')
            .to_string();
        let shared: Arc<(Mutex<State>, Condvar)> = Arc::default();
        let s = shared.clone();
        std::thread::spawn(move || {
            for conn in listener.incoming() {
                let Ok(conn) = conn else { continue };
                let (s, upstream) = (s.clone(), upstream.clone());
                std::thread::spawn(move || {
                    let _ = handle(conn, &upstream, &s);
                });
            }
        });
        Proxy { url, shared }
    }

    fn with<T>(&self, f: impl FnOnce(&mut State) -> T) -> T {
        let (lock, cv) = &*self.shared;
        let out = f(&mut lock.lock().unwrap_or_else(|e| e.into_inner()));
        cv.notify_all();
        out
    }

    /// Hold every write (anything but Describe/List/Get/BatchGet) until `release`.
    pub fn hold_writes(&self) {
        self.with(|s| s.hold_writes = true);
    }

    /// Hold requests of `op` until `release`.
    pub fn hold(&self, op: &str) {
        self.with(|s| s.hold_ops.push(op.to_string()));
    }

    /// Lets every held request (and the ones to come) through.
    pub fn release(&self) {
        self.with(|s| {
            s.hold_writes = false;
            s.hold_ops.clear();
        });
    }

    /// Answers the next `times` requests of `op` with `reply` instead of forwarding them.
    pub fn answer(&self, op: &str, reply: Reply, times: usize) {
        self.answer_after(op, 0, reply, times);
    }

    /// Forwards the next `skip` requests of `op`, then answers `times` with `reply`; an answer
    /// waits until the forwarded ones of that operation have their reply, so that "already
    /// exists" is only said of something that does.
    pub fn answer_after(&self, op: &str, skip: usize, reply: Reply, times: usize) {
        self.with(|s| {
            s.answers.insert(
                op.to_string(),
                Answer {
                    reply,
                    body_contains: None,
                    skip,
                    times,
                },
            );
        });
    }

    /// Answers the next `times` requests of `op` whose body contains `text` with `reply`.
    pub fn answer_where(&self, op: &str, text: &str, reply: Reply, times: usize) {
        self.with(|s| {
            s.answers.insert(
                op.to_string(),
                Answer {
                    reply,
                    body_contains: Some(text.to_string()),
                    skip: 0,
                    times,
                },
            );
        });
    }

    /// Every operation received so far, in order.
    pub fn seen(&self) -> Vec<String> {
        self.with(|s| s.seen.clone())
    }

    /// The operations being held right now.
    pub fn held(&self) -> Vec<String> {
        self.with(|s| s.held.clone())
    }

    /// Waits (up to a minute) until `n` requests of `op` have arrived; panics otherwise.
    pub fn wait_for(&self, op: &str, n: usize) {
        let (lock, cv) = &*self.shared;
        let deadline = Instant::now() + Duration::from_secs(60);
        let mut s = lock.lock().unwrap_or_else(|e| e.into_inner());
        loop {
            let count = s.seen.iter().filter(|o| *o == op).count();
            if count >= n {
                return;
            }
            let left = deadline.saturating_duration_since(Instant::now());
            assert!(
                !left.is_zero(),
                "{n} {op} request(s) did not arrive within a minute; seen: {:?}",
                s.seen
            );
            s = cv
                .wait_timeout(s, left)
                .unwrap_or_else(|e| e.into_inner())
                .0;
        }
    }
}

fn handle(
    mut client: TcpStream,
    upstream: &str,
    shared: &(Mutex<State>, Condvar),
) -> std::io::Result<()> {
    let mut reader = BufReader::new(client.try_clone()?);
    let mut head = Vec::new();
    let mut length = 0usize;
    let mut target = None;
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line)? == 0 {
            return Ok(());
        }
        let lower = line.to_ascii_lowercase();
        if let Some(v) = lower.strip_prefix("content-length:") {
            length = v.trim().parse().unwrap_or(0);
        }
        if lower.starts_with("x-amz-target:") {
            // `ECS_20141113.CreateService` → `CreateService`, in the operation's own spelling.
            target = line
                .split_once(':')
                .and_then(|(_, v)| v.trim().rsplit('.').next())
                .map(str::to_string);
        }
        let end = line == "\r\n";
        // Every reply ends its connection: the request must say so to moto too.
        if !lower.starts_with("connection:") {
            if end {
                head.extend_from_slice(b"Connection: close\r\n");
            }
            head.extend_from_slice(line.as_bytes());
        }
        if end {
            break;
        }
    }
    let mut body = vec![0; length];
    reader.read_exact(&mut body)?;
    let request_line = String::from_utf8_lossy(&head)
        .lines()
        .next()
        .unwrap_or_default()
        .to_string();
    let mut parts = request_line.split_whitespace();
    let method = parts.next().unwrap_or_default().to_string();
    let path = parts.next().unwrap_or_default().to_string();
    let op = target
        .or_else(|| super::rest_operation(&method, &path))
        .or_else(|| {
            String::from_utf8_lossy(&body)
                .split('&')
                .find_map(|kv| kv.strip_prefix("Action="))
                .map(str::to_string)
        })
        .unwrap_or_else(|| format!("{method} {path}"));
    let write = !matches!(method.as_str(), "GET" | "HEAD")
        && !["Describe", "List", "Get", "BatchGet"]
            .iter()
            .any(|p| op.starts_with(p));

    let (lock, cv) = shared;
    let answer = {
        let mut s = lock.lock().unwrap_or_else(|e| e.into_inner());
        s.seen.push(op.clone());
        cv.notify_all();
        let mut held = false;
        while (write && s.hold_writes) || s.hold_ops.contains(&op) {
            if !held {
                s.held.push(op.clone());
                cv.notify_all();
                held = true;
            }
            s = cv.wait(s).unwrap_or_else(|e| e.into_inner());
        }
        if held {
            if let Some(i) = s.held.iter().position(|h| *h == op) {
                s.held.remove(i);
            }
        }
        let text = String::from_utf8_lossy(&body);
        let answer = match s.answers.get_mut(&op).filter(|a| {
            a.body_contains
                .as_ref()
                .is_none_or(|t| text.contains(t.as_str()))
        }) {
            Some(a) if a.skip > 0 => {
                a.skip -= 1;
                None
            }
            Some(a) if a.times > 0 => {
                a.times -= 1;
                Some(a.reply.clone())
            }
            _ => None,
        };
        match answer {
            Some(reply) => {
                while s.forwarding.get(&op).copied().unwrap_or(0) > 0 {
                    s = cv.wait(s).unwrap_or_else(|e| e.into_inner());
                }
                Some(reply)
            }
            None => {
                *s.forwarding.entry(op.clone()).or_default() += 1;
                None
            }
        }
    };

    let reply = match answer {
        Some(r) => {
            let mut out = format!("HTTP/1.1 {} Canned\r\n", r.status);
            for (k, v) in &r.headers {
                out.push_str(&format!("{k}: {v}\r\n"));
            }
            out.push_str(&format!(
                "Content-Length: {}\r\nConnection: close\r\n\r\n{}",
                r.body.len(),
                r.body
            ));
            out.into_bytes()
        }
        None => {
            let forwarded = forward(upstream, &head, &body);
            let mut s = lock.lock().unwrap_or_else(|e| e.into_inner());
            if let Some(n) = s.forwarding.get_mut(&op) {
                *n = n.saturating_sub(1);
            }
            cv.notify_all();
            drop(s);
            close_connection(forwarded?)
        }
    };
    client.write_all(&reply)?;
    client.flush()
}

fn forward(upstream: &str, head: &[u8], body: &[u8]) -> std::io::Result<Vec<u8>> {
    let mut up = TcpStream::connect(upstream)?;
    up.write_all(head)?;
    up.write_all(body)?;
    let mut raw = Vec::new();
    up.read_to_end(&mut raw)?;
    Ok(raw)
}

/// The reply with its `Connection` header replaced by `Connection: close`.
fn close_connection(raw: Vec<u8>) -> Vec<u8> {
    let Some(split) = raw.windows(4).position(|w| w == b"\r\n\r\n") else {
        return raw;
    };
    let head = String::from_utf8_lossy(&raw[..split]);
    let mut out: String = head
        .split("\r\n")
        .filter(|l| !l.to_ascii_lowercase().starts_with("connection:"))
        .map(|l| format!("{l}\r\n"))
        .collect();
    out.push_str("Connection: close\r\n\r\n");
    let mut bytes = out.into_bytes();
    bytes.extend_from_slice(&raw[split + 4..]);
    bytes
}
