//! The crate's module graph, read from the source, so a test fails when an import points the
//! wrong way (docs/architecture.md, "Layers"): every top-level module has a rank, an import may
//! only point to a lower rank or to a leaf, and no import cycle may exist, neither between
//! top-level modules nor between the operations in `ops::*`.
//!
//! Edges come from `crate::` paths (in `use` trees and inline) and, inside `src/ops/`, from the
//! `ops::` paths that name a sibling through `use crate::ops::{self, ..}`. `super::` paths are not
//! followed: in a test module they name the file itself, and no file reaches a sibling that way.
//! Comments are skipped, strings are not (no source file names a `crate::` path in a string).

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

/// Module → the modules it names.
type Graph = BTreeMap<String, BTreeSet<String>>;

/// Ranks, top to bottom: a module may import only modules of a lower rank, and the leaves.
/// `main.rs` sits above all of them; a new top-level module must be placed here.
const RANKS: &[(&str, u8)] = &[
    // One file per subcommand: builds options, calls one operation, prints.
    ("commands", 80),
    // The clap definitions: what `main` parses and hands to `commands`, converted there into
    // the operations' plain option structs.
    ("cli", 75),
    ("ops", 70),
    // The pipeline stages ops runs: observe and apply call AWS.
    ("observe", 60),
    ("apply", 60),
    // Ctrl-C bookkeeping, used by apply and the commands that stream.
    ("interrupt", 55),
    // Typed errors → exit codes and hints: it knows the errors of the layers below.
    ("error", 50),
    // Pure stages built on render and plan.
    ("validate", 45),
    ("janitor", 45),
    ("import", 45),
    ("build", 45),
    // Pure: templates → desired model, and (desired, actual) → plan.
    ("render", 40),
    ("plan", 40),
    // The cost model (pure): schedule math and envctl's own types, nothing that reads AWS.
    ("cost", 35),
    ("normalize", 30),
    ("database", 30),
    // The only module that calls AWS.
    ("aws", 20),
    ("model", 0),
];

/// Leaves: importable from anywhere; they import only other leaves and `model`. `git` and a
/// leaf terminal printer are listed for when they exist.
const LEAVES: &[&str] = &[
    "config", "naming", "schedule", "dist", "git", "output", "dotenv",
];

/// Modules the graph skips: this checker (its test strings name modules).
const SKIPPED: &[&str] = &["layers"];

/// Known wrong-way edges, each to be removed by the branch named. The lead deletes an entry when
/// that branch is merged; the test fails on any other upward edge and on any cycle, and these
/// edges are left out of the cycle check too.
const KNOWN_UPWARD: &[(&str, &str, &str)] = &[];

/// Known cycles among `ops::*`, same rule (none: `up` builds through `build`, and `build` takes
/// the plan `up` prepared instead of preparing through `up`).
const KNOWN_OPS_EDGES: &[(&str, &str, &str)] = &[];

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

/// The first two segments of every path in `text` that starts with `root::` (not preceded by
/// an identifier character or `:`), expanding `use` trees: `crate::ops::{self, up::X}` gives
/// `[ops]` and `[ops, up]`.
fn paths_from(text: &str, root: &str) -> BTreeSet<Vec<String>> {
    let needle = format!("{root}::");
    let mut out = BTreeSet::new();
    let mut rest = text;
    while let Some(i) = rest.find(&needle) {
        // `mycrate::x`, `super::ops::x` or `a::crate::x` are not ours.
        let before = rest[..i].chars().next_back();
        rest = &rest[i + needle.len()..];
        if before.is_some_and(|c| c.is_alphanumeric() || c == '_' || c == ':') {
            continue;
        }
        expand_tree(rest, &[], &mut out);
    }
    out
}

