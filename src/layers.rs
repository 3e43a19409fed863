//! The crate's module graph, read from the source, so a test fails when an import points the
//! wrong way (docs/architecture.md, "Layers"): the leaves (`config`, `naming`, `schedule`,
//! `dist`) and the bottom layer (`model`) import nothing above them, the pure `janitor` nothing
//! that calls AWS (`aws`, `ops`, `observe`, `apply`), and no import cycle passes through them.
//!
//! Edges come from `crate::` paths (in `use` trees and inline) between top-level modules;
//! `super::` paths stay inside one module. Comments are skipped, strings are not (no source
//! file names a `crate::` path in a string).

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

/// Top-level module → the top-level modules it names through `crate::`.
type Graph = BTreeMap<String, BTreeSet<String>>;

/// Modules that may import only the ones listed (and themselves).
const LEAVES: &[(&str, &[&str])] = &[
    ("model", &[]),
    ("naming", &[]),
    ("schedule", &[]),
    ("dist", &[]),
    ("config", &["model", "naming", "schedule", "dist"]),
];

/// Pure modules: they may import only these (and the leaves and model).
const PURE: &[(&str, &[&str])] = &[
    // The cost model: schedule math and envctl's own types, nothing that reads AWS.
    ("cost", &["model", "schedule"]),
    (
        "janitor",
        &[
            "config",
            "model",
            "naming",
            "dist",
            "normalize",
            "plan",
            "render",
        ],
    ),
];

/// Modules that must not sit on an import cycle.
const ACYCLIC: &[&str] = &[
    "model", "naming", "schedule", "dist", "config", "janitor", "database", "cost",
];

/// The top-level module a file under `src/` belongs to (`None` for lib.rs and main.rs).
fn top_module(rel: &Path) -> Option<String> {
    let mut parts = rel.components().map(|c| c.as_os_str().to_string_lossy());
    let first = parts.next()?.to_string();
    let name = first.strip_suffix(".rs").unwrap_or(&first).to_string();
    (name != "lib" && name != "main").then_some(name)
}

