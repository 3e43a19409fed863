//! Failures before and around the first AWS call (issue 11, items 8 and 9): missing credentials,
//! unknown profiles, expired SSO sessions, bad regions, endpoints that refuse, never answer,
//! answer with something that is not AWS, throttle or deny. Each must end in one or two lines
//! that name the cause and the fix, never an SDK `Debug` dump, and set-up errors must be found
//! before anything is sent.
//!
//! moto cannot refuse, hang, throttle or deny, so these tests run envctl against a loopback
//! endpoint made here, which answers every request the same way (or never) and counts what it
//! received.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::Path;
use std::sync::{Arc, Mutex};

use tempfile::TempDir;

use crate::support::{offline, Run};

/// How the fake endpoint answers.
#[derive(Clone, Copy)]
enum Reply {
    /// Accepts connections and never answers.
    Never,
    /// Every request gets this status, content type and body.
    Fixed(u16, &'static str, &'static str),
}

/// A loopback endpoint that answers every request with one `Reply`, keeping what it saw.
struct Endpoint {
    url: String,
    seen: Arc<Mutex<Seen>>,
}

#[derive(Default)]
struct Seen {
    connections: usize,
    /// Each request's head (request line and headers).
    requests: Vec<String>,
}

impl Endpoint {
    fn start(reply: Reply) -> Endpoint {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind loopback");
        let url = format!("http://{}", listener.local_addr().expect("address"));
        let seen = Arc::new(Mutex::new(Seen::default()));
        let record = seen.clone();
        // Detached: the thread ends with the test process.
        std::thread::spawn(move || {
            let mut held = Vec::new();
            for stream in listener.incoming().flatten() {
                record.lock().unwrap().connections += 1;
                match reply {
                    // Held open, never read or answered.
                    Reply::Never => held.push(stream),
                    Reply::Fixed(status, content_type, body) => {
                        let record = record.clone();
                        std::thread::spawn(move || {
                            answer(stream, status, content_type, body, &record)
                        });
                    }
                }
            }
        });
        Endpoint { url, seen }
    }

    fn connections(&self) -> usize {
        self.seen.lock().unwrap().connections
    }

    fn requests(&self) -> Vec<String> {
        self.seen.lock().unwrap().requests.clone()
    }

    /// How many requests named `op` in their X-Amz-Target header (`DescribeClusters`).
    fn count(&self, op: &str) -> usize {
        let suffix = format!(".{op}");
        self.requests()
            .iter()
            .filter(|head| {
                head.lines().any(|l| {
                    l.to_ascii_lowercase().starts_with("x-amz-target:")
                        && l.trim_end().ends_with(&suffix)
                })
            })
            .count()
    }
}

/// Reads one request and answers it, closing the connection.
fn answer(stream: TcpStream, status: u16, content_type: &str, body: &str, seen: &Mutex<Seen>) {
    let mut reader = BufReader::new(stream);
    let mut head = String::new();
    let mut length = 0;
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line).unwrap_or(0) == 0 {
            return;
        }
        if let Some(v) = line.to_ascii_lowercase().strip_prefix("content-length:") {
            length = v.trim().parse().unwrap_or(0);
        }
        head.push_str(&line);
        if line == "\r\n" {
            break;
        }
    }
    let mut request_body = vec![0; length];
    let _ = reader.read_exact(&mut request_body);
    seen.lock().unwrap().requests.push(head);
    let mut stream = reader.into_inner();
    let _ = write!(
        stream,
        "HTTP/1.1 {status} X\r\nContent-Type: {content_type}\r\nContent-Length: {}\r\n\
         Connection: close\r\n\r\n{body}",
        body.len()
    );
}

/// An app directory (`init --app shop`) and an empty home, so no real `~/.aws` is read.
struct Dirs {
    app: TempDir,
    home: TempDir,
}

fn dirs() -> Dirs {
    let app = tempfile::tempdir().expect("temp dir");
    let out = Run::of(offline(app.path()), &["init", "--app", "shop"]);
    assert_eq!(out.code, 0, "init failed: {}", out.stderr);
    Dirs {
        app,
        home: tempfile::tempdir().expect("temp home"),
    }
}

