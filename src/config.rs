//! Configuration, read once from the environment and command-line flags, with every
//! missing or invalid setting reported together.

use std::fmt;
use std::path::PathBuf;
use std::str::FromStr;

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
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Config {
    pub backend: BackendKind,
    /// The local data folder (always set; used by the local backend).
    pub home: PathBuf,
    /// Set when the backend is AWS.
    pub aws: Option<AwsNames>,
}

/// Values given on the command line, which win over the environment.
#[derive(Debug, Clone, Default)]
pub struct Overrides {
    pub backend: Option<BackendKind>,
    pub home: Option<PathBuf>,
}

/// Every problem found in the configuration, reported together.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("the configuration is incomplete or invalid:\n{}", .problems.iter().map(|p| format!("  - {p}")).collect::<Vec<_>>().join("\n"))]
pub struct ConfigError {
    pub problems: Vec<String>,
}

pub const ENV_BACKEND: &str = "POSTROOM_BACKEND";
pub const ENV_HOME: &str = "POSTROOM_HOME";
pub const ENV_TABLE: &str = "POSTROOM_TABLE";
pub const ENV_BUCKET: &str = "POSTROOM_BUCKET";
pub const DEFAULT_HOME: &str = ".postroom";

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

        if problems.is_empty() {
            Ok(Config { backend, home, aws })
        } else {
            Err(ConfigError { problems })
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
    fn flags_win_over_the_environment() {
        let c = config(
            &[(ENV_BACKEND, "aws"), (ENV_HOME, "/env/home")],
            Overrides {
                backend: Some(BackendKind::Local),
                home: Some(PathBuf::from("/flag/home")),
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