/// Adds the paths (at most two segments, after `prefix`) that the use tree at the start of `s`
/// names.
fn expand_tree(s: &str, prefix: &[String], out: &mut BTreeSet<Vec<String>>) {
    let s = s.trim_start();
    if let Some(group) = s.strip_prefix('{') {
        let end = matching_brace(group).unwrap_or(group.len());
        for item in split_top_level(&group[..end]) {
            expand_tree(item, prefix, out);
        }
        return;
    }
    let Some(ident) = first_ident(s) else {
        if !prefix.is_empty() {
            out.insert(prefix.to_vec());
        }
        return;
    };
    if ident == "self" {
        if !prefix.is_empty() {
            out.insert(prefix.to_vec());
        }
        return;
    }
    let mut path = prefix.to_vec();
    path.push(ident.clone());
    let after = s[ident.len()..].trim_start();
    match after.strip_prefix("::") {
        Some(tail) if path.len() < 2 => expand_tree(tail, &path, out),
        _ => {
            out.insert(path);
        }
    }
}

/// The top-level modules each `crate::` path in `text` names.
fn crate_targets(text: &str) -> BTreeSet<String> {
    paths_from(text, "crate")
        .into_iter()
        .filter_map(|p| p.into_iter().next())
        .filter(|m| m != "self")
        .collect()
}

/// Every `.rs` file under `dir`, as (path relative to `src`, text without comments).
fn sources(src: &Path) -> Vec<(std::path::PathBuf, String)> {
    let mut files = Vec::new();
    let mut stack = vec![src.to_path_buf()];
    while let Some(dir) = stack.pop() {
        let entries =
            std::fs::read_dir(&dir).unwrap_or_else(|e| panic!("read {}: {e}", dir.display()));
        for entry in entries {
            let path = entry.expect("directory entry").path();
            if path.is_dir() {
                stack.push(path);
            } else if path.extension().is_some_and(|e| e == "rs") {
                let text = std::fs::read_to_string(&path)
                    .unwrap_or_else(|e| panic!("read {}: {e}", path.display()));
                let rel = path.strip_prefix(src).expect("under src").to_path_buf();
                files.push((rel, strip_comments(&text)));
            }
        }
    }
    files
}

/// Top-level module → the top-level modules it imports.
fn graph_of(files: &[(std::path::PathBuf, String)]) -> Graph {
    let mut graph = Graph::new();
    for (rel, text) in files {
        let Some(module) = top_module(rel) else {
            continue;
        };
        if SKIPPED.contains(&module.as_str()) {
            continue;
        }
        let targets = graph.entry(module.clone()).or_default();
        targets.extend(crate_targets(text).into_iter().filter(|t| *t != module));
    }
    // Names that are not modules (`crate::Result` in a doc example, say) are not edges.
    let modules: BTreeSet<String> = graph.keys().cloned().collect();
    for targets in graph.values_mut() {
        targets.retain(|t| modules.contains(t));
    }
    graph
}

/// `ops::X` → the `ops::Y` it names (`crate::ops::Y`, or `ops::Y` after `use crate::ops`).
fn ops_graph(files: &[(std::path::PathBuf, String)]) -> Graph {
    let mut graph = Graph::new();
    for (rel, text) in files {
        let mut parts = rel.iter().map(|p| p.to_string_lossy().to_string());
        if parts.next().as_deref() != Some("ops") {
            continue;
        }
        let Some(file) = parts.next() else { continue };
        let module = file.strip_suffix(".rs").unwrap_or(&file).to_string();
        if module == "mod" {
            continue;
        }
        let named = paths_from(text, "crate")
            .into_iter()
            .filter(|p| p.first().is_some_and(|m| m == "ops"))
            .chain(
                paths_from(text, "ops")
                    .into_iter()
                    .map(|p| [vec!["ops".to_string()], p].concat()),
            )
            .filter_map(|p| p.get(1).cloned())
            .filter(|t| *t != module)
            .collect::<Vec<_>>();
        graph.entry(module).or_default().extend(named);
    }
    let modules: BTreeSet<String> = graph.keys().cloned().collect();
    for targets in graph.values_mut() {
        targets.retain(|t| modules.contains(t));
    }
    graph
}