/// envctl in the app directory with the home directory `home`, no AWS settings and no profile
/// files but the ones a test writes, and the instance metadata service off.
fn envctl(dirs: &Dirs) -> assert_cmd::Command {
    let mut cmd = offline(dirs.app.path());
    cmd.env("HOME", dirs.home.path())
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .env_remove("AWS_CONFIG_FILE")
        .env_remove("AWS_SHARED_CREDENTIALS_FILE")
        .env_remove("AWS_SESSION_TOKEN")
        .env_remove("AWS_OPERATION_TIMEOUT")
        .env_remove("ENVCTL_OPERATION_TIMEOUT");
    cmd
}

/// envctl with test credentials and region, every call sent to `endpoint`.
fn envctl_at(dirs: &Dirs, endpoint: &Endpoint) -> assert_cmd::Command {
    let mut cmd = envctl(dirs);
    cmd.env("AWS_ENDPOINT_URL", &endpoint.url)
        .env("AWS_REGION", "us-east-1")
        .env("AWS_ACCESS_KEY_ID", "testing")
        .env("AWS_SECRET_ACCESS_KEY", "testing");
    cmd
}

/// The error a person reads: `error:` and `hint:` lines only (retry notices aside), no
/// struct syntax from a `Debug` dump, nothing on stdout.
fn assert_readable(run: &Run) {
    let lines: Vec<&str> = run
        .stderr
        .lines()
        .filter(|l| !l.starts_with("retrying "))
        .collect();
    assert!(
        (1..=2).contains(&lines.len())
            && lines[0].starts_with("error: ")
            && lines.get(1).is_none_or(|l| l.starts_with("hint: ")),
        "not one error line and one hint line:\n{run}"
    );
    for debug in ["{ ", " }", "Some(", "DispatchFailure", "ConnectorError"] {
        assert!(!run.stderr.contains(debug), "{debug:?} in:\n{run}");
    }
    assert!(run.stdout.is_empty(), "{run}");
}

fn write(path: &Path, text: &str) {
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).expect("create dir");
    }
    std::fs::write(path, text).expect("write file");
}

#[test]
fn missing_credentials_were_a_debug_dump_blaming_describe_clusters() {
    let dirs = dirs();
    let endpoint = Endpoint::start(Reply::Never);
    let mut cmd = envctl(&dirs);
    cmd.env("AWS_ENDPOINT_URL", &endpoint.url)
        .env("AWS_REGION", "us-east-1");
    let run = Run::of(cmd, &["ls"]);
    assert_eq!(run.code, 1, "{run}");
    assert_readable(&run);
    assert!(
        run.stderr.starts_with("error: no AWS credentials found"),
        "{run}"
    );
    assert!(!run.stderr.contains("DescribeClusters"), "{run}");
    assert!(
        run.stderr
            .contains("hint: pass --profile NAME, run `aws sso login --profile NAME`"),
        "{run}"
    );
    assert_eq!(
        endpoint.connections(),
        0,
        "nothing is sent without credentials"
    );
}

#[test]
fn unknown_profile_never_said_it_does_not_exist() {
    let dirs = dirs();
    let config = dirs.home.path().join("elsewhere/config");
    let credentials = dirs.home.path().join("elsewhere/credentials");
    write(&config, "[profile dev]\nregion = us-east-1\n");
    write(
        &credentials,
        "[ci]\naws_access_key_id = AKIDFROMFILE\naws_secret_access_key = secret\n",
    );
    let endpoint = Endpoint::start(Reply::Fixed(
        400,
        "application/x-amz-json-1.1",
        r#"{"__type":"AccessDeniedException","message":"not this time"}"#,
    ));
    let run_with = |profile: &str| {
        let mut cmd = envctl(&dirs);
        cmd.env("AWS_CONFIG_FILE", &config)
            .env("AWS_SHARED_CREDENTIALS_FILE", &credentials)
            .env("AWS_ENDPOINT_URL", &endpoint.url)
            .env("AWS_REGION", "us-east-1");
        Run::of(cmd, &["--profile", profile, "ls"])
    };

    let run = run_with("nosuch");
    assert_eq!(run.code, 3, "an unknown profile is bad input:\n{run}");
    assert_readable(&run);
    assert!(
        run.stderr.contains(&format!(
            "error: profile \"nosuch\" not found in {} or {}",
            config.display(),
            credentials.display()
        )),
        "names the files AWS_CONFIG_FILE and AWS_SHARED_CREDENTIALS_FILE point at:\n{run}"
    );
    assert!(
        run.stderr.contains("hint: profiles there: ci, dev"),
        "{run}"
    );
    assert_eq!(endpoint.connections(), 0, "checked before any call");

    // A profile that is only in the credentials file exists, and its keys sign the calls.
    let run = run_with("ci");
    assert_eq!(run.code, 1, "{run}");
    assert_readable(&run);
    let requests = endpoint.requests();
    assert!(
        requests
            .first()
            .is_some_and(|r| r.contains("Credential=AKIDFROMFILE/")),
        "{requests:?}"
    );
}

