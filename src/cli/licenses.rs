//! `licenses`: revoke, unrevoke and track content through the licensing service (its owner or an admin), and the
//! signed-in user's offline cache.

use std::path::Path;

use clap::{Args, Subcommand, ValueEnum};
use uuid::Uuid;

use super::open::{SignInArgs, user_cache};
use super::{GlobalOptions, printable};
use crate::licensing::api::{Decision, Tracking};
use crate::protect::container::Envelope;
use crate::reader::open::{ServerChoice, server_for};
use crate::reader::trust::TrustedServer;
use crate::{Error, ExitClass};

#[derive(Subcommand, Debug)]
pub enum LicensesCommand {
    /// Revoke a file's content: nobody can get a use license for it any more (its owner or an admin)
    Revoke(TargetArgs),
    /// Lift a revocation (its owner or an admin)
    Unrevoke(TargetArgs),
    /// Show who asked for a file's content, when, and what was decided (its owner or an admin)
    Track(TrackArgs),
    /// The offline license cache of the signed-in user
    #[command(subcommand)]
    Cache(CacheCommand),
}

#[derive(Args, Debug)]
pub struct TargetArgs {
    /// A protected file, or a content id (needs --server or default_server)
    #[arg(value_name = "FILE|CONTENT-ID")]
    pub target: String,
    #[command(flatten)]
    pub sign_in: SignInArgs,
}

#[derive(Args, Debug)]
pub struct TrackArgs {
    #[command(flatten)]
    pub target: TargetArgs,
    /// Output format
    #[arg(long, value_enum, default_value_t = Format::Table)]
    pub format: Format,
}

#[derive(Clone, Copy, Debug, ValueEnum)]
pub enum Format {
    Table,
    Json,
}

#[derive(Subcommand, Debug)]
pub enum CacheCommand {
    /// List the cached use licenses still valid for offline use (expired ones are removed)
    List {
        #[arg(long, value_enum, default_value_t = Format::Table)]
        format: Format,
    },
    /// Remove every cached use license
    Clear,
}

pub fn run(_global: &GlobalOptions, cmd: LicensesCommand) -> Result<ExitClass, Error> {
    match cmd {
        LicensesCommand::Revoke(args) => set_revoked(&args, true),
        LicensesCommand::Unrevoke(args) => set_revoked(&args, false),
        LicensesCommand::Track(args) => track(&args),
        LicensesCommand::Cache(CacheCommand::List { format }) => cache_list(format),
        LicensesCommand::Cache(CacheCommand::Clear) => {
            let cache = user_cache()?;
            let n = cache.clear()?;
            println!("removed {n} cached use license(s) from {}", printable(&cache.dir().display().to_string()));
            Ok(ExitClass::Success)
        }
    }
}

/// The content id and the service for `target`: a file (its license's content id; the service named for this call,
/// else the file's licensing URL if trusted, else default_server) or a bare content id (the named service or
/// default_server). A file that exists wins over a name that looks like a content id.
fn resolve(target: &str, choice: &ServerChoice) -> Result<(Uuid, TrustedServer), Error> {
    let path = Path::new(target);
    if !path.exists()
        && let Ok(cid) = Uuid::parse_str(target)
    {
        return Ok((cid, choice.for_content_id()?));
    }
    let file = std::fs::File::open(path).map_err(|e| Error::io("cannot open", path, e, ExitClass::NotFound))?;
    let envelope = Envelope::read(&mut std::io::BufReader::new(file))
        .map_err(|e| Error::new(ExitClass::Usage, format!("{}: not a readable protected file: {e}", path.display())))?;
    let server = server_for(&envelope.license, choice).map_err(|e| Error::from(e).context(path.display()))?;
    Ok((envelope.license.content_id, server))
}

fn set_revoked(args: &TargetArgs, revoked: bool) -> Result<ExitClass, Error> {
    let reader = args.sign_in.reader(false)?;
    let (cid, server) = resolve(&args.target, &reader.choice)?;
    let answer = reader.client(server)?.set_revoked(&cid, revoked)?;
    println!("{}: {}", answer.content_id, if answer.revoked { "revoked" } else { "not revoked" });
    Ok(ExitClass::Success)
}

fn track(args: &TrackArgs) -> Result<ExitClass, Error> {
    let reader = args.target.sign_in.reader(false)?;
    let (cid, server) = resolve(&args.target.target, &reader.choice)?;
    let tracking = reader.client(server)?.tracking(&cid)?;
    match args.format {
        Format::Json => println!(
            "{}",
            serde_json::to_string_pretty(&tracking).map_err(|e| Error::new(ExitClass::Internal, e.to_string()))?
        ),
        Format::Table => print_tracking(&tracking),
    }
    Ok(ExitClass::Success)
}

fn print_tracking(t: &Tracking) {
    let d = &t.document;
    println!("content id:  {}", d.content_id);
    println!("file:        {}", printable(&d.original_name));
    println!("template:    {} ({})", printable(&d.template_name), d.template_id);
    println!("owner:       {}", printable(d.owner.as_deref().unwrap_or("-")));
    println!("first seen:  {}", rfc3339(d.first_seen));
    println!("revoked:     {}", if d.revoked { "yes" } else { "no" });
    println!();
    println!(
        "{:<25} {:<30} {:<9} {:<8} {:<18} {:<16} address",
        "time", "principal", "action", "decision", "code", "rights"
    );
    for r in &t.requests {
        println!(
            "{:<25} {:<30} {:<9} {:<8} {:<18} {:<16} {}",
            rfc3339(r.time),
            printable(r.principal.as_deref().unwrap_or("-")),
            printable(&r.action),
            match r.decision {
                Decision::Granted => "granted",
                Decision::Denied => "denied",
            },
            r.code.map(|c| c.as_str()).unwrap_or("-"),
            if r.rights_granted.is_empty() { "-".to_string() } else { r.rights_granted.join(",") },
            printable(&r.client_address)
        );
    }
}

fn rfc3339(t: time::OffsetDateTime) -> String {
    t.format(&time::format_description::well_known::Rfc3339).unwrap_or_default()
}

fn cache_list(format: Format) -> Result<ExitClass, Error> {
    let cache = user_cache()?;
    let entries = cache.list(crate::reader::now())?;
    match format {
        Format::Json => println!(
            "{}",
            serde_json::to_string_pretty(&entries).map_err(|e| Error::new(ExitClass::Internal, e.to_string()))?
        ),
        Format::Table => {
            println!("{} ({})", printable(&cache.dir().display().to_string()), cache.protection());
            if entries.is_empty() {
                println!("no cached use licenses");
            }
            for e in &entries {
                println!(
                    "{}  {}  {}  {}  offline until {}",
                    e.content_id,
                    printable(&e.server),
                    printable(&e.principal),
                    e.rights.join(","),
                    rfc3339(e.offline_until)
                );
            }
        }
    }
    Ok(ExitClass::Success)
}
