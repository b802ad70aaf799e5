//! Configuration, read once from the environment and command-line flags, with every
//! missing or invalid setting reported together. Every front (the CLI, each Lambda, the
//! console) reads its settings here and nowhere else: a bad value stops the front at
//! start-up with a message naming the variable, never a silent default.

use std::fmt;
use std::path::PathBuf;
use std::str::FromStr;

use crate::calendar::{Calendar, Nation};

/// Where state lives.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum BackendKind {
    /// A folder and an SQLite file under `POSTROOM_HOME` (the embedded default).
    #[default]
    Local,
    /// S3 and DynamoDB, as the SDK's standard configuration finds them.
    Aws,
}

impl FromStr for BackendKind {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim().to_ascii_lowercase().as_str() {
            "local" => Ok(BackendKind::Local),
            "aws" => Ok(BackendKind::Aws),
            other => Err(format!("{other:?} is not a backend (use local or aws)")),
        }
    }
}

impl fmt::Display for BackendKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            BackendKind::Local => "local",
            BackendKind::Aws => "aws",
        })
    }
}

/// Names of the AWS resources.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AwsNames {
    pub table: String,
    pub bucket: String,
}

/// The whole configuration.
#[derive(Debug, Clone)]
pub struct Config {
    pub backend: BackendKind,
    /// The local data folder (always set; used by the local backend).
    pub home: PathBuf,
    /// Set when the backend is AWS.
    pub aws: Option<AwsNames>,
    /// How many messages of a batch a function handles at once (`POSTROOM_CONCURRENCY`).
    pub concurrency: usize,
    /// The queue the ingest function sends acknowledgement requests to
    /// (`POSTROOM_LETTERS_QUEUE`); none: acknowledgements are not requested from Lambda.
    pub letters_queue: Option<String>,
    /// The queue the ingest function hands documents with scanned pages to, for the OCR
    /// function (`POSTROOM_OCR_QUEUE`, a queue URL); none: scanned pages are read where
    /// the document is ingested, or not at all in a build without OCR (`ocr_unavailable`).
    pub ocr_queue: Option<String>,
    /// The working-day calendar for FOI deadlines: the shipped bank holiday table or
    /// `POSTROOM_HOLIDAYS`, counting the nations in `POSTROOM_FOI_NATIONS` (all if unset).
    pub calendar: Calendar,
    /// FOI reminders are recorded for requests due within this many working days
    /// (`POSTROOM_FOI_REMIND_WITHIN`).
    pub remind_within: u32,
    /// The schedule whose events may start the FOI sweep (`POSTROOM_SWEEP_RULE_ARN`).
    pub sweep_rule_arn: Option<String>,
    /// The person at the keyboard (`USER`), whom the CLI acts as in the audit trail.
    pub user: Option<String>,
    /// The local console's sign-in token (`POSTROOM_CONSOLE_TOKEN`, at least 16
    /// characters); a random one is made at start when unset.
    pub console_token: Option<String>,
    /// The roles the local console's token signs in with (`POSTROOM_CONSOLE_ROLES`,
    /// comma-separated names from [`ROLE_NAMES`]); all of them when unset.
    pub console_roles: Vec<String>,
    /// Where people reach the console (`POSTROOM_CONSOLE_ORIGIN`, e.g.
    /// `https://console.example.org`): its cookies are Secure when it is HTTPS.
    pub console_origin: Option<String>,
    /// The OpenID Connect provider people sign in with on AWS (`POSTROOM_OIDC_ISSUER`,
    /// the Cognito user pool's issuer URL) and the console's client id there
    /// (`POSTROOM_OIDC_CLIENT_ID`). Both or neither.
    pub oidc_issuer: Option<String>,
    pub oidc_client_id: Option<String>,
    /// Search on AWS: the FIFO queue changes go to (`POSTROOM_SEARCH_QUEUE`) and the
    /// search function queries go to (`POSTROOM_SEARCH_FUNCTION`). Both or neither;
    /// neither: no search on AWS.
    pub search_queue: Option<String>,
    pub search_function: Option<String>,
    /// The search function's own index folder (`POSTROOM_SEARCH_DIR`, on its EFS mount).
    pub search_dir: Option<PathBuf>,
}

