//! Letters from templates: the template registry, field validation, markup, layout and
//! the writers (tagged PDF and plain text).
//!
//! A template is a folder under `templates/` with `template.toml` (title, version,
//! language and the declared fields), `letter.md.hbs` (Handlebars over a Markdown subset)
//! and `example.json` (sample data that renders it fully). Shared partials live in
//! `templates/_partials/`. The templates are embedded in the binary, so a Lambda needs
//! no files; the CLI can load a folder instead (`--templates DIR`).

pub mod embedded;
pub mod fields;
pub mod font;
pub mod layout;
pub mod markup;
pub mod pdf;
pub mod programs;
pub mod sfnt;
pub mod text;

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::OnceLock;

use handlebars::Handlebars;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use sha2::{Digest, Sha256};

pub use fields::{FieldError, FieldSpec, FieldType};

/// How a template's paragraphs are set.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Align {
    #[default]
    Left,
    Justify,
}

/// A rule that makes fields required when another field has one of some values.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Requirement {
    pub when: String,
    #[serde(rename = "is")]
    pub values: Vec<String>,
    pub require: Vec<String>,
}

/// A template's declaration (`template.toml`).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TemplateSpec {
    pub name: String,
    pub title: String,
    pub version: String,
    pub language: String,
    pub description: String,
    #[serde(default)]
    pub align: Align,
    /// Shared field sets from `_partials/<name>.fields.toml`, declared before the
    /// template's own fields (a field of the same name declared here replaces the shared one).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub include: Vec<String>,
    #[serde(default, rename = "field")]
    pub fields: Vec<FieldSpec>,
    #[serde(default, rename = "requirement", skip_serializing_if = "Vec::is_empty")]
    pub requirements: Vec<Requirement>,
}

/// A loaded template.
#[derive(Debug, Clone)]
pub struct Template {
    pub spec: TemplateSpec,
    pub example: Value,
}

/// The output format.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Pdf,
    Txt,
}

impl std::str::FromStr for Format {
    type Err = String;
    fn from_str(s: &str) -> Result<Format, String> {
        match s {
            "pdf" => Ok(Format::Pdf),
            "txt" | "text" => Ok(Format::Txt),
            other => Err(format!("unknown format {other:?} (pdf or txt)")),
        }
    }
}

/// A rendered letter.
#[derive(Debug, Clone)]
pub struct Rendered {
    pub bytes: Vec<u8>,
    pub pages: usize,
    pub template: String,
    pub version: String,
    /// SHA-256 of the validated data, hex.
    pub data_hash: String,
}

/// Why a letter was not produced.
#[derive(Debug, thiserror::Error)]
pub enum LetterError {
    #[error("no template named {name:?} (templates: {known})")]
    UnknownTemplate { name: String, known: String },
    #[error("the letter data has {} problem(s): {}", .0.len(), .0.iter().map(ToString::to_string).collect::<Vec<_>>().join("; "))]
    Invalid(Vec<FieldError>),
    #[error("template {name}: {message}")]
    Template { name: String, message: String },
    #[error("template {name} could not be rendered: {message}")]
    Render { name: String, message: String },
    #[error("reading templates from {path}: {message}")]
    Load { path: String, message: String },
}

impl postroom_core::ErrorCode for LetterError {
    fn code(&self) -> postroom_core::Code {
        use postroom_core::Code;
        match self {
            LetterError::UnknownTemplate { .. } => Code::UnknownTemplate,
            LetterError::Invalid(_) => Code::InvalidData,
            LetterError::Template { .. } | LetterError::Render { .. } => Code::TemplateError,
            LetterError::Load { .. } => Code::TemplateLoadError,
        }
    }
}

/// A template folder's files: declaration, body, example.
type TemplateFiles = (Option<String>, Option<String>, Option<String>);

/// The templates and the engine that renders them.
#[derive(Debug)]
pub struct Registry {
    templates: BTreeMap<String, Template>,
    hb: Handlebars<'static>,
}

