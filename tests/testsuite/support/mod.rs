//! Test support: a private moto server per test, the envctl binary wired to it, and moto's request
//! recorder so tests can assert what envctl *sent* (moto drops some fields from its replies). The
//! app fixture and the envctl runner are in `app`.

mod app;
pub mod postgres;
pub mod proxy;

pub use app::{offline, App, Run, TD_TEMPLATE};

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use base64::Engine as _;

pub const REGION: &str = "us-east-1";
pub const INSTALL_HINT: &str =
    "run `scripts/install-emulator.sh` (installs the pinned moto[server] into .tools/venv)";

/// A moto server on a free loopback port, killed when dropped.
pub struct Moto {
    pub url: String,
    child: Child,
    recording: tempfile::NamedTempFile,
}

pub fn repo_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// The pinned moto_server from `.tools/venv` (or `$MOTO_SERVER`). Never a random one from PATH:
/// behaviour differs between moto versions.
pub fn moto_server_bin() -> PathBuf {
    if let Ok(p) = std::env::var("MOTO_SERVER") {
        return PathBuf::from(p);
    }
    let p = repo_root().join(".tools/venv/bin/moto_server");
    if !p.exists() {
        panic!("moto_server not found at {}: {INSTALL_HINT}", p.display());
    }
    p
}

/// The port from the server's ` * Running on http://127.0.0.1:PORT` line; the rest of its
/// stderr (a line per request) is read and dropped so that the pipe never fills.
fn announced_port(stderr: std::process::ChildStderr) -> Option<u16> {
    use std::io::BufRead;
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in std::io::BufReader::new(stderr)
            .lines()
            .map_while(Result::ok)
        {
            if let Some(rest) = line.split("Running on http://127.0.0.1:").nth(1) {
                let digits: String = rest.chars().take_while(char::is_ascii_digit).collect();
                if let Ok(port) = digits.parse::<u16>() {
                    let _ = tx.send(port);
                }
            }
        }
    });
    rx.recv_timeout(Duration::from_secs(60)).ok()
}

impl Moto {
    pub fn start() -> Moto {
        let bin = moto_server_bin();
        let recording = tempfile::NamedTempFile::new().expect("temp file for moto's recorder");
        // Port 0: the server binds a free port itself and prints it. A port picked here and
        // passed in could be taken (by another test's server or proxy) before moto binds it,
        // and the test would then talk to someone else's server.
        let mut child = Command::new(&bin)
            .args(["-H", "127.0.0.1", "-p", "0"])
            // moto never starts tasks; with this its first deployment of a one-task service
            // reports COMPLETED, which is what `up` waits for (see docs/waiting.md).
            .env("MOTO_ECS_SERVICE_RUNNING", "1")
            // bootstrap attaches AmazonECSTaskExecutionRolePolicy, an AWS-managed policy.
            .env("MOTO_IAM_LOAD_MANAGED_POLICIES", "true")
            .env("MOTO_ENABLE_RECORDING", "true")
            .env("MOTO_RECORDER_FILEPATH", recording.path())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {}: {e}; {INSTALL_HINT}", bin.display()));
        let port = announced_port(child.stderr.take().expect("piped stderr"));
        let Some(port) = port else {
            let _ = child.kill();
            let _ = child.wait();
            panic!("moto_server did not say which port it listens on within 60 s; {INSTALL_HINT}");
        };
        let moto = Moto {
            url: format!("http://127.0.0.1:{port}"),
            child,
            recording,
        };
        moto.wait_ready();
        moto
    }

