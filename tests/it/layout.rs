//! The architecture's invariants that the compiler does not check (ARCHITECTURE.md): no
//! cycle among the application's modules, fronts without storage keys or composition,
//! Lambda mains under 40 lines, and a `//!` line opening every source file.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn rust_files(dir: &Path) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = walkdir::WalkDir::new(dir)
        .sort_by_file_name()
        .into_iter()
        .filter_map(Result::ok)
        .map(|e| e.into_path())
        .filter(|p| p.extension().is_some_and(|e| e == "rs"))
        .collect();
    files.sort();
    files
}

/// The code of a file without its `#[cfg(test)] mod tests` (tests may reach anywhere).
fn code(path: &Path) -> String {
    let text = std::fs::read_to_string(path).expect("read");
    match text.find("#[cfg(test)]\nmod tests") {
        Some(at) => text[..at].to_owned(),
        None => text,
    }
}

/// The application's module of a file under `src/` (`foi::service`, `ingest`...).
fn module_of(path: &Path) -> Option<String> {
    let rel = path.strip_prefix(root().join("src")).ok()?;
    let parts: Vec<String> = rel
        .components()
        .map(|c| {
            c.as_os_str()
                .to_string_lossy()
                .trim_end_matches(".rs")
                .to_owned()
        })
        .collect();
    match parts.as_slice() {
        [first, ..] if first == "bin" || first == "lib" => None,
        [one] => Some(one.clone()),
        // A folder module: `ingest/file.rs` belongs to `ingest`; `foi/*` are modules of
        // their own (the FOI use case is several).
        [dir, file] if dir == "foi" => Some(if file == "mod" {
            "foi".to_owned()
        } else {
            format!("foi::{file}")
        }),
        [dir, ..] => Some(dir.clone()),
        [] => None,
    }
}

/// The application's modules each module uses (`crate::x`, and `super::x` inside foi/).
fn module_graph() -> BTreeMap<String, BTreeSet<String>> {
    let crates_below = [
        "clock", "calendar", "failure", "store", "extract", "metadata", "letters",
    ];
    let mut graph: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for file in rust_files(&root().join("src")) {
        let Some(module) = module_of(&file) else {
            continue;
        };
        let text = code(&file);
        let deps = graph.entry(module.clone()).or_default();
        let mut add = |name: String| {
            if name != module && !crates_below.contains(&name.as_str()) {
                deps.insert(name);
            }
        };
        for (at, _) in text.match_indices("crate::") {
            let rest = &text[at + 7..];
            let first: String = rest
                .chars()
                .take_while(|c| c.is_ascii_lowercase() || *c == '_')
                .collect();
            if first.is_empty() {
                continue;
            }
            if first == "foi" {
                let second: String = rest[first.len()..]
                    .strip_prefix("::")
                    .unwrap_or("")
                    .chars()
                    .take_while(|c| c.is_ascii_lowercase() || *c == '_')
                    .collect();
                add(if second.is_empty() {
                    "foi".to_owned()
                } else {
                    format!("foi::{second}")
                });
            } else {
                add(first);
            }
        }
        if module.starts_with("foi::") {
            for (at, _) in text.match_indices("super::") {
                let name: String = text[at + 7..]
                    .chars()
                    .take_while(|c| c.is_ascii_lowercase() || *c == '_')
                    .collect();
                if !name.is_empty() {
                    add(format!("foi::{name}"));
                }
            }
        }
    }
    graph
}

#[test]
fn no_module_of_the_application_depends_on_itself_through_others() {
    let graph = module_graph();
    assert!(graph.contains_key("ingest") && graph.contains_key("foi::service"));
    assert!(
        graph["app"].contains("ingest"),
        "the graph misses uses: {graph:?}"
    );
    // Depth-first search for a path from each module back to itself.
    fn reaches(
        graph: &BTreeMap<String, BTreeSet<String>>,
        from: &str,
        target: &str,
        seen: &mut BTreeSet<String>,
        path: &mut Vec<String>,
    ) -> bool {
        for next in graph.get(from).into_iter().flatten() {
            path.push(next.clone());
            if next == target
                || (seen.insert(next.clone()) && reaches(graph, next, target, seen, path))
            {
                return true;
            }
            path.pop();
        }
        false
    }
    for module in graph.keys() {
        let mut path = vec![module.clone()];
        assert!(
            !reaches(&graph, module, module, &mut BTreeSet::new(), &mut path),
            "a cycle: {}",
            path.join(" -> ")
        );
    }
}

#[test]
fn fronts_hold_no_storage_keys_and_build_no_use_case() {
    let mut fronts = rust_files(&root().join("src/bin/postroom"));
    fronts.extend(rust_files(&root().join("src/console")));
    for function in ["ingest", "letters", "foi", "lambda"] {
        fronts.extend(rust_files(
            &root().join("functions").join(function).join("src"),
        ));
    }
    assert!(fronts.len() > 10, "{fronts:?}");
    let forbidden = [
        "keys::",
        "\"PK\"",
        "\"SK\"",
        "DOC#",
        "CASE#",
        "Ingest::new",
        "Foi {",
        "Letters {",
        "open_stores",
        "SystemClock",
        "Utc::now",
    ];
    let mut found = Vec::new();
    for file in &fronts {
        let text = code(file);
        for word in forbidden {
            if text.contains(word) {
                found.push(format!("{}: {word}", file.display()));
            }
        }
    }
    assert!(found.is_empty(), "fronts that know too much: {found:#?}");
}

#[test]
fn each_lambda_main_is_under_forty_lines() {
    for function in ["ingest", "letters", "foi"] {
        let main = root().join("functions").join(function).join("src/main.rs");
        let lines = std::fs::read_to_string(&main)
            .expect("main.rs")
            .lines()
            .count();
        assert!(lines < 40, "{}: {lines} lines", main.display());
    }
}

#[test]
fn every_source_file_says_what_it_is_for() {
    let mut files = rust_files(&root().join("src"));
    for dir in ["crates", "functions", "tests/it", "benches"] {
        files.extend(rust_files(&root().join(dir)));
    }
    let silent: Vec<String> = files
        .iter()
        .filter(|f| !f.components().any(|c| c.as_os_str() == "target"))
        .filter(|f| {
            !std::fs::read_to_string(f)
                .unwrap_or_default()
                .starts_with("//!")
        })
        .map(|f| f.display().to_string())
        .collect();
    assert!(silent.is_empty(), "files without a `//!` line: {silent:#?}");
}
