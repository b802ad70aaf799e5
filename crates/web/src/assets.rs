//! The console's static files, embedded in the binary: GOV.UK Frontend and MoJ Frontend
//! as vendored by `scripts/vendor-govuk` (`vendor/`, versions and checksums in
//! `vendor/VERSIONS`) and our own few files (`static/`). Each has an ETag (its SHA-256);
//! pages link them with `?v=` and the set's version so they can be cached for a year.

use std::sync::LazyLock;

use sha2::{Digest, Sha256};

/// One embedded file, served at `/assets/<path>`.
#[derive(Debug)]
pub struct Asset {
    pub path: &'static str,
    pub bytes: &'static [u8],
    pub mime: &'static str,
}

macro_rules! asset {
    ($path:literal, $file:literal, $mime:expr) => {
        Asset {
            path: $path,
            bytes: include_bytes!(concat!(env!("CARGO_MANIFEST_DIR"), "/", $file)),
            mime: $mime,
        }
    };
}

const CSS: &str = "text/css; charset=utf-8";
const JS: &str = "text/javascript; charset=utf-8";
const SVG: &str = "image/svg+xml";

/// Every embedded file (a test checks that this is every file in the two folders).
pub static ASSETS: &[Asset] = &[
    asset!(
        "govuk-frontend.min.css",
        "vendor/govuk-frontend.min.css",
        CSS
    ),
    asset!("govuk-frontend.min.js", "vendor/govuk-frontend.min.js", JS),
    asset!("moj-frontend.min.css", "vendor/moj-frontend.min.css", CSS),
    asset!("body-start.js", "static/body-start.js", JS),
    asset!("console.js", "static/console.js", JS),
    asset!("console.css", "static/console.css", CSS),
    asset!("favicon.svg", "static/favicon.svg", SVG),
    // The MoJ stylesheet's icons, at the paths it names (`/assets/images/…`).
    asset!(
        "images/icon-close-cross-black.svg",
        "vendor/images/icon-close-cross-black.svg",
        SVG
    ),
    asset!(
        "images/icon-document.svg",
        "vendor/images/icon-document.svg",
        SVG
    ),
    asset!(
        "images/icon-progress-tick.svg",
        "vendor/images/icon-progress-tick.svg",
        SVG
    ),
    asset!(
        "images/icon-tag-remove-cross-white.svg",
        "vendor/images/icon-tag-remove-cross-white.svg",
        SVG
    ),
    asset!(
        "images/icon-tag-remove-cross.svg",
        "vendor/images/icon-tag-remove-cross.svg",
        SVG
    ),
    asset!(
        "images/icon-toggle-plus-minus.svg",
        "vendor/images/icon-toggle-plus-minus.svg",
        SVG
    ),
    asset!(
        "images/icon-wysiwyg-bold.svg",
        "vendor/images/icon-wysiwyg-bold.svg",
        SVG
    ),
    asset!(
        "images/icon-wysiwyg-italic.svg",
        "vendor/images/icon-wysiwyg-italic.svg",
        SVG
    ),
    asset!(
        "images/icon-wysiwyg-ordered-list.svg",
        "vendor/images/icon-wysiwyg-ordered-list.svg",
        SVG
    ),
    asset!(
        "images/icon-wysiwyg-underline.svg",
        "vendor/images/icon-wysiwyg-underline.svg",
        SVG
    ),
    asset!(
        "images/icon-wysiwyg-unordered-list.svg",
        "vendor/images/icon-wysiwyg-unordered-list.svg",
        SVG
    ),
];

/// The file served at `/assets/<path>`.
pub fn find(path: &str) -> Option<&'static Asset> {
    ASSETS.iter().find(|a| a.path == path)
}

static ETAGS: LazyLock<Vec<String>> = LazyLock::new(|| {
    ASSETS
        .iter()
        .map(|a| format!("\"{}\"", &hex::encode(Sha256::digest(a.bytes))[..32]))
        .collect()
});

static VERSION: LazyLock<String> = LazyLock::new(|| {
    let mut all = Sha256::new();
    for etag in ETAGS.iter() {
        all.update(etag.as_bytes());
    }
    hex::encode(all.finalize())[..12].to_owned()
});

impl Asset {
    /// A strong ETag: the start of the file's SHA-256, quoted.
    pub fn etag(&self) -> &'static str {
        let i = ASSETS
            .iter()
            .position(|a| std::ptr::eq(a, self))
            .unwrap_or(0);
        ETAGS[i].as_str()
    }
}

/// The version of the whole set, for `?v=` in links: it changes when any file does.
pub fn version() -> &'static str {
    VERSION.as_str()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeSet;
    use std::path::Path;

    fn files_in(dir: &str, skip: &[&str]) -> BTreeSet<String> {
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).join(dir);
        std::fs::read_dir(&root)
            .unwrap_or_else(|e| panic!("{}: {e}", root.display()))
            .filter_map(Result::ok)
            .filter(|e| e.file_type().map(|t| t.is_file()).unwrap_or(false))
            .map(|e| format!("{dir}/{}", e.file_name().to_string_lossy()))
            .filter(|p| !skip.iter().any(|s| p.ends_with(s)))
            .collect()
    }

    #[test]
    fn the_table_is_every_file_in_the_folders() {
        let mut on_disk = files_in("vendor", &["VERSIONS"]);
        on_disk.extend(files_in("vendor/images", &[]));
        on_disk.extend(files_in("static", &[]));
        let src = include_str!("assets.rs");
        let embedded: BTreeSet<String> = on_disk
            .iter()
            .filter(|f| src.contains(&format!("\"{f}\"")))
            .cloned()
            .collect();
        assert_eq!(
            embedded, on_disk,
            "a file in vendor/ or static/ is not embedded"
        );
        assert_eq!(ASSETS.len(), on_disk.len());
    }

    #[test]
    fn vendored_files_match_their_recorded_checksums() {
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("vendor");
        let versions = std::fs::read_to_string(root.join("VERSIONS")).expect("VERSIONS");
        let mut checked = 0;
        for line in versions.lines().filter(|l| !l.starts_with('#')) {
            let mut parts = line.split_whitespace();
            let (Some(hash), Some(path), None) = (parts.next(), parts.next(), parts.next()) else {
                continue;
            };
            if hash.len() != 64 {
                continue;
            }
            let bytes = std::fs::read(root.join(path)).unwrap_or_else(|e| panic!("{path}: {e}"));
            assert_eq!(
                hex::encode(Sha256::digest(&bytes)),
                hash,
                "{path} was changed by hand"
            );
            checked += 1;
        }
        assert!(
            checked >= 3,
            "VERSIONS lists the vendored files ({checked} found)"
        );
    }

    #[test]
    fn the_gov_uk_font_is_not_shipped() {
        for asset in ASSETS.iter().filter(|a| a.path.ends_with(".css")) {
            let css = std::str::from_utf8(asset.bytes).expect("CSS is UTF-8");
            assert!(
                !css.contains("GDS Transport"),
                "{} names the GOV.UK font",
                asset.path
            );
        }
    }

    #[test]
    fn etags_differ_and_the_version_is_stable() {
        let tags: BTreeSet<_> = ASSETS.iter().map(Asset::etag).collect();
        assert_eq!(tags.len(), ASSETS.len());
        assert_eq!(version(), version());
        assert_eq!(find("console.js").map(|a| a.mime), Some(JS));
        assert!(find("../Cargo.toml").is_none());
    }
}
