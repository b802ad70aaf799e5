//! The fields a template declares, and validation of letter data against them: every
//! missing or invalid field is reported at once, and values come out normalised.

use std::sync::LazyLock;

use regex::Regex;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use unicode_normalization::UnicodeNormalization;

use postroom_core::calendar;

/// The type of a declared field.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum FieldType {
    Text,
    Date,
    Money,
    Address,
    List,
    YesNo,
    Choice,
    /// A table of text cells: `{"columns": [..], "rows": [[..], ..]}`.
    Table,
}

impl FieldType {
    pub fn as_str(self) -> &'static str {
        match self {
            FieldType::Text => "text",
            FieldType::Date => "date",
            FieldType::Money => "money",
            FieldType::Address => "address",
            FieldType::List => "list",
            FieldType::YesNo => "yes-no",
            FieldType::Choice => "choice",
            FieldType::Table => "table",
        }
    }
}

/// One declared field.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FieldSpec {
    pub name: String,
    #[serde(rename = "type")]
    pub kind: FieldType,
    #[serde(default = "yes")]
    pub required: bool,
    pub description: String,
    /// The allowed values of a `choice`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub choices: Vec<String>,
    /// For a `list` of records: the fields of each item (otherwise items are text).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub fields: Vec<FieldSpec>,
    /// The longest text accepted, in characters.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_length: Option<usize>,
}

fn yes() -> bool {
    true
}

/// One problem with one field. `field` is a path: `exemptions[2].reason`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FieldError {
    pub field: String,
    pub message: String,
}

impl postroom_core::ErrorCode for FieldError {
    fn code(&self) -> postroom_core::Code {
        postroom_core::Code::InvalidData
    }
}

impl std::fmt::Display for FieldError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.field, self.message)
    }
}

const DEFAULT_MAX_TEXT: usize = 20_000;
const MAX_ADDRESS_LINE: usize = 60;

static POSTCODE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r"^(?i)(GIR ?0AA|[A-PR-UWYZ][A-HK-Y]?[0-9][0-9A-HJKMNPR-Y]? ?[0-9][ABD-HJLNP-UW-Z]{2})$",
    )
    .expect("postcode pattern")
});

/// Whether `text` is a UK postcode (any case, with or without the space).
pub fn is_postcode(text: &str) -> bool {
    POSTCODE.is_match(text.trim())
}

fn normalise_postcode(text: &str) -> String {
    let compact: String = text.split_whitespace().collect::<String>().to_uppercase();
    let (outward, inward) = compact.split_at(compact.len() - 3);
    format!("{outward} {inward}")
}

/// Checks `data` against `specs`; returns the normalised values (dates as `YYYY-MM-DD`,
/// money as a decimal string with two places, yes/no as booleans, text in NFC, absent
/// optional fields as `null`) or every problem found.
pub fn validate(
    specs: &[FieldSpec],
    data: &Value,
    covers: &dyn Fn(char) -> bool,
) -> Result<Map<String, Value>, Vec<FieldError>> {
    let mut errors = Vec::new();
    let Some(object) = data.as_object() else {
        return Err(vec![FieldError {
            field: "(data)".into(),
            message: "letter data must be a JSON object of field names and values".into(),
        }]);
    };
    let out = validate_record(specs, object, "", covers, &mut errors);
    if errors.is_empty() {
        Ok(out)
    } else {
        Err(errors)
    }
}

fn validate_record(
    specs: &[FieldSpec],
    object: &Map<String, Value>,
    prefix: &str,
    covers: &dyn Fn(char) -> bool,
    errors: &mut Vec<FieldError>,
) -> Map<String, Value> {
    let mut out = Map::new();
    for spec in specs {
        let path = format!("{prefix}{}", spec.name);
        let value = object.get(&spec.name).filter(|v| !is_blank(v));
        match value {
            None if spec.required => errors.push(FieldError {
                field: path,
                message: format!("is required ({}: {})", spec.kind.as_str(), spec.description),
            }),
            None => {
                out.insert(spec.name.clone(), Value::Null);
            }
            Some(value) => match check(spec, value, &path, covers, errors) {
                Ok(v) => {
                    out.insert(spec.name.clone(), v);
                }
                Err(message) => errors.push(FieldError {
                    field: path,
                    message,
                }),
            },
        }
    }
    for key in object.keys() {
        if !specs.iter().any(|s| &s.name == key) {
            errors.push(FieldError {
                field: format!("{prefix}{key}"),
                message: "is not a field of this template".into(),
            });
        }
    }
    out
}

fn is_blank(value: &Value) -> bool {
    match value {
        Value::Null => true,
        Value::String(s) => s.trim().is_empty(),
        _ => false,
    }
}

