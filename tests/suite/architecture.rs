//! The crate map of `docs/architecture.md`, enforced: reads `cargo metadata` and fails, naming
//! the edge, when a dependency rule is broken directly or through another qcode crate.
//!
//! Only normal (non-dev, non-build) dependencies count: tests may use anything.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::Value;

/// One rule: `krate` must not reach any crate in `forbidden` (directly or transitively), and —
/// when `only` is given — may reach no qcode crate outside it.
struct Rule {
    krate: &'static str,
    why: &'static str,
    forbidden: &'static [&'static str],
    only: Option<&'static [&'static str]>,
}

const FRONT_END_MAY_USE: &[&str] = &["qcode-protocol", "qcode-fs"];

const RULES: &[Rule] = &[
    Rule {
        krate: "qcode-tui",
        why: "front ends talk to the engine through the queue pair only",
        forbidden: &[],
        only: Some(FRONT_END_MAY_USE),
    },
    Rule {
        krate: "qcode-exec",
        why: "front ends talk to the engine through the queue pair only",
        forbidden: &[],
        only: Some(FRONT_END_MAY_USE),
    },
    Rule {
        krate: "qcode-core",
        why: "the engine knows no auth, telemetry, file formats or screen (traits and event observers invert those seams)",
        forbidden: &[
            "qcode-auth",
            "qcode-telemetry",
            "qcode-session",
            "qcode-tui",
            "qcode-exec",
        ],
        only: None,
    },
    Rule {
        krate: "qcode-client",
        why: "the client takes an endpoint, not configuration",
        forbidden: &["qcode-config"],
        only: None,
    },
    Rule {
        krate: "qcode-tools",
        why: "tools are a library over the protocol types",
        forbidden: &[],
        only: Some(FRONT_END_MAY_USE),
    },
    Rule {
        krate: "qcode-auth",
        why: "auth may use config and client types, never the engine or a front end",
        forbidden: &["qcode-core", "qcode-tui", "qcode-exec", "qcode-telemetry"],
        only: None,
    },
    Rule {
        krate: "qcode-telemetry",
        why: "statistics observe protocol events; they cannot see configuration or the engine",
        forbidden: &[
            "qcode-core",
            "qcode-config",
            "qcode-auth",
            "qcode-tui",
            "qcode-exec",
        ],
        only: None,
    },
    Rule {
        krate: "qcode-session",
        why: "transcripts and checkpoints are files, not engine or front-end state",
        forbidden: &[],
        only: Some(FRONT_END_MAY_USE),
    },
    Rule {
        krate: "qcode-mcp",
        why: "the MCP client knows configuration types, the SDK and tokio; the engine plugs it in, never the reverse",
        forbidden: &[],
        only: Some(&["qcode-protocol", "qcode-config", "qcode-fs"]),
    },
    Rule {
        krate: "qcode-extensions",
        why: "commands, skills, agents and hooks are files and processes; callers pass trust, settings and tool facts in",
        forbidden: &[],
        only: Some(&["qcode-protocol", "qcode-fs"]),
    },
    Rule {
        krate: "qcode-sandbox",
        why: "the sandbox is a policy and system calls; the binary builds the policy from configuration",
        forbidden: &[],
        only: Some(&["qcode-protocol"]),
    },
    Rule {
        krate: "qcode-fs",
        why: "the file-writing leaf crate every crate may use",
        forbidden: &[],
        only: Some(&[]),
    },
];

/// What `qcode-protocol` may depend on at all (it must do no I/O), and the tokio features it
/// may turn on.
const PROTOCOL_DEPS: &[&str] = &["serde", "serde_json", "tokio"];
const PROTOCOL_TOKIO_FEATURES: &[&str] = &["sync"];

/// Workspace package → its normal dependencies (name → declared features, default features).
type Graph = BTreeMap<String, BTreeMap<String, (Vec<String>, bool)>>;