#[test]
fn expired_sso_session_said_nothing_about_aws_sso_login() {
    let dirs = dirs();
    let config = dirs.home.path().join(".aws/config");
    write(
        &config,
        "[profile dev]\nsso_session = corp\nsso_account_id = 111122223333\n\
         sso_role_name = Developer\nregion = us-east-1\n\n\
         [sso-session corp]\nsso_start_url = https://corp.awsapps.com/start\n\
         sso_region = us-east-1\nsso_registration_scopes = sso:account:access\n",
    );
    // The SDK's token cache file: the SHA-1 of the session name, as `aws sso login` writes it.
    write(
        &dirs
            .home
            .path()
            .join(".aws/sso/cache/ee0bfd2552fbd840c02cc48b6e823320543c450f.json"),
        r#"{"accessToken":"expired","expiresAt":"2020-01-01T00:00:00Z","region":"us-east-1","startUrl":"https://corp.awsapps.com/start"}"#,
    );
    let endpoint = Endpoint::start(Reply::Never);
    let mut cmd = envctl(&dirs);
    cmd.env("AWS_ENDPOINT_URL", &endpoint.url);
    let run = Run::of(cmd, &["--profile", "dev", "ls"]);
    assert_eq!(run.code, 1, "{run}");
    assert_readable(&run);
    assert!(
        run.stderr.contains(
            "error: cannot get AWS credentials for profile \"dev\" from its SSO session: "
        ),
        "{run}"
    );
    assert!(
        run.stderr
            .contains("hint: run `aws sso login --profile dev`, then run envctl again"),
        "{run}"
    );
    assert_eq!(endpoint.connections(), 0);
}

#[test]
fn garbage_region_retried_for_seconds_instead_of_being_bad_input() {
    let dirs = dirs();
    let endpoint = Endpoint::start(Reply::Never);
    let run = Run::of(envctl_at(&dirs, &endpoint), &["--region", "garbage", "ls"]);
    assert_eq!(run.code, 3, "{run}");
    assert_readable(&run);
    assert!(
        run.stderr.contains(
            "error: `garbage` (from --region) is not an AWS region name such as us-east-1"
        ),
        "{run}"
    );

    let mut cmd = envctl_at(&dirs, &endpoint);
    cmd.env("AWS_REGION", "Frankfurt");
    let run = Run::of(cmd, &["ls"]);
    assert_eq!(run.code, 3, "{run}");
    assert!(
        run.stderr.contains("`Frankfurt` (from AWS_REGION)"),
        "{run}"
    );
    assert_eq!(endpoint.connections(), 0, "no AWS call for a bad region");
}

#[test]
fn unknown_region_ended_in_no_message_instead_of_naming_region_and_endpoint() {
    let dirs = dirs();
    let mut cmd = envctl(&dirs);
    cmd.env("AWS_ACCESS_KEY_ID", "testing")
        .env("AWS_SECRET_ACCESS_KEY", "testing")
        .env("ENVCTL_OPERATION_TIMEOUT", "4s");
    // Well formed, but no such region: its endpoint's name does not resolve.
    let run = Run::of(cmd, &["--region", "xx-nowhere-1", "ls"]);
    assert_eq!(run.code, 1, "{run}");
    assert_readable(&run);
    assert!(
        one_of_ls_calls(&run.stderr, |op| format!(
            "error: ecs:{op} on envctl-shop failed: cannot connect to \
             https://ecs.xx-nowhere-1.amazonaws.com: "
        ))
        .is_some()
            || run
                .stderr
                .contains("no answer from https://ecs.xx-nowhere-1.amazonaws.com"),
        "{run}"
    );
    assert!(
        run.stderr
            .contains("that `xx-nowhere-1` is a region you use"),
        "{run}"
    );
    assert!(!run.stderr.contains("no message"), "{run}");
}