fn check(
    spec: &FieldSpec,
    value: &Value,
    path: &str,
    covers: &dyn Fn(char) -> bool,
    errors: &mut Vec<FieldError>,
) -> Result<Value, String> {
    match spec.kind {
        FieldType::Text => {
            let text = scalar_text(value).ok_or("must be text")?;
            Ok(Value::String(clean_text(
                &text,
                spec.max_length.unwrap_or(DEFAULT_MAX_TEXT),
                true,
                covers,
            )?))
        }
        FieldType::Date => {
            let text = value.as_str().ok_or("must be a date written YYYY-MM-DD")?;
            let date = calendar::parse_date(text).ok_or_else(|| {
                format!("{text:?} is not a real date (write YYYY-MM-DD or DD/MM/YYYY)")
            })?;
            Ok(Value::String(date.format("%Y-%m-%d").to_string()))
        }
        FieldType::Money => {
            let pence = match value {
                Value::Number(n) => parse_money(&n.to_string()),
                Value::String(s) => parse_money(s),
                _ => None,
            }
            .ok_or_else(|| {
                format!(
                    "{} is not an amount of money (for example 1250.50)",
                    short(value)
                )
            })?;
            Ok(Value::String(format!("{}.{:02}", pence / 100, pence % 100)))
        }
        FieldType::Address => {
            let lines: Vec<String> = match value {
                Value::Array(items) => items
                    .iter()
                    .map(|v| {
                        v.as_str()
                            .map(str::to_string)
                            .ok_or("address lines must be text")
                    })
                    .collect::<Result<_, _>>()?,
                Value::String(s) => s.split(['\n', '|']).map(str::to_string).collect(),
                _ => return Err("must be a postal address: a list of 3 to 7 lines".into()),
            };
            let mut lines: Vec<String> = lines
                .iter()
                .map(|l| l.trim())
                .filter(|l| !l.is_empty())
                .map(|l| clean_text(l, MAX_ADDRESS_LINE, false, covers))
                .collect::<Result<_, _>>()?;
            if !(3..=7).contains(&lines.len()) {
                return Err(format!(
                    "has {} lines; a postal address has 3 to 7",
                    lines.len()
                ));
            }
            let Some(last) = lines.last_mut() else {
                return Err("must be a postal address: a list of 3 to 7 lines".into());
            };
            // The postcode is the last line, or ends it ("Cheshire SK9 5AF").
            let words: Vec<&str> = last.split_whitespace().collect();
            let split = (1..=words.len().min(2))
                .map(|n| words.len() - n)
                .find(|&at| is_postcode(&words[at..].join(" ")))
                .ok_or_else(|| format!("the last line must end with a UK postcode (for example SW1A 2AA), not {last:?}"))?;
            let postcode = normalise_postcode(&words[split..].join(""));
            *last = if split == 0 {
                postcode
            } else {
                format!("{} {postcode}", words[..split].join(" "))
            };
            Ok(Value::Array(lines.into_iter().map(Value::String).collect()))
        }
        FieldType::YesNo => match value {
            Value::Bool(b) => Ok(Value::Bool(*b)),
            Value::String(s) => match s.trim().to_ascii_lowercase().as_str() {
                "yes" | "y" | "true" => Ok(Value::Bool(true)),
                "no" | "n" | "false" => Ok(Value::Bool(false)),
                _ => Err(format!("{s:?} is not yes or no")),
            },
            _ => Err("must be yes or no".into()),
        },
        FieldType::Choice => {
            let text = value
                .as_str()
                .map(str::trim)
                .ok_or("must be one of the choices")?;
            if spec.choices.iter().any(|c| c == text) {
                Ok(Value::String(text.to_string()))
            } else {
                Err(format!(
                    "{text:?} is not one of: {}",
                    spec.choices.join(", ")
                ))
            }
        }
        FieldType::List => {
            let items: Vec<Value> = match value {
                Value::Array(items) => items.clone(),
                // From a CSV cell: items separated by semicolons.
                Value::String(s) if spec.fields.is_empty() => s
                    .split(';')
                    .map(str::trim)
                    .filter(|s| !s.is_empty())
                    .map(|s| Value::String(s.to_string()))
                    .collect(),
                _ => return Err("must be a list".into()),
            };
            if items.is_empty() && spec.required {
                return Err("must have at least one item".into());
            }
            let mut out = Vec::with_capacity(items.len());
            for (i, item) in items.iter().enumerate() {
                let item_path = format!("{path}[{}]", i + 1);
                if spec.fields.is_empty() {
                    match scalar_text(item)
                        .ok_or_else(|| "must be text".to_string())
                        .and_then(|t| {
                            clean_text(
                                &t,
                                spec.max_length.unwrap_or(DEFAULT_MAX_TEXT),
                                true,
                                covers,
                            )
                        }) {
                        Ok(t) => out.push(Value::String(t)),
                        Err(message) => errors.push(FieldError {
                            field: item_path,
                            message,
                        }),
                    }
                } else if let Some(record) = item.as_object() {
                    out.push(Value::Object(validate_record(
                        &spec.fields,
                        record,
                        &format!("{item_path}."),
                        covers,
                        errors,
                    )));
                } else {
                    errors.push(FieldError {
                        field: item_path,
                        message: format!(
                            "must be a record with {}",
                            spec.fields
                                .iter()
                                .map(|f| f.name.as_str())
                                .collect::<Vec<_>>()
                                .join(", ")
                        ),
                    });
                }
            }
            Ok(Value::Array(out))
        }
        FieldType::Table => {
            let object = value
                .as_object()
                .ok_or("must be a table: {\"columns\": [...], \"rows\": [[...]]}")?;
            let cells = |v: Option<&Value>| -> Result<Vec<String>, String> {
                v.and_then(Value::as_array)
                    .ok_or("columns and each row must be lists")?
                    .iter()
                    .map(|c| {
                        scalar_text(c)
                            .ok_or_else(|| "table cells must be text or numbers".to_string())
                            .and_then(|t| clean_text(&t, 500, false, covers))
                    })
                    .collect()
            };
            let columns = cells(object.get("columns"))?;
            if columns.is_empty() {
                return Err("a table needs at least one column".into());
            }
            let rows = object
                .get("rows")
                .and_then(Value::as_array)
                .ok_or("a table needs rows")?;
            let mut out_rows = Vec::with_capacity(rows.len());
            for (i, row) in rows.iter().enumerate() {
                let row = cells(Some(row)).map_err(|e| format!("row {}: {e}", i + 1))?;
                if row.len() != columns.len() {
                    return Err(format!(
                        "row {} has {} cells for {} columns",
                        i + 1,
                        row.len(),
                        columns.len()
                    ));
                }
                out_rows.push(Value::Array(row.into_iter().map(Value::String).collect()));
            }
            Ok(serde_json::json!({ "columns": columns, "rows": out_rows }))
        }
    }
}