/// Edges that point up: to a higher or equal rank, or from a leaf to anything but a leaf or
/// `model`. Unranked modules are reported too, so a new module gets a place.
fn upward_edges(graph: &Graph, ranks: &[(&str, u8)], leaves: &[&str]) -> Vec<String> {
    let rank = |m: &str| ranks.iter().find(|(n, _)| *n == m).map(|(_, r)| *r);
    let is_leaf = |m: &str| leaves.contains(&m);
    let mut wrong = Vec::new();
    for (from, targets) in graph {
        if rank(from).is_none() && !is_leaf(from) {
            wrong.push(format!("{from} has no rank in layers.rs"));
            continue;
        }
        for to in targets {
            let ok = if is_leaf(from) {
                is_leaf(to) || rank(to) == Some(0)
            } else {
                is_leaf(to) || rank(to).is_some_and(|r| Some(r) < rank(from))
            };
            if !ok {
                wrong.push(format!("{from} imports crate::{to}"));
            }
        }
    }
    wrong
}

/// The import cycles of `graph`: its strongly connected components with more than one module
/// (Tarjan), each as `a → b → … → a` along real edges.
fn cycles(graph: &Graph) -> Vec<String> {
    struct Tarjan<'a> {
        graph: &'a Graph,
        index: BTreeMap<&'a str, usize>,
        low: BTreeMap<&'a str, usize>,
        stack: Vec<&'a str>,
        on_stack: BTreeSet<&'a str>,
        components: Vec<Vec<&'a str>>,
    }
    impl<'a> Tarjan<'a> {
        fn visit(&mut self, v: &'a str) {
            let i = self.index.len();
            self.index.insert(v, i);
            self.low.insert(v, i);
            self.stack.push(v);
            self.on_stack.insert(v);
            for w in self.graph.get(v).into_iter().flatten() {
                let w = w.as_str();
                if !self.index.contains_key(w) {
                    self.visit(w);
                    let lw = self.low[w];
                    let lv = self.low.get_mut(v).expect("visited");
                    *lv = (*lv).min(lw);
                } else if self.on_stack.contains(w) {
                    let iw = self.index[w];
                    let lv = self.low.get_mut(v).expect("visited");
                    *lv = (*lv).min(iw);
                }
            }
            if self.low[v] == self.index[v] {
                let mut component = Vec::new();
                while let Some(w) = self.stack.pop() {
                    self.on_stack.remove(w);
                    component.push(w);
                    if w == v {
                        break;
                    }
                }
                self.components.push(component);
            }
        }
    }
    let mut t = Tarjan {
        graph,
        index: BTreeMap::new(),
        low: BTreeMap::new(),
        stack: Vec::new(),
        on_stack: BTreeSet::new(),
        components: Vec::new(),
    };
    for v in graph.keys() {
        if !t.index.contains_key(v.as_str()) {
            t.visit(v);
        }
    }
    t.components
        .into_iter()
        .filter(|c| c.len() > 1)
        .map(|c| {
            let start = *c.iter().min().expect("non-empty");
            cycle_path(graph, start, &c.iter().copied().collect())
        })
        .collect()
}

/// The shortest cycle from `start` back to itself inside one component, as `a → b → a`.
fn cycle_path(graph: &Graph, start: &str, component: &BTreeSet<&str>) -> String {
    let mut parent: BTreeMap<&str, &str> = BTreeMap::new();
    let mut queue = std::collections::VecDeque::from([start]);
    while let Some(m) = queue.pop_front() {
        for next in graph.get(m).into_iter().flatten() {
            let next = next.as_str();
            if next == start {
                let mut path = vec![m];
                let mut cur = m;
                while let Some(p) = parent.get(cur) {
                    path.push(p);
                    cur = p;
                }
                path.reverse();
                path.push(start);
                return path.join(" → ");
            }
            if component.contains(next) && !parent.contains_key(next) && next != start {
                parent.insert(next, m);
                queue.push_back(next);
            }
        }
    }
    format!("{start} → … (component {component:?})")
}

/// `graph` without the edges of `known` (from, to, why).
fn without(graph: &Graph, known: &[(&str, &str, &str)]) -> Graph {
    let mut g = graph.clone();
    for (from, to, _) in known {
        if let Some(t) = g.get_mut(*from) {
            t.remove(*to);
        }
    }
    g
}