/// `ls` reads the cluster and lists its services at once: either may be the call that fails first.
const LS_FIRST_CALLS: [&str; 2] = ["DescribeClusters", "ListServices"];

/// Whether `text` holds `line(op)` for one of `ls`'s first calls; that call's name.
fn one_of_ls_calls(text: &str, line: impl Fn(&str) -> String) -> Option<&'static str> {
    LS_FIRST_CALLS
        .into_iter()
        .find(|op| text.contains(&line(op)))
}

#[test]
fn black_holed_endpoint_took_150s_with_no_output() {
    let dirs = dirs();
    let endpoint = Endpoint::start(Reply::Never);
    // Each attempt gets half of the operation timeout; the default is 40 s, this keeps the test
    // short.
    let mut cmd = envctl_at(&dirs, &endpoint);
    cmd.env("ENVCTL_OPERATION_TIMEOUT", "2s");
    let run = Run::of(cmd, &["ls"]);
    assert_eq!(run.code, 1, "{run}");
    assert_readable(&run);
    assert!(
        one_of_ls_calls(&run.stderr, |op| format!(
            "error: ecs:{op} on envctl-shop failed: no answer from {} (2 attempts in ",
            endpoint.url
        ))
        .is_some(),
        "names the operation and the endpoint:\n{run}"
    );
    assert!(
        run.stderr
            .contains(&format!("hint: check that {} is up", endpoint.url)),
        "{run}"
    );
    assert!(
        one_of_ls_calls(&run.stderr, |op| format!(
            "retrying ecs:{op} (no answer within 1"
        ))
        .is_some()
            && run.stderr.starts_with("retrying ecs:")
            && run.stderr.contains("), attempt 2/12\n"),
        "the retry is announced on stderr:\n{run}"
    );
    // `ls`'s two first calls go out together: each gets one retry, not eleven.
    let connections = endpoint.connections();
    assert!(
        (2..=2 * LS_FIRST_CALLS.len()).contains(&connections),
        "an endpoint that never answers gets one retry per call, not eleven: {connections}"
    );

    let mut cmd = envctl_at(&dirs, &endpoint);
    cmd.env("ENVCTL_OPERATION_TIMEOUT", "2s");
    let quiet = Run::of(cmd, &["-q", "ls"]);
    assert_eq!(quiet.code, 1, "{quiet}");
    assert!(
        !quiet.stderr.contains("retrying"),
        "-q keeps only the error:\n{quiet}"
    );
}

#[test]
fn refused_connection_was_retried_for_seconds() {
    let dirs = dirs();
    let url = {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind loopback");
        format!("http://{}", listener.local_addr().expect("address"))
        // dropped: nothing listens there any more
    };
    let mut cmd = envctl(&dirs);
    cmd.env("AWS_ENDPOINT_URL", &url)
        .env("AWS_REGION", "us-east-1")
        .env("AWS_ACCESS_KEY_ID", "testing")
        .env("AWS_SECRET_ACCESS_KEY", "testing");
    let run = Run::of(cmd, &["ls"]);
    assert_eq!(run.code, 1, "{run}");
    assert_readable(&run);
    assert!(
        one_of_ls_calls(&run.stderr, |op| format!(
            "error: ecs:{op} on envctl-shop failed: cannot connect to {url}: "
        ))
        .is_some()
            && run.stderr.contains("(3 attempts in "),
        "{run}"
    );
}

#[test]
fn unparseable_500_reply_said_no_message() {
    let dirs = dirs();
    let endpoint = Endpoint::start(Reply::Fixed(
        500,
        "text/html",
        "<html><body><h1>Internal Server Error</h1></body></html>",
    ));
    let run = Run::of(envctl_at(&dirs, &endpoint), &["--max-attempts", "2", "ls"]);
    assert_eq!(run.code, 1, "{run}");
    assert_readable(&run);
    let failed = one_of_ls_calls(&run.stderr, |op| {
        format!("error: ecs:{op} on envctl-shop failed: ")
    });
    assert!(failed.is_some() && run.stderr.contains("HTTP 500"), "{run}");
    assert!(!run.stderr.contains("no message"), "{run}");
    assert_eq!(
        failed.map(|op| endpoint.count(op)),
        Some(2),
        "a 500 is retried"
    );
}

