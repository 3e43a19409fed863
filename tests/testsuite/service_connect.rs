//! ECS Service Connect against moto: every env gets its own Cloud Map HTTP namespace, created
//! before its services and deleted after them; services join it with their port as
//! `http://<key>:<port>`. moto stores no Service Connect settings on services and starts no
//! tasks (so no Envoy sidecar and no traffic): these tests assert what envctl *sent*.

use serde_json::{json, Value};

use crate::support::{ops, App, Recorded, TD_TEMPLATE};

const ENV: &str = "feature-x";
const NAMESPACE: &str = "envctl-shop-feature-x";
const WEB: &str = "shop-feature-x-web";
const WORKER: &str = "shop-feature-x-worker";

/// The `init` app plus a portless `worker` whose environment points at `web` through
/// `{{ services.web.url }}`.
fn app_with_worker() -> App {
    let app = App::bootstrapped();
    let config = app.path().join("envctl.toml");
    let mut text = std::fs::read_to_string(&config).expect("envctl.toml");
    text.push_str("\n[services.worker]\nimage = \"public.ecr.aws/nginx/nginx:1.27-alpine\"\n");
    std::fs::write(&config, text).expect("write envctl.toml");
    app.edit(
        TD_TEMPLATE,
        "\"environment\": {{ environment | tojson }},",
        "\"environment\": {{ (environment + ([{\"name\": \"WEB_URL\", \"value\": services.web.url}] if service == \"worker\" else [])) | tojson }},",
    );
    app
}

fn index_of(requests: &[Recorded], op: &str) -> usize {
    requests
        .iter()
        .position(|r| r.operation == op)
        .unwrap_or_else(|| panic!("no {op} in {:?}", ops(requests)))
}

fn create_service_body(writes: &[Recorded], name: &str) -> Value {
    writes
        .iter()
        .filter(|w| w.operation == "CreateService")
        .map(Recorded::json)
        .find(|b| b["serviceName"] == name)
        .unwrap_or_else(|| panic!("no CreateService of {name}"))
}