fn crate_sources() -> Vec<(std::path::PathBuf, String)> {
    sources(&Path::new(env!("CARGO_MANIFEST_DIR")).join("src"))
}

#[test]
fn every_import_points_down_a_layer_or_to_a_leaf() {
    let graph = without(&graph_of(&crate_sources()), KNOWN_UPWARD);
    let wrong = upward_edges(&graph, RANKS, LEAVES);
    assert!(wrong.is_empty(), "layer violations: {wrong:#?}");
}

#[test]
fn no_import_cycle_between_top_level_modules() {
    let graph = without(&graph_of(&crate_sources()), KNOWN_UPWARD);
    let found = cycles(&graph);
    assert!(found.is_empty(), "import cycles: {found:#?}");
}

#[test]
fn no_import_cycle_between_operations() {
    let graph = without(&ops_graph(&crate_sources()), KNOWN_OPS_EDGES);
    let found = cycles(&graph);
    assert!(found.is_empty(), "import cycles in ops: {found:#?}");
}

#[test]
fn every_known_exception_still_exists() {
    // An allow-list entry whose edge is gone must go too, or it would hide the edge's return.
    let (files, mut stale) = (crate_sources(), Vec::new());
    let (graph, ops) = (graph_of(&files), ops_graph(&files));
    for (g, known) in [(&graph, KNOWN_UPWARD), (&ops, KNOWN_OPS_EDGES)] {
        for (from, to, why) in known {
            if !g.get(*from).is_some_and(|t| t.contains(*to)) {
                stale.push(format!("{from} → {to} ({why})"));
            }
        }
    }
    assert!(stale.is_empty(), "remove from layers.rs: {stale:#?}");
}

fn synthetic(edges: &[(&str, &[&str])]) -> Graph {
    edges
        .iter()
        .map(|(m, t)| (m.to_string(), t.iter().map(|s| s.to_string()).collect()))
        .collect()
}

#[test]
fn the_graph_reader_sees_use_trees_inline_paths_and_ops_siblings() {
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
    let files = vec![
        (
            "ops/up.rs".into(),
            "use crate::ops::{self, build, Session};\nlet w = ops::wait::x();".to_string(),
        ),
        (
            "ops/build.rs".into(),
            "use crate::ops::up::Prepared;".into(),
        ),
        ("ops/wait.rs".into(), String::new()),
        ("ops/mod.rs".into(), "pub mod up;".into()),
    ];
    assert_eq!(
        ops_graph(&files),
        synthetic(&[
            ("build", &["up"]),
            ("up", &["build", "wait"]),
            ("wait", &[])
        ])
    );
}

#[test]
fn the_checker_catches_an_upward_edge_and_a_cycle() {
    let ranks = &[("ops", 70), ("plan", 40), ("model", 0)];
    let leaves = &["naming"];
    let good = synthetic(&[
        ("ops", &["plan", "naming"]),
        ("plan", &["model", "naming"]),
        ("naming", &["model"]),
        ("model", &[]),
    ]);
    assert!(upward_edges(&good, ranks, leaves).is_empty());
    assert!(cycles(&good).is_empty());

    let upward = synthetic(&[
        ("ops", &["plan"]),
        ("plan", &["ops"]),
        ("naming", &["plan"]),
        ("model", &[]),
        ("extra", &[]),
    ]);
    assert_eq!(
        upward_edges(&upward, ranks, leaves),
        [
            "extra has no rank in layers.rs",
            "naming imports crate::plan",
            "plan imports crate::ops",
        ]
    );
    assert_eq!(cycles(&upward), ["ops → plan → ops"]);

    let long = synthetic(&[("a", &["b"]), ("b", &["c"]), ("c", &["a", "d"]), ("d", &[])]);
    assert_eq!(cycles(&long), ["a → b → c → a"]);
    assert_eq!(
        cycles(&without(&long, &[("c", "a", "test")])),
        Vec::<String>::new()
    );
}