#[test]
fn throttled_to_exhaustion_names_the_throttle_and_the_fix() {
    let dirs = dirs();
    let endpoint = Endpoint::start(Reply::Fixed(
        400,
        "application/x-amz-json-1.1",
        r#"{"__type":"ThrottlingException","message":"Rate exceeded"}"#,
    ));
    let run = Run::of(envctl_at(&dirs, &endpoint), &["--max-attempts", "1", "ls"]);
    assert_eq!(run.code, 1, "{run}");
    assert_readable(&run);
    assert!(
        one_of_ls_calls(&run.stderr, |op| format!(
            "error: ecs:{op} on envctl-shop failed (ThrottlingException): Rate exceeded"
        ))
        .is_some(),
        "{run}"
    );
    assert!(run.stderr.contains("hint: AWS throttled envctl"), "{run}");
    for op in LS_FIRST_CALLS {
        assert!(endpoint.count(op) <= 1, "{op} is not retried");
    }
}

#[test]
fn slow_throttled_retries_are_announced_except_with_quiet() {
    let dirs = dirs();
    let endpoint = Endpoint::start(Reply::Fixed(
        400,
        "application/x-amz-json-1.1",
        r#"{"__type":"ThrottlingException","message":"Rate exceeded"}"#,
    ));
    // Throttled until the call's time is up: retries start being announced after 3 s.
    let mut cmd = envctl_at(&dirs, &endpoint);
    cmd.env("ENVCTL_OPERATION_TIMEOUT", "6s");
    let run = Run::of(cmd, &["--max-attempts", "20", "ls"]);
    assert_eq!(run.code, 1, "{run}");
    assert_readable(&run);
    let notices: Vec<&str> = run
        .stderr
        .lines()
        .filter(|l| l.starts_with("retrying "))
        .collect();
    assert!(!notices.is_empty(), "{run}");
    assert!(
        notices.iter().all(|l| one_of_ls_calls(l, |op| format!(
            "retrying ecs:{op} (throttled), attempt "
        ))
        .is_some()
            && l.ends_with("/20")),
        "{run}"
    );
    assert!(
        notices.len() < endpoint.requests().len() - 1,
        "the quick first retries are not announced:\n{run}"
    );

    let mut cmd = envctl_at(&dirs, &endpoint);
    cmd.env("ENVCTL_OPERATION_TIMEOUT", "6s");
    let quiet = Run::of(cmd, &["-q", "--max-attempts", "20", "ls"]);
    assert_eq!(quiet.code, 1, "{quiet}");
    assert!(!quiet.stderr.contains("retrying"), "{quiet}");
}

#[test]
fn access_denied_names_the_action_to_grant() {
    let dirs = dirs();
    let endpoint = Endpoint::start(Reply::Fixed(
        400,
        "application/x-amz-json-1.1",
        r#"{"__type":"AccessDeniedException","message":"User: arn:aws:iam::123456789012:user/dev is not authorized to perform: ecs:DescribeClusters"}"#,
    ));
    let run = Run::of(envctl_at(&dirs, &endpoint), &["ls"]);
    assert_eq!(run.code, 1, "{run}");
    assert_readable(&run);
    assert!(
        one_of_ls_calls(&run.stderr, |op| format!(
            "hint: the caller lacks `ecs:{op}`; docs/iam.md"
        ))
        .is_some(),
        "{run}"
    );
    for op in LS_FIRST_CALLS {
        assert!(
            endpoint.count(op) <= 1,
            "access denied is not retried: {op}"
        );
    }
    assert!(!endpoint.requests().is_empty());
}

#[test]
fn operation_timeout_below_a_second_is_a_usage_error() {
    let dirs = dirs();
    let endpoint = Endpoint::start(Reply::Never);
    let run = Run::of(
        envctl_at(&dirs, &endpoint),
        &["--operation-timeout", "500ms", "ls"],
    );
    assert_eq!(run.code, 64, "{run}");
    assert!(
        run.stderr.contains("`500ms` is too short: at least 1s"),
        "{run}"
    );
    assert_eq!(endpoint.connections(), 0);
}