#[tokio::test]
async fn up_creates_the_env_namespace_first_and_services_join_it() {
    let app = app_with_worker();
    app.moto.clear_recording();
    app.ok(&["up", ENV]);
    let requests = app.moto.requests();
    let writes = app.moto.writes();

    // One namespace, tagged for the env, created (and finished) before the first service.
    let creates: Vec<&Recorded> = writes
        .iter()
        .filter(|w| w.operation == "CreateHttpNamespace")
        .collect();
    assert_eq!(creates.len(), 1, "{:?}", ops(&writes));
    let create = creates[0].json();
    assert_eq!(create["Name"], NAMESPACE);
    let tags = create["Tags"].as_array().expect("tags sent");
    assert!(tags.contains(&json!({"Key": "envctl:managed-by", "Value": "envctl"})));
    assert!(tags.contains(&json!({"Key": "envctl:env", "Value": ENV})));
    assert!(index_of(&requests, "CreateHttpNamespace") < index_of(&requests, "GetOperation"));
    assert!(index_of(&requests, "GetOperation") < index_of(&requests, "CreateService"));
    assert_eq!(app.moto.namespace_names(), [NAMESPACE]);

    // web offers its port under its key; worker is a client only.
    assert_eq!(
        create_service_body(&writes, WEB)["serviceConnectConfiguration"],
        json!({
            "enabled": true,
            "namespace": NAMESPACE,
            "services": [{
                "portName": "web",
                "discoveryName": "web",
                "clientAliases": [{"port": 80, "dnsName": "web"}]
            }]
        })
    );
    assert_eq!(
        create_service_body(&writes, WORKER)["serviceConnectConfiguration"],
        json!({"enabled": true, "namespace": NAMESPACE})
    );
    // The port mapping Service Connect refers to by name, and worker's URL of web.
    let registered: Vec<Value> = writes
        .iter()
        .filter(|w| w.operation == "RegisterTaskDefinition")
        .map(Recorded::json)
        .collect();
    let web_td = registered
        .iter()
        .find(|b| b["family"] == WEB)
        .expect("web registered");
    assert_eq!(
        web_td["containerDefinitions"][0]["portMappings"][0],
        json!({"containerPort": 80, "protocol": "tcp", "name": "web", "appProtocol": "http"})
    );
    let worker_td = registered
        .iter()
        .find(|b| b["family"] == WORKER)
        .expect("worker registered");
    assert!(worker_td["containerDefinitions"][0]["environment"]
        .as_array()
        .expect("environment")
        .contains(&json!({"name": "WEB_URL", "value": "http://web:80"})));

    // Converged: no second namespace, no write at all.
    app.moto.clear_recording();
    let again = app.ok(&["up", ENV, "--stats", "--output", "json"]);
    assert_eq!(ops(&app.moto.writes()), Vec::<&str>::new());
    assert_eq!(again.stats()["write_calls"], 0, "{again}");
    assert_eq!(app.moto.namespace_names(), [NAMESPACE]);
    app.expect(&["plan", ENV, "--detailed-exitcode"], 0);

    // Another env gets its own namespace; its services never join this one.
    app.moto.clear_recording();
    app.ok(&["up", "other"]);
    let writes = app.moto.writes();
    for name in ["shop-other-web", "shop-other-worker"] {
        assert_eq!(
            create_service_body(&writes, name)["serviceConnectConfiguration"]["namespace"],
            "envctl-shop-other"
        );
    }
    assert_eq!(
        app.moto.namespace_names(),
        ["envctl-shop-feature-x", "envctl-shop-other"]
    );

    // down: the namespace goes after the env's services, and only this env's.
    app.moto.clear_recording();
    app.ok(&["down", ENV, "--yes"]);
    let writes = app.moto.writes();
    let deletes: Vec<&Recorded> = writes
        .iter()
        .filter(|w| w.operation == "DeleteNamespace")
        .collect();
    assert_eq!(deletes.len(), 1, "{:?}", ops(&writes));
    let last_service_delete = writes
        .iter()
        .rposition(|w| w.operation == "DeleteService")
        .expect("services deleted");
    assert!(index_of(&writes, "DeleteNamespace") > last_service_delete);
    assert_eq!(app.moto.namespace_names(), ["envctl-shop-other"]);

    // Nothing left: down again writes nothing.
    app.moto.clear_recording();
    app.ok(&["down", ENV, "--yes"]);
    assert_eq!(ops(&app.moto.writes()), Vec::<&str>::new());
}

#[tokio::test]
async fn foreign_namespace_with_the_env_name_is_a_conflict_and_never_touched() {
    let app = App::bootstrapped();
    app.moto.cloud_map(
        "CreateHttpNamespace",
        json!({"Name": NAMESPACE, "CreatorRequestId": "someone-else"}),
    );
    app.moto.clear_recording();
    let up = app.expect(&["up", ENV], 4);
    assert!(up.stderr.contains("Cloud Map namespace"), "{up}");
    assert!(up.stderr.contains(NAMESPACE), "{up}");
    assert_eq!(ops(&app.moto.writes()), Vec::<&str>::new());

    let down = app.ok(&["down", ENV, "--yes"]);
    assert!(down.stderr.contains("left alone"), "{down}");
    assert!(down.stderr.contains(NAMESPACE), "{down}");
    assert_eq!(ops(&app.moto.writes()), Vec::<&str>::new());
    assert_eq!(app.moto.namespace_names(), [NAMESPACE]);
}

#[tokio::test]
async fn url_of_a_service_without_a_port_is_a_render_error_before_any_write() {
    let app = app_with_worker();
    app.edit(TD_TEMPLATE, "services.web.url", "services.worker.url");
    app.moto.clear_recording();
    let r = app.expect(&["up", ENV], 3);
    assert!(r.stderr.contains("services.worker.url"), "{r}");
    assert!(r.stderr.contains("task-definition.json.j2"), "{r}");
    assert!(r.stderr.contains("has no `port`"), "{r}");
    assert_eq!(ops(&app.moto.writes()), Vec::<&str>::new());
}
