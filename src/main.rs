//! The `carebridge` binary: parses the command line, sets up logging, and
//! hands over to the library. Exit codes: 0 ok, 1 runtime failure, 2 bad
//! usage or bad config.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::{Parser, Subcommand, ValueEnum};

use carebridge::cli::{self, Format};
use carebridge::commands::{SlackApp, Specs};
use carebridge::config::{ChatKind, Config, DEFAULT_COMMAND_PERMISSION, SlackMode};
use carebridge::engine::Status;
use carebridge::store::Store;

#[derive(Parser)]
#[command(
    name = "carebridge",
    version,
    about = "A brand's social inboxes in team chat: every customer post becomes a case worked in one thread."
)]
struct Cli {
    /// The bot's config file; the data dir is found from it.
    #[arg(long, global = true, default_value = "bot.toml")]
    config: PathBuf,
    /// Log format on stderr (RUST_LOG sets the level).
    #[arg(long, global = true, value_enum, default_value_t = LogFormat::Text)]
    log_format: LogFormat,
    #[command(subcommand)]
    command: Command,
}

#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
enum LogFormat {
    Text,
    Json,
}

#[derive(Subcommand)]
enum Command {
    /// Run the bot until SIGINT/SIGTERM (or, with the console chat, the end of input).
    Run,
    /// Validate the config: exit 0, or 2 with one line per problem.
    CheckConfig,
    /// Read cases from the store (the bot must be stopped).
    Cases {
        #[command(subcommand)]
        command: CasesCommand,
    },
    /// Print every case, one per line (the bot must be stopped).
    Export {
        #[arg(long, value_enum, default_value_t = Format::Jsonl)]
        format: Format,
    },
    /// Print the figures of a period from the store, as the digest job posts them (the bot
    /// must be stopped).
    Report {
        /// How far back from now: 24h, 7d, 1w, 1d12h, …
        #[arg(long, value_parser = parse_since)]
        since: std::time::Duration,
        /// JSON instead of the aligned text.
        #[arg(long)]
        json: bool,
    },
    /// Print registration artifacts generated from commands/.
    Manifest {
        #[arg(value_enum)]
        target: ManifestTarget,
        /// Discord: print only the OAuth2 URL that invites the bot.
        #[arg(long)]
        invite: bool,
    },
}

#[derive(Subcommand)]
enum CasesCommand {
    /// One line per case.
    List {
        /// Only cases in this status (new, open, waiting, offline, closed).
        #[arg(long, value_parser = parse_status)]
        status: Option<Status>,
        #[arg(long)]
        json: bool,
    },
    /// One case with its posts, drafts and audit trail.
    Show {
        number: u64,
        #[arg(long)]
        json: bool,
    },
}

#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
enum ManifestTarget {
    Slack,
    Discord,
}

fn parse_status(raw: &str) -> Result<Status, String> {
    Status::from_key(raw)
        .ok_or_else(|| format!("`{raw}` is not one of new, open, waiting, offline, closed"))
}

fn parse_since(raw: &str) -> Result<std::time::Duration, String> {
    match carebridge::duration::parse_duration(raw) {
        Ok(d) if d.is_zero() => Err("must be more than zero (e.g. 24h or 7d)".to_owned()),
        Ok(d) => Ok(d),
        Err(e) => Err(e.to_string()),
    }
}

fn init_logging(format: LogFormat, console_chat: bool) {
    use tracing_subscriber::EnvFilter;
    // With the console chat, stdout is the chat: keep the log on stderr quiet
    // unless RUST_LOG asks for more.
    let default = if console_chat { "warn" } else { "info" };
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(default));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    match format {
        LogFormat::Json => builder.json().init(),
        LogFormat::Text => builder.init(),
    }
}

fn load_config(path: &Path) -> Result<Config, ExitCode> {
    Config::load(path).map_err(|errors| {
        eprintln!("{errors}");
        ExitCode::from(2)
    })
}

fn load_specs() -> Result<Specs, ExitCode> {
    // The specs are compiled in; a broken one is a build defect, but say so plainly.
    Specs::load().map_err(|e| {
        eprintln!("{e}");
        ExitCode::from(1)
    })
}

fn failed(error: impl std::fmt::Display) -> ExitCode {
    eprintln!("error: {error}");
    ExitCode::from(1)
}

