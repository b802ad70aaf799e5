//! The templates built into the binary (the `templates/` folder); a test checks that this
//! list matches the folder, so a template added there is not forgotten here.

macro_rules! files {
    ($($path:literal),* $(,)?) => {
        &[$(($path, include_str!(concat!("../../../templates/", $path)))),*]
    };
}

/// `(path under templates/, text)` for every template file.
pub const FILES: &[(&str, &str)] = files![
    "_partials/address.md.hbs",
    "_partials/foi-rights.md.hbs",
    "_partials/footer.md.hbs",
    "_partials/letter.fields.toml",
    "_partials/letterhead.md.hbs",
    "_partials/references.md.hbs",
    "_partials/signature.md.hbs",
    "claim-acknowledgement/example.json",
    "claim-acknowledgement/letter.md.hbs",
    "claim-acknowledgement/template.toml",
    "foi-acknowledgement/example.json",
    "foi-acknowledgement/letter.md.hbs",
    "foi-acknowledgement/template.toml",
    "foi-internal-review/example.json",
    "foi-internal-review/letter.md.hbs",
    "foi-internal-review/template.toml",
    "foi-response/example.json",
    "foi-response/letter.md.hbs",
    "foi-response/template.toml",
    "member-mis-result/example.json",
    "member-mis-result/letter.md.hbs",
    "member-mis-result/template.toml",
    "primary-care-appeal-decision/example.json",
    "primary-care-appeal-decision/letter.md.hbs",
    "primary-care-appeal-decision/template.toml",
];
