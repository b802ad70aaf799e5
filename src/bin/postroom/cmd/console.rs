//! `postroom console`: serves the staff console on a loopback address over the
//! configured backend, and prints the sign-in link (with a one-time-made token, or
//! `POSTROOM_CONSOLE_TOKEN`), or with an OpenID Connect provider configured signs people
//! in with it only. `--demo` files the bundled sample post first. Ctrl-C stops
//! it after the letters being made are finished.

use std::process::ExitCode;
use std::sync::Arc;

use anyhow::Context as _;
use postroom::app::{Acknowledgements, App, Front};
use postroom::config::{BackendKind, Config};
use postroom::console::authz::Role;
use postroom::console::settings::random_token;
use postroom::console::{ConsoleSettings, LocalToken};

use crate::args::ConsoleArgs;

pub fn run(config: Config, args: &ConsoleArgs) -> anyhow::Result<ExitCode> {
    if !args.listen.ip().is_loopback() {
        anyhow::bail!(
            "--listen {}: the console serves this computer only; give a loopback address such as 127.0.0.1:8080",
            args.listen
        );
    }
    let config = if args.demo {
        Config {
            backend: BackendKind::Local,
            ..config
        }
    } else {
        config
    };
    let token = config.console_token.clone().unwrap_or_else(random_token);
    let roles: Vec<Role> = if config.console_roles.is_empty() {
        Role::ALL.to_vec()
    } else {
        config
            .console_roles
            .iter()
            .filter_map(|r| Role::parse(r))
            .collect()
    };
    let who = config.user.clone().unwrap_or_else(|| "local".into());
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("could not start the async runtime")?;
    runtime.block_on(async {
        let app = Arc::new(
            App::open(config, Front::named("console", Acknowledgements::InProcess)).await?,
        );
        if args.demo {
            let demo = postroom::demo::run(&app)
                .await
                .map_err(|e| anyhow::anyhow!("{e}"))?;
            out!(
                "postroom console: the demo post is in ({} documents)",
                demo.arrivals.len()
            );
        }
        let listener = tokio::net::TcpListener::bind(args.listen)
            .await
            .with_context(|| format!("could not listen on {}", args.listen))?;
        let addr = listener.local_addr()?;
        let local = LocalToken::new(&token, who, roles);
        let settings = ConsoleSettings::for_local_console(&app.config, local);
        let provider = settings.uses_provider();
        let router = postroom::console::router(app.clone(), settings);
        match provider {
            true => out!("postroom console: open http://{addr}/ (sign in with the provider)"),
            false => out!("postroom console: open http://{addr}/sign-in?token={token}"),
        }
        out!(
            "(serving {} on this computer only; Ctrl-C stops it)",
            app.config.home.display()
        );
        let served = axum::serve(listener, router)
            .with_graceful_shutdown(async {
                let _ = tokio::signal::ctrl_c().await;
            })
            .await;
        // However it stopped: the letters still in hand finished, then the search
        // index's writes (theirs too) committed.
        let unmade = app.finish().await;
        crate::save_search(&app).await;
        served.context("the console stopped")?;
        if !unmade.is_empty() {
            eprintln!(
                "postroom: {} letter(s) not made; the next run finishes them",
                unmade.len()
            );
        }
        Ok(ExitCode::SUCCESS)
    })
}