/// Source text without `//` comments (doc comments included).
fn strip_comments(text: &str) -> String {
    text.lines()
        .map(|l| match l.find("//") {
            Some(i) => &l[..i],
            None => l,
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// The first segment of every `crate::` path in `text`, expanding `use crate::{a, b::c}` trees.
fn crate_targets(text: &str) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    let mut rest = text;
    while let Some(i) = rest.find("crate::") {
        // `envctl_crate::x` or `mycrate::x` are not ours.
        let before = rest[..i].chars().next_back();
        rest = &rest[i + "crate::".len()..];
        if before.is_some_and(|c| c.is_alphanumeric() || c == '_') {
            continue;
        }
        if let Some(group) = rest.strip_prefix('{') {
            let end = matching_brace(group).unwrap_or(group.len());
            for item in split_top_level(&group[..end]) {
                if let Some(name) = first_ident(item) {
                    out.insert(name);
                }
            }
        } else if let Some(name) = first_ident(rest) {
            out.insert(name);
        }
    }
    out.remove("self");
    out
}

/// Index of the `}` closing a group whose `{` was just consumed.
fn matching_brace(s: &str) -> Option<usize> {
    let mut depth = 0usize;
    for (i, c) in s.char_indices() {
        match c {
            '{' => depth += 1,
            '}' if depth == 0 => return Some(i),
            '}' => depth -= 1,
            _ => {}
        }
    }
    None
}

/// `a, b::{c, d}, e` → `["a", "b::{c, d}", "e"]`.
fn split_top_level(s: &str) -> Vec<&str> {
    let mut items = Vec::new();
    let (mut depth, mut start) = (0usize, 0usize);
    for (i, c) in s.char_indices() {
        match c {
            '{' => depth += 1,
            '}' => depth = depth.saturating_sub(1),
            ',' if depth == 0 => {
                items.push(&s[start..i]);
                start = i + 1;
            }
            _ => {}
        }
    }
    items.push(&s[start..]);
    items
}

fn first_ident(s: &str) -> Option<String> {
    let s = s.trim_start();
    let end = s
        .find(|c: char| !(c.is_alphanumeric() || c == '_'))
        .unwrap_or(s.len());
    (end > 0).then(|| s[..end].to_string())
}

fn graph_of(src: &Path) -> Graph {
    let mut graph = Graph::new();
    let mut stack = vec![src.to_path_buf()];
    while let Some(dir) = stack.pop() {
        let entries =
            std::fs::read_dir(&dir).unwrap_or_else(|e| panic!("read {}: {e}", dir.display()));
        for entry in entries {
            let path = entry.expect("directory entry").path();
            if path.is_dir() {
                stack.push(path);
                continue;
            }
            if path.extension().is_none_or(|e| e != "rs") {
                continue;
            }
            let rel = path.strip_prefix(src).expect("under src");
            let Some(module) = top_module(rel) else {
                continue;
            };
            let text = std::fs::read_to_string(&path)
                .unwrap_or_else(|e| panic!("read {}: {e}", path.display()));
            let targets = graph.entry(module.clone()).or_default();
            targets.extend(
                crate_targets(&strip_comments(&text))
                    .into_iter()
                    .filter(|t| *t != module),
            );
        }
    }
    // Names that are not modules (`crate::Result` in a doc example, say) are not edges.
    let modules: BTreeSet<String> = graph.keys().cloned().collect();
    for targets in graph.values_mut() {
        targets.retain(|t| modules.contains(t));
    }
    graph
}

/// Every module reachable from `start`, `start` itself only when a cycle leads back to it.
fn reachable(graph: &Graph, start: &str) -> BTreeSet<String> {
    let mut seen = BTreeSet::new();
    let mut stack: Vec<&str> = graph
        .get(start)
        .map(|t| t.iter().map(String::as_str).collect())
        .unwrap_or_default();
    while let Some(m) = stack.pop() {
        if seen.insert(m.to_string()) {
            if let Some(next) = graph.get(m) {
                stack.extend(next.iter().map(String::as_str));
            }
        }
    }
    seen
}

/// One import cycle through `module`, as `a → b → a`, if there is any.
fn cycle_through(graph: &Graph, module: &str) -> Option<String> {
    if !reachable(graph, module).contains(module) {
        return None;
    }
    // Breadth-first from `module` back to itself, for the shortest cycle to show.
    let mut parent: BTreeMap<String, String> = BTreeMap::new();
    let mut queue = std::collections::VecDeque::from([module.to_string()]);
    while let Some(m) = queue.pop_front() {
        for next in graph.get(&m).into_iter().flatten() {
            if next == module {
                let mut path = vec![m.clone()];
                let mut cur = m.clone();
                while let Some(p) = parent.get(&cur) {
                    path.push(p.clone());
                    cur = p.clone();
                }
                path.reverse();
                path.push(module.to_string());
                return Some(path.join(" → "));
            }
            if next != module && !parent.contains_key(next) {
                parent.insert(next.clone(), m.clone());
                queue.push_back(next.clone());
            }
        }
    }
    None
}

fn crate_graph() -> Graph {
    graph_of(&Path::new(env!("CARGO_MANIFEST_DIR")).join("src"))
}

#[test]
fn leaves_model_and_pure_janitor_import_nothing_above_them() {
    let graph = crate_graph();
    let mut wrong = Vec::new();
    for (module, allowed) in LEAVES.iter().chain(PURE) {
        let targets = graph
            .get(*module)
            .unwrap_or_else(|| panic!("no module `{module}` under src/"));
        for t in targets {
            if !allowed.contains(&t.as_str()) {
                wrong.push(format!("{module} imports crate::{t}"));
            }
        }
    }
    assert!(wrong.is_empty(), "layer violations: {wrong:#?}");
}

#[test]
fn no_import_cycle_passes_through_the_leaves_model_or_janitor() {
    let graph = crate_graph();
    let cycles: Vec<String> = ACYCLIC
        .iter()
        .filter(|m| graph.contains_key(**m))
        .filter_map(|m| cycle_through(&graph, m))
        .collect();
    assert!(cycles.is_empty(), "import cycles: {cycles:#?}");
}

#[test]
fn the_graph_reader_sees_use_trees_inline_paths_and_cycles() {
    let text = strip_comments(
        "use crate::{config::{self, Override}, model::Tags};\n\
         // use crate::ops; (a comment)\n\
         let x = crate::naming::janitor(app); let y = mycrate::other::f();\n\
         use crate::aws::{\n    codebuild::ProjectSpec,\n    Aws,\n};",
    );
    assert_eq!(
        crate_targets(&text),
        ["aws", "config", "model", "naming"]
            .map(String::from)
            .into(),
    );
    let graph: Graph = [
        ("config", &["ops"][..]),
        ("ops", &["render"]),
        ("render", &["config", "model"]),
        ("model", &[]),
    ]
    .into_iter()
    .map(|(m, t)| (m.to_string(), t.iter().map(|s| s.to_string()).collect()))
    .collect();
    assert_eq!(
        cycle_through(&graph, "config").as_deref(),
        Some("config → ops → render → config")
    );
    assert_eq!(cycle_through(&graph, "model"), None);
}