/// The console's roles, by name.
pub const ROLE_NAMES: [&str; 5] = [
    "case-handler",
    "foi-officer",
    "foi-approver",
    "letters",
    "admin",
];
/// The shortest console token accepted.
pub const MIN_TOKEN_CHARS: usize = 16;

impl Default for Config {
    /// The embedded default under `.postroom`, with every default setting.
    fn default() -> Self {
        Config {
            backend: BackendKind::Local,
            home: PathBuf::from(DEFAULT_HOME),
            aws: None,
            concurrency: DEFAULT_CONCURRENCY,
            letters_queue: None,
            ocr_queue: None,
            calendar: Calendar::embedded().clone(),
            remind_within: DEFAULT_REMIND_WITHIN,
            sweep_rule_arn: None,
            user: None,
            console_token: None,
            console_roles: Vec::new(),
            console_origin: None,
            oidc_issuer: None,
            oidc_client_id: None,
            search_queue: None,
            search_function: None,
            search_dir: None,
        }
    }
}

/// Values given on the command line, which win over the environment.
#[derive(Debug, Clone, Default)]
pub struct Overrides {
    pub backend: Option<BackendKind>,
    pub home: Option<PathBuf>,
    /// Nations given as a flag (`--nations`), instead of `POSTROOM_FOI_NATIONS`.
    pub nations: Option<Vec<String>>,
    /// A holiday table given as a flag (`--holidays`), instead of `POSTROOM_HOLIDAYS`.
    pub holidays: Option<PathBuf>,
}

/// Every problem found in the configuration, reported together.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("the configuration is incomplete or invalid:\n{}", .problems.iter().map(|p| format!("  - {p}")).collect::<Vec<_>>().join("\n"))]
pub struct ConfigError {
    pub problems: Vec<String>,
}

impl crate::failure::ErrorCode for ConfigError {
    fn code(&self) -> crate::failure::Code {
        crate::failure::Code::ConfigInvalid
    }
}

pub const ENV_BACKEND: &str = "POSTROOM_BACKEND";
pub const ENV_HOME: &str = "POSTROOM_HOME";
pub const ENV_TABLE: &str = "POSTROOM_TABLE";
pub const ENV_BUCKET: &str = "POSTROOM_BUCKET";
pub const ENV_CONCURRENCY: &str = "POSTROOM_CONCURRENCY";
pub const ENV_LETTERS_QUEUE: &str = "POSTROOM_LETTERS_QUEUE";
pub const ENV_OCR_QUEUE: &str = "POSTROOM_OCR_QUEUE";
pub const ENV_HOLIDAYS: &str = "POSTROOM_HOLIDAYS";
pub const ENV_FOI_NATIONS: &str = "POSTROOM_FOI_NATIONS";
pub const ENV_REMIND_WITHIN: &str = "POSTROOM_FOI_REMIND_WITHIN";
pub const ENV_SWEEP_RULE_ARN: &str = "POSTROOM_SWEEP_RULE_ARN";
pub const ENV_CONSOLE_TOKEN: &str = "POSTROOM_CONSOLE_TOKEN";
pub const ENV_CONSOLE_ROLES: &str = "POSTROOM_CONSOLE_ROLES";
pub const ENV_CONSOLE_ORIGIN: &str = "POSTROOM_CONSOLE_ORIGIN";
pub const ENV_OIDC_ISSUER: &str = "POSTROOM_OIDC_ISSUER";
pub const ENV_OIDC_CLIENT_ID: &str = "POSTROOM_OIDC_CLIENT_ID";
pub const ENV_SEARCH_QUEUE: &str = "POSTROOM_SEARCH_QUEUE";
pub const ENV_SEARCH_FUNCTION: &str = "POSTROOM_SEARCH_FUNCTION";
pub const ENV_SEARCH_DIR: &str = "POSTROOM_SEARCH_DIR";
pub const DEFAULT_HOME: &str = ".postroom";
pub const DEFAULT_CONCURRENCY: usize = 4;
pub const MAX_CONCURRENCY: usize = 64;
pub const DEFAULT_REMIND_WITHIN: u32 = 5;