fn scalar_text(value: &Value) -> Option<String> {
    match value {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

fn short(value: &Value) -> String {
    let text = value.to_string();
    if text.chars().count() > 40 {
        format!("{}…", text.chars().take(40).collect::<String>())
    } else {
        text
    }
}

/// NFC, no control characters (newlines only where `multiline`), within `max` characters,
/// and every character printable in the letter font.
fn clean_text(
    text: &str,
    max: usize,
    multiline: bool,
    covers: &dyn Fn(char) -> bool,
) -> Result<String, String> {
    let text: String = text.trim().replace("\r\n", "\n").nfc().collect();
    let count = text.chars().count();
    if count > max {
        return Err(format!("is {count} characters long; the most is {max}"));
    }
    if let Some(c) = text
        .chars()
        .find(|&c| c.is_control() && !(multiline && (c == '\n' || c == '\t')))
    {
        return Err(format!("contains a control character (U+{:04X})", c as u32));
    }
    let missing: Vec<String> = text
        .chars()
        .filter(|&c| !c.is_whitespace() && !covers(c))
        .take(3)
        .map(|c| format!("{c} (U+{:04X})", c as u32))
        .collect();
    if !missing.is_empty() {
        return Err(format!(
            "contains characters the letter font cannot print: {}",
            missing.join(", ")
        ));
    }
    Ok(text)
}

/// `1250`, `1,250.5`, `£1,250,000.00` → pence. Negative amounts and more than two decimal
/// places are refused.
pub fn parse_money(text: &str) -> Option<i64> {
    let text = text.trim().trim_start_matches('£').trim();
    let text: String = text.chars().filter(|&c| c != ',').collect();
    let (whole, frac) = match text.split_once('.') {
        Some((w, f)) => (w, f),
        None => (text.as_str(), ""),
    };
    if whole.is_empty() || !whole.bytes().all(|b| b.is_ascii_digit()) || frac.len() > 2 {
        return None;
    }
    if !frac.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let whole: i64 = whole.parse().ok()?;
    let frac: i64 = format!("{frac:0<2}").parse().ok()?;
    whole.checked_mul(100)?.checked_add(frac)
}

/// Pence as `£1,250,000.00`.
pub fn format_money(pence: i64) -> String {
    let pounds = (pence / 100).to_string();
    let mut grouped = String::with_capacity(pounds.len() + pounds.len() / 3);
    for (i, c) in pounds.chars().enumerate() {
        if i > 0 && (pounds.len() - i).is_multiple_of(3) {
            grouped.push(',');
        }
        grouped.push(c);
    }
    format!("£{grouped}.{:02}", pence % 100)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn money_parses_and_formats() {
        assert_eq!(parse_money("£1,250,000"), Some(125_000_000));
        assert_eq!(parse_money("12.5"), Some(1250));
        assert_eq!(parse_money("12.505"), None);
        assert_eq!(parse_money("-4"), None);
        assert_eq!(parse_money("ten"), None);
        assert_eq!(format_money(125_000_000), "£1,250,000.00");
        assert_eq!(format_money(5), "£0.05");
    }

    #[test]
    fn postcodes() {
        for good in [
            "SW1A 2AA", "e14 4pu", "M1 1AE", "B338TH", "CR2 6XH", "DN55 1PT", "EC1A 1BB",
        ] {
            assert!(is_postcode(good), "{good}");
        }
        for bad in ["London", "12345", "SW1A", "QQ1 1AA"] {
            assert!(!is_postcode(bad), "{bad}");
        }
        assert_eq!(normalise_postcode("e144pu"), "E14 4PU");
    }
}
