//! `postroom doctor`: which backend would be used, and whether it can be reached.

use std::process::ExitCode;

use postroom::config::Config;

pub async fn run(config: &Config) -> anyhow::Result<ExitCode> {
    let checks = postroom::doctor::run(config).await;
    let mut failed = 0;
    for check in &checks {
        let mark = if check.ok { "ok  " } else { "FAIL" };
        out!("{mark} {:<17} {}", check.name, check.detail);
        failed += usize::from(!check.ok);
    }
    if failed == 0 {
        out!("All {} checks passed.", checks.len());
        Ok(ExitCode::SUCCESS)
    } else {
        out!("{failed} of {} checks failed.", checks.len());
        Ok(ExitCode::FAILURE)
    }
}