impl Config {
    /// Reads the process environment, then applies the overrides.
    pub fn from_env(overrides: &Overrides) -> Result<Self, ConfigError> {
        Self::from_lookup(|name| std::env::var(name).ok(), overrides)
    }

    /// Reads settings through `lookup` (the environment, or a map in tests).
    pub fn from_lookup(
        lookup: impl Fn(&str) -> Option<String>,
        overrides: &Overrides,
    ) -> Result<Self, ConfigError> {
        let get = |name: &str| lookup(name).filter(|v| !v.trim().is_empty());
        let mut problems = Vec::new();

        let backend = match overrides.backend {
            Some(b) => b,
            None => match get(ENV_BACKEND).map(|v| v.parse::<BackendKind>()) {
                None => BackendKind::Local,
                Some(Ok(b)) => b,
                Some(Err(e)) => {
                    problems.push(format!("{ENV_BACKEND}: {e}"));
                    BackendKind::Local
                }
            },
        };
        let home = overrides
            .home
            .clone()
            .or_else(|| get(ENV_HOME).map(PathBuf::from))
            .unwrap_or_else(|| PathBuf::from(DEFAULT_HOME));

        let aws = if backend == BackendKind::Aws {
            let table = get(ENV_TABLE);
            let bucket = get(ENV_BUCKET);
            if table.is_none() {
                problems.push(format!(
                    "{ENV_TABLE} is not set: the name of the DynamoDB table"
                ));
            }
            if bucket.is_none() {
                problems.push(format!(
                    "{ENV_BUCKET} is not set: the name of the S3 bucket for documents"
                ));
            }
            match (table, bucket) {
                (Some(table), Some(bucket)) => Some(AwsNames { table, bucket }),
                _ => None,
            }
        } else {
            None
        };

        let concurrency = match get(ENV_CONCURRENCY) {
            None => DEFAULT_CONCURRENCY,
            Some(v) => match v.trim().parse::<usize>() {
                Ok(n) if (1..=MAX_CONCURRENCY).contains(&n) => n,
                _ => {
                    problems.push(format!(
                        "{ENV_CONCURRENCY}: {v:?} is not a whole number from 1 to {MAX_CONCURRENCY}"
                    ));
                    DEFAULT_CONCURRENCY
                }
            },
        };
        let remind_within = match get(ENV_REMIND_WITHIN) {
            None => DEFAULT_REMIND_WITHIN,
            Some(v) => match v.trim().parse::<u32>() {
                Ok(n) if n <= 60 => n,
                _ => {
                    problems.push(format!(
                        "{ENV_REMIND_WITHIN}: {v:?} is not a number of working days from 0 to 60"
                    ));
                    DEFAULT_REMIND_WITHIN
                }
            },
        };
        // A problem names where the value came from: the flag, or the variable.
        let holidays_from = if overrides.holidays.is_some() {
            "--holidays"
        } else {
            ENV_HOLIDAYS
        };
        let nations_from = if overrides.nations.is_some() {
            "--nations"
        } else {
            ENV_FOI_NATIONS
        };
        let base = match overrides
            .holidays
            .clone()
            .or_else(|| get(ENV_HOLIDAYS).map(PathBuf::from))
        {
            None => Calendar::embedded().clone(),
            Some(path) => match std::fs::read_to_string(&path) {
                Err(e) => {
                    problems.push(format!(
                        "{holidays_from}: cannot read the bank holiday table {}: {e}",
                        path.display()
                    ));
                    Calendar::embedded().clone()
                }
                Ok(text) => match Calendar::from_csv(&text) {
                    Ok(c) => c,
                    Err(e) => {
                        problems.push(format!(
                            "{holidays_from}: the bank holiday table {}: {e}",
                            path.display()
                        ));
                        Calendar::embedded().clone()
                    }
                },
            },
        };
        let nations = match &overrides.nations {
            Some(list) => Nation::parse_list(list.iter().map(String::as_str)),
            None => Nation::parse_list([get(ENV_FOI_NATIONS).unwrap_or_default().as_str()]),
        };
        let calendar = match nations {
            Ok(nations) => base.counting(&nations),
            Err(e) => {
                problems.push(format!("{nations_from}: {e}"));
                base
            }
        };

        let console_token = get(ENV_CONSOLE_TOKEN).map(|v| v.trim().to_owned());
        if console_token
            .as_ref()
            .is_some_and(|t| t.chars().count() < MIN_TOKEN_CHARS)
        {
            problems.push(format!(
                "{ENV_CONSOLE_TOKEN}: must be at least {MIN_TOKEN_CHARS} characters"
            ));
        }
        let console_roles: Vec<String> = get(ENV_CONSOLE_ROLES)
            .map(|v| {
                v.split(',')
                    .map(|r| r.trim().to_owned())
                    .filter(|r| !r.is_empty())
                    .collect()
            })
            .unwrap_or_default();
        for role in &console_roles {
            if !ROLE_NAMES.contains(&role.as_str()) {
                problems.push(format!(
                    "{ENV_CONSOLE_ROLES}: no role `{role}` (the roles are {})",
                    ROLE_NAMES.join(", ")
                ));
            }
        }
        let console_origin =
            get(ENV_CONSOLE_ORIGIN).map(|v| v.trim().trim_end_matches('/').to_owned());
        if let Some(origin) = &console_origin
            && !(origin.starts_with("https://")
                || origin.starts_with("http://127.0.0.1")
                || origin.starts_with("http://localhost"))
        {
            problems.push(format!(
                "{ENV_CONSOLE_ORIGIN}: must be an https:// address (or http on this computer)"
            ));
        }
        let oidc_issuer = get(ENV_OIDC_ISSUER).map(|v| v.trim().trim_end_matches('/').to_owned());
        let oidc_client_id = get(ENV_OIDC_CLIENT_ID).map(|v| v.trim().to_owned());
        if oidc_issuer.is_some() && console_origin.is_none() {
            problems.push(format!(
                "{ENV_OIDC_ISSUER}: needs {ENV_CONSOLE_ORIGIN}, where the provider sends people back"
            ));
        }
        if oidc_issuer.is_some() != oidc_client_id.is_some() {
            problems.push(format!(
                "{ENV_OIDC_ISSUER} and {ENV_OIDC_CLIENT_ID}: give both, or neither"
            ));
        }
        let search_queue = get(ENV_SEARCH_QUEUE).map(|v| v.trim().to_owned());
        let search_function = get(ENV_SEARCH_FUNCTION).map(|v| v.trim().to_owned());
        if search_queue.is_some() != search_function.is_some() {
            problems.push(format!(
                "{ENV_SEARCH_QUEUE} and {ENV_SEARCH_FUNCTION}: give both, or neither"
            ));
        }
        if search_queue
            .as_deref()
            .is_some_and(|q| !q.ends_with(".fifo"))
        {
            problems.push(format!(
                "{ENV_SEARCH_QUEUE}: must be a FIFO queue (its name ends .fifo), so that a document's changes keep their order"
            ));
        }

        // The OCR queue (issue 20): a queue's URL, or nothing.
        let ocr_queue = get(ENV_OCR_QUEUE).map(|v| v.trim().to_owned());
        if let Some(url) = &ocr_queue
            && !(url.starts_with("https://") || url.starts_with("http://"))
        {
            problems.push(format!(
                "{ENV_OCR_QUEUE}: {url:?} is not a queue URL (https://sqs.<region>.amazonaws.com/<account>/<name>)"
            ));
        }

        if problems.is_empty() {
            Ok(Config {
                backend,
                home,
                aws,
                concurrency,
                letters_queue: get(ENV_LETTERS_QUEUE).map(|v| v.trim().to_owned()),
                ocr_queue,
                calendar,
                remind_within,
                sweep_rule_arn: get(ENV_SWEEP_RULE_ARN).map(|v| v.trim().to_owned()),
                user: get("USER").map(|v| v.trim().to_owned()),
                console_token,
                console_roles,
                console_origin,
                oidc_issuer,
                oidc_client_id,
                search_queue,
                search_function,
                search_dir: get(ENV_SEARCH_DIR).map(|v| PathBuf::from(v.trim())),
            })
        } else {
            Err(ConfigError { problems })
        }
    }