/// The outcome of a command that prints a report. A reader that went away early
/// (`carebridge export | head`) is not a failure: stop quietly, as Unix tools do.
fn reported(result: Result<(), cli::CliError>) -> Result<(), ExitCode> {
    let broken_pipe =
        |kind: Option<std::io::ErrorKind>| kind == Some(std::io::ErrorKind::BrokenPipe);
    match result {
        Err(cli::CliError::Io(e)) if broken_pipe(Some(e.kind())) => Ok(()),
        Err(cli::CliError::Json(e)) if broken_pipe(e.io_error_kind()) => Ok(()),
        other => other.map_err(failed),
    }
}

/// `println!`, but a closed stdout is not a panic (see [`reported`]).
fn print(text: &str) -> Result<(), ExitCode> {
    use std::io::Write as _;
    reported(writeln!(std::io::stdout().lock(), "{text}").map_err(cli::CliError::Io))
}

fn open_store(config: &Config) -> Result<Store, ExitCode> {
    Store::open_existing(&config.bot.data_dir).map_err(failed)
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match real_main(cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(code) => code,
    }
}

fn real_main(cli: Cli) -> Result<(), ExitCode> {
    // Locked only by the commands that print a report: `run` prints through
    // the console chat, which takes the lock itself.
    let stdout = || std::io::stdout().lock();
    match cli.command {
        Command::CheckConfig => {
            let config = load_config(&cli.config)?;
            print(&format!(
                "{}: ok ({} account(s), chat {:?}, data in {})",
                cli.config.display(),
                config.accounts.len(),
                config.chat.kind,
                config.bot.data_dir.display()
            ))
        }
        Command::Run => {
            let config = load_config(&cli.config)?;
            init_logging(cli.log_format, config.chat.kind == ChatKind::Console);
            let specs = load_specs()?;
            let runtime = tokio::runtime::Builder::new_multi_thread()
                .enable_all()
                .build()
                .map_err(failed)?;
            let result = runtime.block_on(carebridge::runtime::run(config, specs));
            // The console's stdin reader may still be blocked in read(2); all
            // state is flushed by now, so don't wait for it.
            runtime.shutdown_background();
            result.map_err(|e| failed(format!("{e:#}")))
        }
        Command::Cases { command } => {
            let config = load_config(&cli.config)?;
            let store = open_store(&config)?;
            let result = match command {
                CasesCommand::List { status, json } => {
                    cli::list(&store, status, json, &mut stdout())
                }
                CasesCommand::Show { number, json } => {
                    cli::show(&store, number, json, &mut stdout())
                }
            };
            reported(result)
        }
        Command::Export { format } => {
            let config = load_config(&cli.config)?;
            let store = open_store(&config)?;
            reported(cli::export(&store, format, &mut stdout()))
        }
        Command::Report { since, json } => {
            let config = load_config(&cli.config)?;
            let store = open_store(&config)?;
            let now = chrono::Utc::now();
            let tz = config.bot.timezone;
            reported(cli::report(&store, since, now, tz, json, &mut stdout()))
        }
        Command::Manifest { target, invite } => {
            let specs = load_specs()?;
            // The manifests need no secrets: without a config file they
            // describe a default app (Socket Mode on Slack).
            let config = match cli.config.exists() {
                true => Some(load_config(&cli.config)?),
                false => None,
            };
            let value = match target {
                ManifestTarget::Slack => {
                    let slack = config.as_ref().and_then(|c| c.chat.slack.as_ref());
                    specs.slack_manifest(&SlackApp {
                        name: slack.map_or("carebridge", |s| s.app_name.as_str()),
                        // Events mode without chat.slack.public_url: a
                        // placeholder the user replaces, not a wrong mode.
                        public_url: slack.filter(|s| s.mode == SlackMode::Events).map(|s| {
                            s.public_url
                                .as_deref()
                                .unwrap_or("https://YOUR-PUBLIC-HOST")
                        }),
                    })
                }
                ManifestTarget::Discord => {
                    let discord = config.as_ref().and_then(|c| c.chat.discord.as_ref());
                    let url = carebridge::commands::discord_invite(
                        discord.map(|d| d.application_id),
                        discord.map(|d| d.guild_id),
                    );
                    if invite {
                        return print(&url);
                    }
                    // The JSON goes to stdout (to pipe it); the URL is for a
                    // person at a terminal (`--invite` prints it alone).
                    if std::io::IsTerminal::is_terminal(&std::io::stdout()) {
                        eprintln!("{}", carebridge::text::discord::invite(&url));
                    }
                    specs.discord_commands(
                        discord.map_or(DEFAULT_COMMAND_PERMISSION, |d| d.command_permission),
                    )
                }
            };
            let text = serde_json::to_string_pretty(&value).map_err(failed)?;
            print(&text)
        }
    }
}