fn metadata() -> Value {
    let root = env!("CARGO_MANIFEST_DIR");
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let out = std::process::Command::new(cargo)
        .args([
            "metadata",
            "--format-version",
            "1",
            "--no-deps",
            "--offline",
        ])
        .current_dir(root)
        .output()
        .expect("run cargo metadata");
    assert!(
        out.status.success(),
        "cargo metadata failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("cargo metadata JSON")
}

fn graph(meta: &Value) -> Graph {
    let mut g = Graph::new();
    for p in meta["packages"].as_array().expect("packages") {
        let name = p["name"].as_str().expect("name").to_string();
        let deps = p["dependencies"]
            .as_array()
            .expect("dependencies")
            .iter()
            .filter(|d| d["kind"].is_null())
            .map(|d| {
                let features = d["features"]
                    .as_array()
                    .map(|f| {
                        f.iter()
                            .filter_map(|x| x.as_str().map(String::from))
                            .collect()
                    })
                    .unwrap_or_default();
                let default = d["uses_default_features"].as_bool().unwrap_or(true);
                (
                    d["name"].as_str().expect("dep name").to_string(),
                    (features, default),
                )
            })
            .collect();
        g.insert(name, deps);
    }
    g
}

/// Every qcode crate `from` reaches, with one path to it (for the message).
fn reachable(g: &Graph, from: &str) -> BTreeMap<String, Vec<String>> {
    let mut seen: BTreeMap<String, Vec<String>> = BTreeMap::new();
    let mut stack = vec![(from.to_string(), vec![from.to_string()])];
    while let Some((node, path)) = stack.pop() {
        for dep in g.get(&node).map(|d| d.keys()).into_iter().flatten() {
            if !g.contains_key(dep) || seen.contains_key(dep) {
                continue;
            }
            let mut p = path.clone();
            p.push(dep.clone());
            seen.insert(dep.clone(), p.clone());
            stack.push((dep.clone(), p));
        }
    }
    seen
}

/// Every broken rule, one line each, naming the edge.
fn violations(g: &Graph) -> Vec<String> {
    let mut out = Vec::new();
    for rule in RULES {
        if !g.contains_key(rule.krate) {
            out.push(format!(
                "{} is named by a rule but is not in the workspace",
                rule.krate
            ));
            continue;
        }
        for (dep, path) in reachable(g, rule.krate) {
            let bad = rule.forbidden.contains(&dep.as_str())
                || rule.only.is_some_and(|only| !only.contains(&dep.as_str()));
            if bad {
                out.push(format!(
                    "{} → {} (via {}): {}",
                    rule.krate,
                    dep,
                    path.join(" → "),
                    rule.why
                ));
            }
        }
    }
    if let Some(deps) = g.get("qcode-protocol") {
        for (dep, (features, default)) in deps {
            if !PROTOCOL_DEPS.contains(&dep.as_str()) {
                out.push(format!(
                    "qcode-protocol → {dep}: the protocol crate holds data only"
                ));
            }
            if dep == "tokio" {
                let extra: BTreeSet<&str> = features
                    .iter()
                    .map(String::as_str)
                    .filter(|f| !PROTOCOL_TOKIO_FEATURES.contains(f))
                    .collect();
                if *default || !extra.is_empty() {
                    out.push(format!(
                        "qcode-protocol → tokio with features {extra:?} (default features: {default}): only channels (`sync`) are allowed"
                    ));
                }
            }
        }
    }
    out
}

#[test]
fn the_crate_map_of_the_architecture_document_holds() {
    let g = graph(&metadata());
    let broken = violations(&g);
    assert!(
        broken.is_empty(),
        "dependency rules of docs/architecture.md are broken:\n  {}",
        broken.join("\n  ")
    );
}

#[test]
fn a_broken_rule_is_reported_with_its_path() {
    // The real graph with one edge added the way a careless change would: the engine picks up
    // telemetry through the client.
    let mut g = graph(&metadata());
    g.get_mut("qcode-client")
        .expect("client")
        .insert("qcode-telemetry".into(), (vec![], true));
    g.get_mut("qcode-protocol")
        .expect("protocol")
        .insert("reqwest".into(), (vec![], true));
    let broken = violations(&g);
    assert!(
        broken.iter().any(|v| v.starts_with(
            "qcode-core → qcode-telemetry (via qcode-core → qcode-client → qcode-telemetry)"
        )),
        "{broken:?}"
    );
    assert!(
        broken
            .iter()
            .any(|v| v.starts_with("qcode-protocol → reqwest")),
        "{broken:?}"
    );
}