    /// The embedded default under `home`, with every other setting at its default.
    pub fn local(home: impl Into<PathBuf>) -> Self {
        Config {
            home: home.into(),
            ..Config::default()
        }
    }

    /// The AWS backend on the named table and bucket, every other setting at its default.
    pub fn aws(table: impl Into<String>, bucket: impl Into<String>) -> Self {
        Config {
            backend: BackendKind::Aws,
            aws: Some(AwsNames {
                table: table.into(),
                bucket: bucket.into(),
            }),
            ..Config::default()
        }
    }

    /// The local backend's object folder.
    pub fn blobs_dir(&self) -> PathBuf {
        self.home.join("blobs")
    }

    /// The local backend's SQLite file.
    pub fn sqlite_path(&self) -> PathBuf {
        self.home.join("postroom.sqlite3")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn config(vars: &[(&str, &str)], overrides: Overrides) -> Result<Config, ConfigError> {
        let map: HashMap<String, String> = vars
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        Config::from_lookup(|k| map.get(k).cloned(), &overrides)
    }

    #[test]
    fn local_is_the_default_and_needs_nothing() {
        let c = config(&[], Overrides::default()).unwrap();
        assert_eq!(c.backend, BackendKind::Local);
        assert_eq!(c.home, PathBuf::from(".postroom"));
        assert_eq!(c.sqlite_path(), PathBuf::from(".postroom/postroom.sqlite3"));
    }

    #[test]
    fn every_missing_aws_setting_is_reported_together() {
        let err = config(&[(ENV_BACKEND, "aws")], Overrides::default()).unwrap_err();
        assert_eq!(err.problems.len(), 2, "{err}");
        let text = err.to_string();
        assert!(
            text.contains(ENV_TABLE) && text.contains(ENV_BUCKET),
            "{text}"
        );
    }

    #[test]
    fn an_invalid_backend_is_reported_with_the_others() {
        let err = config(
            &[(ENV_BACKEND, "azure"), (ENV_TABLE, " ")],
            Overrides::default(),
        )
        .unwrap_err();
        assert_eq!(err.problems.len(), 1);
        assert!(err.problems[0].contains("azure"));
    }

    #[test]
    fn a_bad_function_setting_stops_start_up_with_the_others() {
        let err = config(
            &[
                (ENV_CONCURRENCY, "abc"),
                (ENV_REMIND_WITHIN, "-1"),
                (ENV_FOI_NATIONS, "wales,atlantis"),
                (ENV_HOLIDAYS, "/no/such/table.csv"),
            ],
            Overrides::default(),
        )
        .unwrap_err();
        let text = err.to_string();
        assert_eq!(err.problems.len(), 4, "{text}");
        for name in [
            ENV_CONCURRENCY,
            ENV_REMIND_WITHIN,
            ENV_FOI_NATIONS,
            ENV_HOLIDAYS,
        ] {
            assert!(text.contains(name), "{name} missing from {text}");
        }
        assert!(text.contains("\"abc\""), "{text}");
        let err = config(&[(ENV_CONCURRENCY, "0")], Overrides::default()).unwrap_err();
        assert!(err.problems[0].contains(ENV_CONCURRENCY));
    }

    #[test]
    fn function_settings_are_read_when_valid() {
        let c = config(
            &[
                (ENV_CONCURRENCY, "8"),
                (ENV_LETTERS_QUEUE, "https://sqs.example/q"),
                (ENV_FOI_NATIONS, "scotland"),
                (ENV_REMIND_WITHIN, "3"),
            ],
            Overrides::default(),
        )
        .unwrap();
        assert_eq!(c.concurrency, 8);
        assert_eq!(c.letters_queue.as_deref(), Some("https://sqs.example/q"));
        assert_eq!(c.remind_within, 3);
        assert!(c.sweep_rule_arn.is_none());
    }

    #[test]
    fn the_ocr_queue_is_read_and_a_bad_one_reported_with_the_others() {
        let c = config(
            &[(
                ENV_OCR_QUEUE,
                " https://sqs.eu-west-2.amazonaws.com/1/postroom-ocr ",
            )],
            Overrides::default(),
        )
        .unwrap();
        assert_eq!(
            c.ocr_queue.as_deref(),
            Some("https://sqs.eu-west-2.amazonaws.com/1/postroom-ocr")
        );
        assert!(
            config(&[], Overrides::default())
                .unwrap()
                .ocr_queue
                .is_none()
        );
        let err = config(
            &[(ENV_OCR_QUEUE, "postroom-ocr"), (ENV_CONCURRENCY, "abc")],
            Overrides::default(),
        )
        .unwrap_err();
        assert_eq!(err.problems.len(), 2, "{err}");
        assert!(err.to_string().contains(ENV_OCR_QUEUE), "{err}");
    }

    #[test]
    fn search_on_aws_needs_its_fifo_queue_and_its_function_together() {
        let queue = "https://sqs.eu-west-2.amazonaws.com/1/postroom-search.fifo";
        let c = config(
            &[
                (ENV_SEARCH_QUEUE, queue),
                (ENV_SEARCH_FUNCTION, "postroom-dev-search-query"),
                (ENV_SEARCH_DIR, "/mnt/search/index"),
            ],
            Overrides::default(),
        )
        .unwrap();
        assert_eq!(c.search_queue.as_deref(), Some(queue));
        assert_eq!(
            c.search_function.as_deref(),
            Some("postroom-dev-search-query")
        );
        assert_eq!(c.search_dir, Some(PathBuf::from("/mnt/search/index")));
        let err = config(
            &[
                (ENV_SEARCH_QUEUE, "https://sqs.example/1/postroom-search"),
                (ENV_CONCURRENCY, "abc"),
            ],
            Overrides::default(),
        )
        .unwrap_err();
        assert_eq!(err.problems.len(), 3, "{err}");
        assert!(err.to_string().contains("FIFO"), "{err}");
        assert!(
            err.to_string().contains(ENV_SEARCH_FUNCTION),
            "both or neither: {err}"
        );
    }

    #[test]
    fn flags_win_over_the_environment() {
        let c = config(
            &[(ENV_BACKEND, "aws"), (ENV_HOME, "/env/home")],
            Overrides {
                backend: Some(BackendKind::Local),
                home: Some(PathBuf::from("/flag/home")),
                ..Overrides::default()
            },
        )
        .unwrap();
        assert_eq!(c.backend, BackendKind::Local);
        assert_eq!(c.home, PathBuf::from("/flag/home"));
        let c = config(
            &[(ENV_TABLE, "t"), (ENV_BUCKET, "b")],
            Overrides {
                backend: Some(BackendKind::Aws),
                home: None,
                ..Overrides::default()
            },
        )
        .unwrap();
        assert_eq!(
            c.aws,
            Some(AwsNames {
                table: "t".into(),
                bucket: "b".into()
            })
        );
    }
}
