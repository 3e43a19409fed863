//! Input that AWS rejects half-way through an apply is refused before the first write (issue 11):
//! each test runs `up` (and `plan`) against the emulator and asserts exit 3, a message naming the
//! file or key, and zero recorded writes. moto accepts most of these requests (a `cpu` of `abc`,
//! a bridge network, an image with a space), so "no writes" is what shows the check ran first.
//! Also here: a capacity provider change is sent with `forceNewDeployment`, which real ECS
//! demands and moto does not.

use crate::support::{ops, App, TD_TEMPLATE};

const ENV: &str = "feature-x";
const SERVICE: &str = "shop-feature-x-web";

/// Runs `args`, expects exit 3 with every `needles` on stderr, and no write at all.
fn refused_without_writes(app: &App, args: &[&str], needles: &[&str]) -> String {
    app.moto.clear_recording();
    let r = app.expect(args, 3);
    for n in needles {
        assert!(r.stderr.contains(n), "{n:?} not in:\n{r}");
    }
    assert_eq!(
        ops(&app.moto.writes()),
        Vec::<&str>::new(),
        "writes before the input error:\n{r}"
    );
    r.stderr
}

#[tokio::test]
async fn unknown_subnet_id_is_an_input_error_with_no_writes() {
    let app = App::bootstrapped();
    let real = app.moto.default_network().await.subnets[0].clone();
    app.edit(
        "envctl.toml",
        "subnets = []",
        &format!("subnets = [\"{real}\", \"subnet-0123456789abcdef0\"]"),
    );
    let stderr = refused_without_writes(
        &app,
        &["up", ENV],
        &[
            "envctl.toml: `network.subnets`: `subnet-0123456789abcdef0` does not exist in us-east-1",
            "hint: list the region's subnets",
        ],
    );
    assert!(
        !stderr.contains(&format!("`{real}`")),
        "only the missing id is named: {stderr}"
    );
    refused_without_writes(&app, &["plan", ENV], &["`network.subnets`"]);
}

#[tokio::test]
async fn unknown_security_group_id_is_an_input_error_with_no_writes() {
    let app = App::bootstrapped();
    app.edit(
        "envctl.toml",
        "security_groups = []",
        "security_groups = [\"sg-0123456789abcdef0\"]",
    );
    refused_without_writes(
        &app,
        &["up", ENV],
        &[
            "envctl.toml: `network.security_groups`: `sg-0123456789abcdef0` does not exist",
            "hint: list the VPC's groups",
        ],
    );
}

#[tokio::test]
async fn task_size_abc_in_a_template_is_an_input_error_with_no_writes() {
    let app = App::bootstrapped();
    app.edit(TD_TEMPLATE, "\"cpu\": \"{{ cpu }}\"", "\"cpu\": \"abc\"");
    let needles = [
        "templates/task-definition.json.j2 (service `web`): rendered task definition: `cpu` is `abc`",
        "hint: Fargate sizes",
    ];
    refused_without_writes(&app, &["up", ENV], &needles);
    // `plan` reports the same error.
    refused_without_writes(&app, &["plan", ENV], &needles);
}

#[tokio::test]
async fn bridge_network_mode_is_an_input_error_with_no_writes() {
    let app = App::bootstrapped();
    app.edit(
        TD_TEMPLATE,
        "\"networkMode\": \"awsvpc\"",
        "\"networkMode\": \"bridge\"",
    );
    refused_without_writes(
        &app,
        &["up", ENV],
        &[
            "templates/task-definition.json.j2 (service `web`): rendered task definition: `networkMode` is `bridge`, but Fargate runs only `awsvpc`",
            "hint: set `\"networkMode\": \"awsvpc\"`",
        ],
    );
}

#[tokio::test]
async fn image_with_a_space_is_an_input_error_with_no_writes() {
    let app = App::bootstrapped();
    refused_without_writes(
        &app,
        &["up", ENV, "--image", "web=nginx latest"],
        &[
            "`--image web=nginx latest`: `nginx latest` is not an image reference: it contains a space",
            "hint: write [REGISTRY/]REPOSITORY[:TAG]",
        ],
    );
}

#[tokio::test]
async fn parameter_name_over_the_ssm_limit_is_an_input_error_with_no_writes() {
    let app = App::bootstrapped();
    // With `/envctl/shop/env/feature-x/` and the ARN before it, 1011 characters leave 940.
    let name = "A".repeat(941);
    app.moto.clear_recording();
    let r = app.run(&["params", "set", ENV, &format!("{name}=v")]);
    assert_eq!(r.code, 3, "{r}");
    assert!(
        r.stderr
            .contains("(941 characters): the full name is 1012 characters with its ARN"),
        "{r}"
    );
    assert!(
        r.stderr.contains("use a name of at most 940 characters"),
        "{r}"
    );
    assert_eq!(ops(&app.moto.writes()), Vec::<&str>::new());

    let fits = "A".repeat(940);
    let r = app.run(&["params", "set", ENV, &format!("{fits}=v")]);
    assert_eq!(r.code, 0, "the longest name SSM takes is accepted:\n{r}");
}

#[tokio::test]
async fn capacity_provider_change_sends_force_new_deployment() {
    let app = App::bootstrapped();
    app.ok(&["up", ENV]);
    // moto reports a service's strategy only after an UpdateService set it (AWS always does):
    // one update gives the observed side a strategy to compare.
    app.ok(&["up", ENV, "--set", "services.web.count=2"]);

    app.moto.clear_recording();
    let r = app.ok(&[
        "up",
        ENV,
        "--set",
        "services.web.count=2",
        "--set",
        "services.web.on_demand_base=1",
    ]);
    assert!(r.stderr.contains("new deployment forced"), "{r}");
    let writes = app.moto.writes();
    let updates: Vec<_> = writes
        .iter()
        .filter(|w| w.operation == "UpdateService")
        .map(|w| w.json())
        .collect();
    assert_eq!(updates.len(), 1, "{:?}", ops(&writes));
    assert_eq!(updates[0]["service"], SERVICE);
    assert_eq!(updates[0]["forceNewDeployment"], true, "{}", updates[0]);
    assert_eq!(
        updates[0]["capacityProviderStrategy"],
        serde_json::json!([
            {"capacityProvider": "FARGATE", "weight": 0, "base": 1},
            {"capacityProvider": "FARGATE_SPOT", "weight": 1, "base": 0}
        ])
    );

    // A count change alone deploys nothing new and is sent without it.
    app.moto.clear_recording();
    app.ok(&[
        "up",
        ENV,
        "--set",
        "services.web.count=3",
        "--set",
        "services.web.on_demand_base=1",
    ]);
    let writes = app.moto.writes();
    let update = writes
        .iter()
        .find(|w| w.operation == "UpdateService")
        .map(|w| w.json())
        .expect("an UpdateService");
    assert_eq!(update["desiredCount"], 3);
    assert!(update.get("forceNewDeployment").is_none(), "{update}");
}