impl Registry {
    /// The templates built into this binary.
    pub fn embedded() -> &'static Registry {
        static REG: OnceLock<Registry> = OnceLock::new();
        REG.get_or_init(|| {
            Registry::from_files(
                embedded::FILES
                    .iter()
                    .map(|(p, t)| (p.to_string(), t.to_string())),
            )
            .expect("the embedded templates are valid (checked by the tests)")
        })
    }

    /// Loads every template folder under `dir` (and `dir/_partials`).
    pub fn from_dir(dir: &Path) -> Result<Registry, LetterError> {
        let load_err = |e: std::io::Error| LetterError::Load {
            path: dir.display().to_string(),
            message: e.to_string(),
        };
        let mut files = Vec::new();
        for entry in std::fs::read_dir(dir).map_err(load_err)? {
            let entry = entry.map_err(load_err)?;
            if !entry.file_type().map_err(load_err)?.is_dir() {
                continue;
            }
            for file in std::fs::read_dir(entry.path()).map_err(load_err)? {
                let file = file.map_err(load_err)?;
                let rel = format!(
                    "{}/{}",
                    entry.file_name().to_string_lossy(),
                    file.file_name().to_string_lossy()
                );
                files.push((rel, std::fs::read_to_string(file.path()).map_err(load_err)?));
            }
        }
        Registry::from_files(files)
    }

    /// Builds a registry from `(relative path, text)` pairs.
    pub fn from_files(
        files: impl IntoIterator<Item = (String, String)>,
    ) -> Result<Registry, LetterError> {
        let mut hb = markup::engine();
        let mut specs: BTreeMap<String, TemplateFiles> = BTreeMap::new();
        let mut shared: BTreeMap<String, Vec<FieldSpec>> = BTreeMap::new();
        for (path, text) in files {
            let Some((folder, file)) = path.split_once('/') else {
                continue;
            };
            if folder == "_partials" {
                if let Some(name) = file.strip_suffix(".fields.toml") {
                    #[derive(Deserialize)]
                    struct Shared {
                        #[serde(rename = "field")]
                        fields: Vec<FieldSpec>,
                    }
                    let set: Shared = toml::from_str(&text).map_err(|e| LetterError::Template {
                        name: format!("_partials/{file}"),
                        message: e.to_string(),
                    })?;
                    shared.insert(name.to_string(), set.fields);
                } else if let Some(name) = file.strip_suffix(".md.hbs") {
                    hb.register_partial(name, text)
                        .map_err(|e| LetterError::Template {
                            name: format!("_partials/{name}"),
                            message: e.to_string(),
                        })?;
                }
                continue;
            }
            let slot = specs.entry(folder.to_string()).or_default();
            match file {
                "template.toml" => slot.0 = Some(text),
                "letter.md.hbs" => slot.1 = Some(text),
                "example.json" => slot.2 = Some(text),
                _ => {}
            }
        }
        let mut templates = BTreeMap::new();
        for (folder, (toml_text, body, example)) in specs {
            let err = |message: String| LetterError::Template {
                name: folder.clone(),
                message,
            };
            let mut spec: TemplateSpec =
                toml::from_str(&toml_text.ok_or_else(|| err("template.toml is missing".into()))?)
                    .map_err(|e| err(format!("template.toml: {e}")))?;
            let mut all = Vec::new();
            for set in &spec.include {
                let fields = shared
                    .get(set)
                    .ok_or_else(|| err(format!("includes an unknown field set {set:?}")))?;
                all.extend(
                    fields
                        .iter()
                        .filter(|f| !spec.fields.iter().any(|o| o.name == f.name))
                        .cloned(),
                );
            }
            all.append(&mut spec.fields);
            spec.fields = all;
            let mut seen = std::collections::HashSet::new();
            if let Some(dup) = spec.fields.iter().find(|f| !seen.insert(f.name.as_str())) {
                return Err(err(format!("field {:?} is declared twice", dup.name)));
            }
            if spec.name != folder {
                return Err(err(format!("template.toml names it {:?}", spec.name)));
            }
            for r in &spec.requirements {
                for name in std::iter::once(&r.when).chain(&r.require) {
                    if !spec.fields.iter().any(|f| &f.name == name) {
                        return Err(err(format!(
                            "requirement names an undeclared field {name:?}"
                        )));
                    }
                }
            }
            let example: Value = serde_json::from_str(
                &example.ok_or_else(|| err("example.json is missing".into()))?,
            )
            .map_err(|e| err(format!("example.json: {e}")))?;
            hb.register_template_string(
                &folder,
                body.ok_or_else(|| err("letter.md.hbs is missing".into()))?,
            )
            .map_err(|e| err(e.to_string()))?;
            templates.insert(folder, Template { spec, example });
        }
        Ok(Registry { templates, hb })
    }

    pub fn templates(&self) -> impl Iterator<Item = &Template> {
        self.templates.values()
    }

    pub fn get(&self, name: &str) -> Result<&Template, LetterError> {
        self.templates
            .get(name)
            .ok_or_else(|| LetterError::UnknownTemplate {
                name: name.to_string(),
                known: self
                    .templates
                    .keys()
                    .cloned()
                    .collect::<Vec<_>>()
                    .join(", "),
            })
    }

    /// Checks `data` against the template's fields; returns the normalised values.
    pub fn validate(
        &self,
        name: &str,
        data: &Value,
    ) -> Result<serde_json::Map<String, Value>, LetterError> {
        let template = self.get(name)?;
        let values = fields::validate(&template.spec.fields, data, &font::covers)
            .map_err(LetterError::Invalid)?;
        let mut errors = Vec::new();
        for r in &template.spec.requirements {
            let trigger = values.get(&r.when).and_then(Value::as_str);
            if trigger.is_some_and(|t| r.values.iter().any(|v| v == t)) {
                for need in &r.require {
                    let missing = match values.get(need) {
                        None | Some(Value::Null) => true,
                        Some(Value::Array(a)) => a.is_empty(),
                        _ => false,
                    };
                    if missing {
                        errors.push(FieldError {
                            field: need.clone(),
                            message: format!(
                                "is required when {} is {}",
                                r.when,
                                trigger.unwrap_or_default()
                            ),
                        });
                    }
                }
            }
        }
        if !errors.is_empty() {
            return Err(LetterError::Invalid(errors));
        }
        Ok(values)
    }

    /// The letter's markup: the template rendered over validated data.
    pub fn markup(
        &self,
        name: &str,
        values: &serde_json::Map<String, Value>,
    ) -> Result<String, LetterError> {
        self.hb
            .render(name, values)
            .map_err(|e| LetterError::Render {
                name: name.to_string(),
                message: e.to_string(),
            })
    }

    /// Validates `data` and renders the letter.
    pub fn render(
        &self,
        name: &str,
        data: &Value,
        format: Format,
    ) -> Result<Rendered, LetterError> {
        let template = self.get(name)?;
        let values = self.validate(name, data)?;
        let data_hash = hex::encode(Sha256::digest(
            serde_json::to_vec(&values).unwrap_or_default(),
        ));
        let markup = self.markup(name, &values)?;
        let blocks = markup::parse(&markup).map_err(|message| LetterError::Render {
            name: name.to_string(),
            message,
        })?;
        let (bytes, pages) = match format {
            Format::Txt => (text::render(&blocks).into_bytes(), 0),
            Format::Pdf => {
                let laid = layout::layout(
                    &blocks,
                    layout::Options {
                        justify: template.spec.align == Align::Justify,
                    },
                );
                let creator = format!(
                    "postroom letters: {} {}",
                    template.spec.name, template.spec.version
                );
                let seed = format!(
                    "{}\n{}\n{}",
                    template.spec.name, template.spec.version, data_hash
                );
                let bytes = pdf::write(
                    &laid,
                    &pdf::DocInfo {
                        title: &template.spec.title,
                        language: &template.spec.language,
                        creator: &creator,
                        id_seed: seed.as_bytes(),
                    },
                )
                .map_err(|message| LetterError::Render {
                    name: name.to_string(),
                    message,
                })?;
                (bytes, laid.pages.len())
            }
        };
        Ok(Rendered {
            bytes,
            pages,
            template: template.spec.name.clone(),
            version: template.spec.version.clone(),
            data_hash,
        })
    }
}