    fn wait_ready(&self) {
        let deadline = Instant::now() + Duration::from_secs(60);
        while Instant::now() < deadline {
            if let Ok(r) = http().get(&format!("{}/moto-api/", self.url)).call() {
                if r.status() == 200 {
                    return;
                }
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        panic!(
            "moto_server at {} did not answer within 60 s; {INSTALL_HINT}",
            self.url
        );
    }

    /// Forgets every request recorded so far.
    pub fn clear_recording(&self) {
        http()
            .post(&format!("{}/moto-api/recorder/reset-recording", self.url))
            .call()
            .expect("reset moto recording");
    }

    /// Every request moto received since the start (or the last `clear_recording`).
    pub fn requests(&self) -> Vec<Recorded> {
        let text = std::fs::read_to_string(self.recording.path()).unwrap_or_default();
        // moto's threaded server appends one JSON object per request without a lock, so two
        // concurrent requests can land on one line: read a stream of objects, not lines.
        serde_json::Deserializer::from_str(&text)
            .into_iter::<serde_json::Value>()
            .map(|v| Recorded::from_json(v.expect("moto's recording is a stream of JSON objects")))
            .collect()
    }

    /// Recorded requests that change state (anything but Describe/List/Get).
    pub fn writes(&self) -> Vec<Recorded> {
        self.requests()
            .into_iter()
            .filter(|r| r.is_write())
            .collect()
    }

    /// The operations of `writes()`, in order.
    pub fn write_ops(&self) -> Vec<String> {
        self.writes().into_iter().map(|r| r.operation).collect()
    }

    /// The operations of every request to an AWS API (the recorder's own endpoint aside), in order.
    pub fn aws_operations(&self) -> Vec<String> {
        self.requests()
            .into_iter()
            .filter(|r| !r.url.contains("/moto-api/"))
            .map(|r| r.operation)
            .collect()
    }

    /// envctl's own AWS clients pointed at this server (one attempt per call: fail fast).
    pub async fn connect(&self) -> envctl::aws::Aws {
        self.connect_at(&self.url).await
    }

    /// Like `connect`, through `url` (a `proxy::Proxy` in front of this server).
    pub async fn connect_at(&self, url: &str) -> envctl::aws::Aws {
        // Same values in every test, so tests running in parallel threads cannot disagree.
        std::env::set_var("AWS_ACCESS_KEY_ID", "testing");
        std::env::set_var("AWS_SECRET_ACCESS_KEY", "testing");
        std::env::set_var("AWS_EC2_METADATA_DISABLED", "true");
        envctl::aws::Aws::connect(&envctl::aws::AwsOptions {
            endpoint_url: Some(url.to_string()),
            region: Some(REGION.into()),
            max_attempts: Some(1),
            ..Default::default()
        })
        .await
        .expect("connect to moto")
    }

    pub fn sdk_config(&self) -> aws_config::SdkConfig {
        let creds =
            aws_credential_types::Credentials::new("testing", "testing", None, None, "tests");
        aws_config::SdkConfig::builder()
            .region(aws_config::Region::new(REGION))
            .endpoint_url(&self.url)
            .credentials_provider(
                aws_credential_types::provider::SharedCredentialsProvider::new(creds),
            )
            .behavior_version(aws_config::BehaviorVersion::latest())
            .retry_config(aws_config::retry::RetryConfig::standard().with_max_attempts(1))
            .build()
    }

    /// The envctl binary with its AWS settings pointing at this server, in `dir`.
    pub fn envctl(&self, dir: &Path) -> assert_cmd::Command {
        let mut cmd = assert_cmd::Command::cargo_bin("envctl").expect("envctl binary");
        cmd.current_dir(dir);
        for (k, v) in self.env() {
            cmd.env(k, v);
        }
        cmd.env_remove("AWS_PROFILE");
        // Output parsed by tests is the piped kind: no colour forced in, every `ls` column.
        cmd.env_remove("CLICOLOR_FORCE").env_remove("COLUMNS");
        cmd
    }

    pub fn env(&self) -> Vec<(&'static str, String)> {
        vec![
            ("AWS_ENDPOINT_URL", self.url.clone()),
            ("AWS_REGION", REGION.to_string()),
            ("AWS_ACCESS_KEY_ID", "testing".to_string()),
            ("AWS_SECRET_ACCESS_KEY", "testing".to_string()),
            ("AWS_EC2_METADATA_DISABLED", "true".to_string()),
            ("ENVCTL_MAX_ATTEMPTS", "1".to_string()),
            ("ENVCTL_OWNER", "tester".to_string()),
            ("NO_COLOR", "1".to_string()),
        ]
    }
}

/// The default VPC, its subnets (sorted) and its `default` security group. The ids change with
/// every server, and moto validates awsvpc settings against them: look them up, never hard-code.
pub struct DefaultNetwork {
    pub vpc_id: String,
    pub subnets: Vec<String>,
    pub security_group: String,
}

impl Moto {
    /// Looked up with raw EC2 query requests (moto checks no signature), independently of
    /// envctl's own EC2 module.
    pub async fn default_network(&self) -> DefaultNetwork {
        let vpc_id = self
            .ec2_query("DescribeVpcs", &[("isDefault", "true")], "vpcId")
            .into_iter()
            .next()
            .expect("moto has a default VPC");
        let mut subnets = self.ec2_query("DescribeSubnets", &[("vpc-id", &vpc_id)], "subnetId");
        subnets.sort();
        let security_group = self
            .ec2_query(
                "DescribeSecurityGroups",
                &[("vpc-id", &vpc_id), ("group-name", "default")],
                "groupId",
            )
            .into_iter()
            .next()
            .expect("the default VPC has a default security group");
        DefaultNetwork {
            vpc_id,
            subnets,
            security_group,
        }
    }

    /// The text of every `<field>` element in the reply to an EC2 Describe call with `filters`.
    pub fn ec2_query(&self, action: &str, filters: &[(&str, &str)], field: &str) -> Vec<String> {
        let mut form: Vec<(String, String)> = vec![
            ("Action".into(), action.into()),
            ("Version".into(), "2016-11-15".into()),
        ];
        for (i, (name, value)) in filters.iter().enumerate() {
            form.push((format!("Filter.{}.Name", i + 1), name.to_string()));
            form.push((format!("Filter.{}.Value.1", i + 1), value.to_string()));
        }
        let pairs: Vec<(&str, &str)> = form.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
        let body = http()
            .post(&format!("{}/", self.url))
            .set(
                "Authorization",
                "AWS4-HMAC-SHA256 Credential=testing/20260101/us-east-1/ec2/aws4_request, \
                 SignedHeaders=host, Signature=0",
            )
            .send_form(&pairs)
            .unwrap_or_else(|e| panic!("{action} against moto: {e}"))
            .into_string()
            .expect("EC2 reply body");
        let (open, close) = (format!("<{field}>"), format!("</{field}>"));
        body.split(open.as_str())
            .skip(1)
            .filter_map(|rest| rest.split(close.as_str()).next())
            .map(|v| v.trim().to_string())
            .collect()
    }
}

impl Moto {
    /// One Cloud Map call (awsJson1_1) straight to the server, independently of envctl's own
    /// client; the reply's JSON.
    pub fn cloud_map(&self, operation: &str, body: serde_json::Value) -> serde_json::Value {
        let reply = http()
            .post(&format!("{}/", self.url))
            .set("Content-Type", "application/x-amz-json-1.1")
            .set(
                "X-Amz-Target",
                &format!("Route53AutoNaming_v20170314.{operation}"),
            )
            .set(
                "Authorization",
                "AWS4-HMAC-SHA256 Credential=testing/20260101/us-east-1/servicediscovery/aws4_request, \
                 SignedHeaders=host, Signature=0",
            )
            .send_string(&body.to_string())
            .unwrap_or_else(|e| panic!("{operation} against moto: {e}"))
            .into_string()
            .expect("Cloud Map reply body");
        serde_json::from_str(&reply).expect("Cloud Map reply is JSON")
    }

    /// Queues Cost Explorer `GetCostAndUsage` replies: moto tracks no costs and answers each new
    /// request with the next queued result (`/moto-api/static/ce/cost-and-usage-results`).
    pub fn queue_cost_and_usage(&self, results: Vec<serde_json::Value>) {
        http()
            .post(&format!(
                "{}/moto-api/static/ce/cost-and-usage-results",
                self.url
            ))
            .set("Content-Type", "application/json")
            .send_string(&serde_json::json!({ "results": results }).to_string())
            .expect("queue Cost Explorer results in moto");
    }

    /// Names of the HTTP namespaces on the server (moto ignores ListNamespaces filters).
    pub fn namespace_names(&self) -> Vec<String> {
        let mut names: Vec<String> = self.cloud_map("ListNamespaces", serde_json::json!({}))
            ["Namespaces"]
            .as_array()
            .map(|a| {
                a.iter()
                    .filter_map(|n| n["Name"].as_str().map(str::to_string))
                    .collect()
            })
            .unwrap_or_default();
        names.sort();
        names
    }
}

impl Drop for Moto {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn http() -> ureq::Agent {
    ureq::AgentBuilder::new()
        .timeout(Duration::from_secs(10))
        .build()
}

/// One request as moto's recorder saw it.
#[derive(Debug, Clone)]
pub struct Recorded {
    pub method: String,
    pub url: String,
    /// The API operation, from `X-Amz-Target` (JSON protocols) or `Action=` (query protocols).
    pub operation: String,
    pub body: String,
    /// The SigV4 signing name from the credential scope (`ecs`, `elasticloadbalancing`, ...),
    /// which is also the service's IAM action prefix; empty for unsigned requests.
    pub service: String,
}

impl Recorded {
    fn from_json(v: serde_json::Value) -> Recorded {
        let raw_body = v["body"].as_str().unwrap_or_default();
        let body = if v["body_encoded"].as_bool().unwrap_or(false) {
            let bytes = base64::engine::general_purpose::STANDARD
                .decode(raw_body)
                .unwrap_or_default();
            String::from_utf8_lossy(&bytes).into_owned()
        } else {
            raw_body.to_string()
        };
        let headers = &v["headers"];
        let target = headers
            .as_object()
            .and_then(|h| {
                h.iter()
                    .find(|(k, _)| k.eq_ignore_ascii_case("x-amz-target"))
                    .and_then(|(_, v)| v.as_str())
            })
            .map(|t| t.rsplit('.').next().unwrap_or(t).to_string());
        let method = v["method"].as_str().unwrap_or_default();
        let url = v["url"].as_str().unwrap_or_default();
        let operation = target
            .or_else(|| rest_operation(method, url))
            .unwrap_or_else(|| {
                body.split('&')
                    .find_map(|kv| kv.strip_prefix("Action="))
                    .map(str::to_string)
                    .unwrap_or_else(|| {
                        format!(
                            "{} {}",
                            v["method"].as_str().unwrap_or(""),
                            v["url"].as_str().unwrap_or("")
                        )
                    })
            });
        let service = headers
            .as_object()
            .and_then(|h| {
                h.iter()
                    .find(|(k, _)| k.eq_ignore_ascii_case("authorization"))
                    .and_then(|(_, v)| v.as_str())
            })
            .and_then(|auth| auth.split("Credential=").nth(1))
            .and_then(|cred| cred.split('/').nth(3))
            .unwrap_or_default()
            .to_string();
        Recorded {
            method: v["method"].as_str().unwrap_or_default().to_string(),
            url: v["url"].as_str().unwrap_or_default().to_string(),
            operation,
            body,
            service,
        }
    }

    /// The IAM action this request needs, e.g. `ecs:DeleteService`.
    pub fn iam_action(&self) -> String {
        format!("{}:{}", self.service, self.operation)
    }

    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.body).unwrap_or(serde_json::Value::Null)
    }

    pub fn is_write(&self) -> bool {
        // REST-protocol reads (Scheduler GetSchedule, S3 HeadBucket) are plain GETs and HEADs.
        !matches!(self.method.as_str(), "GET" | "HEAD")
            && !["Describe", "List", "Get", "BatchGet"]
                .iter()
                .any(|p| self.operation.starts_with(p))
            && !self.url.contains("/moto-api/")
    }
}

/// The operations of some recorded requests, in order.
pub fn ops(requests: &[Recorded]) -> Vec<&str> {
    requests.iter().map(|r| r.operation.as_str()).collect()
}

/// Names EventBridge Scheduler's REST calls (its protocol has no X-Amz-Target or Action).
fn rest_operation(method: &str, url: &str) -> Option<String> {
    let path = url
        .split("://")
        .nth(1)
        .map_or(url, |rest| rest.find('/').map_or("", |i| &rest[i..]));
    let path = path.split('?').next().unwrap_or(path);
    let segments: Vec<&str> = path.trim_start_matches('/').split('/').collect();
    let op = match (method, segments.as_slice()) {
        ("POST", ["schedule-groups", _]) => "CreateScheduleGroup",
        ("DELETE", ["schedule-groups", _]) => "DeleteScheduleGroup",
        ("GET", ["schedule-groups", _]) => "GetScheduleGroup",
        ("GET", ["schedule-groups"]) => "ListScheduleGroups",
        ("POST", ["schedules", _]) => "CreateSchedule",
        ("PUT", ["schedules", _]) => "UpdateSchedule",
        ("DELETE", ["schedules", _]) => "DeleteSchedule",
        ("GET", ["schedules", _]) => "GetSchedule",
        ("GET", ["schedules"]) => "ListSchedules",
        ("POST", ["tags", ..]) => "TagResource",
        ("DELETE", ["tags", ..]) => "UntagResource",
        ("GET", ["tags", ..]) => "ListTagsForResource",
        _ => return None,
    };
    Some(op.to_string())
}
