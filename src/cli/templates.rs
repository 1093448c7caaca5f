//! `templates list|show|create`: the rights policy template store.

use std::path::PathBuf;

use clap::{Args, Subcommand, ValueEnum};
use serde::Serialize;

use super::GlobalOptions;
use crate::config::Config;
use crate::protect::keys::RecipientKey;
use crate::protect::templates::{self, Expiry, Grant, LicenseServer, Template};
use crate::{Error, ExitClass, locate};

#[derive(Subcommand, Debug)]
pub enum TemplatesCommand {
    /// List the templates in the store (TemplateId, Name, Description, Issuer), like Get-RMSTemplate
    List(ListArgs),
    /// Show one template in full
    Show(ShowArgs),
    /// Write a new template file into the store
    Create(CreateArgs),
}

#[derive(Args, Debug)]
pub struct ListArgs {
    /// Output format
    #[arg(long, value_enum, default_value_t = ListFormat::List)]
    pub format: ListFormat,
}

#[derive(Clone, Copy, Debug, ValueEnum)]
pub enum ListFormat {
    /// `Name : value` blocks, as PowerShell's Format-List shows Get-RMSTemplate
    List,
    /// One JSON object per line
    Json,
}

#[derive(Args, Debug)]
pub struct ShowArgs {
    /// Template id
    pub id: String,
    /// Output format
    #[arg(long, value_enum, default_value_t = ListFormat::List)]
    pub format: ListFormat,
}

#[derive(Args, Debug)]
pub struct CreateArgs {
    /// Template id (GUID)
    #[arg(long)]
    pub id: String,
    /// The template's name, as users see it when they open a protected file
    #[arg(long)]
    pub name: String,
    /// What the template is for, shown with its name
    #[arg(long, default_value = "")]
    pub description: String,
    /// The issuer's public key (SubjectPublicKeyInfo PEM); its private half is what unprotects
    #[arg(long, value_name = "PUB.pem")]
    pub key: PathBuf,
    /// A recovery ("super user") public key; repeatable
    #[arg(long = "recovery-key", value_name = "PUB.pem")]
    pub recovery_keys: Vec<PathBuf>,
    /// `principal=RIGHT,RIGHT` (VIEW, EDIT, DOCEDIT, PRINT, EXTRACT, EXPORT, COMMENT, FORWARD, REPLY, REPLYALL,
    /// VIEWRIGHTSDATA, EDITRIGHTSDATA, OBJMODEL, OWNER); repeatable
    #[arg(long = "grant", value_name = "PRINCIPAL=RIGHTS")]
    pub grants: Vec<String>,
    /// Content expires this many days after protection
    #[arg(long, value_name = "N", conflicts_with = "expires_on")]
    pub expires_after_days: Option<u32>,
    /// Content expires at the end of this date (YYYY-MM-DD)
    #[arg(long, value_name = "DATE")]
    pub expires_on: Option<String>,
    /// Days a client may use the content offline
    #[arg(long, value_name = "N")]
    pub offline_days: Option<u32>,
    /// The licensing service (https://…) readers get use licenses from; written into every license
    #[arg(long, value_name = "URL")]
    pub license_server: Option<String>,
    /// Register each newly protected file with the licensing service (needs --license-server)
    #[arg(long, requires = "license_server")]
    pub register: bool,
}

/// A template as `templates list --format json` prints it.
#[derive(Serialize)]
pub struct TemplateLine {
    pub template_id: String,
    pub name: String,
    pub description: String,
    pub issuer: String,
    pub recovery: Vec<String>,
    pub rights: Vec<String>,
    pub expiry: String,
    pub offline_days: Option<u32>,
    pub license_server: Option<String>,
    pub register: bool,
    pub file: String,
}

impl TemplateLine {
    fn of(t: &Template) -> TemplateLine {
        TemplateLine {
            template_id: t.id.to_string(),
            name: t.name.clone(),
            description: t.description.clone(),
            issuer: t.issuer.id.clone(),
            recovery: t.recovery.iter().map(|k| k.id.clone()).collect(),
            rights: t.grants.iter().map(|g| format!("{}={}", g.principal, g.rights_list())).collect(),
            expiry: match t.expiry {
                Expiry::Never => "never".into(),
                Expiry::OnDate(d) => d.to_string(),
                Expiry::DaysAfterProtection(n) => format!("{n} days after protection"),
            },
            offline_days: t.offline_days,
            license_server: t.license_server.as_ref().map(|s| s.url.clone()),
            register: t.license_server.as_ref().is_some_and(|s| s.register),
            file: t.source.display().to_string(),
        }
    }

    fn print(&self, format: ListFormat, full: bool) {
        match format {
            ListFormat::Json => println!("{}", serde_json::to_string(self).unwrap_or_default()),
            ListFormat::List => {
                println!("TemplateId  : {}", self.template_id);
                println!("Name        : {}", self.name);
                println!("Description : {}", self.description);
                println!("Issuer      : {}", self.issuer);
                if full {
                    println!("Recovery    : {}", self.recovery.join(", "));
                    println!("Rights      : {}", self.rights.join("; "));
                    println!("Expiry      : {}", self.expiry);
                    println!("OfflineDays : {}", self.offline_days.map_or("-".into(), |d| d.to_string()));
                    let register = if self.register { " (registers new files)" } else { "" };
                    println!("Licensing   : {}{register}", self.license_server.as_deref().unwrap_or("-"));
                    println!("File        : {}", self.file);
                }
                println!();
            }
        }
    }
}

/// The template store named by the options, the config or the default search. The config file is read only when
/// the options name no store.
fn template_store(global: &GlobalOptions) -> Result<templates::TemplateStore, Error> {
    let config = if global.templates.is_none() { Config::load(global.config.as_deref())? } else { Config::default() };
    let settings = global.settings(config);
    super::template_folder(&settings)?;
    settings.template_store()
}

pub fn run(global: &GlobalOptions, cmd: TemplatesCommand) -> Result<ExitClass, Error> {
    match cmd {
        TemplatesCommand::List(args) => {
            let store = template_store(global)?;
            for problem in &store.problems {
                eprintln!("fci-connector: warning: {problem}");
            }
            for t in &store.templates {
                TemplateLine::of(t).print(args.format, false);
            }
            Ok(if store.problems.is_empty() { ExitClass::Success } else { ExitClass::Config })
        }
        TemplatesCommand::Show(args) => {
            let store = template_store(global)?;
            TemplateLine::of(store.get(&args.id)?).print(args.format, true);
            Ok(ExitClass::Success)
        }
        TemplatesCommand::Create(args) => create(global, args),
    }
}

fn create(global: &GlobalOptions, args: CreateArgs) -> Result<ExitClass, Error> {
    let usage = |m: String| Error::new(ExitClass::Usage, m);
    let id = templates::parse_id(&args.id).map_err(|e| usage(e.to_string()))?;
    let dir = global
        .templates
        .clone()
        .or_else(|| locate::templates_dir(None))
        .ok_or_else(|| Error::new(ExitClass::Config, "no template store: give --templates <DIR>".to_string()))?;
    std::fs::create_dir_all(&dir).map_err(|e| Error::io("cannot create", &dir, e, ExitClass::Write))?;
    let store = templates::TemplateStore::load(&dir)?;
    if let Some(existing) = store.templates.iter().find(|t| t.id == id) {
        return Err(usage(format!("template {id} already exists in {}", existing.source.display())));
    }
    let read_pem = |path: &PathBuf| -> Result<(RecipientKey, String), Error> {
        let pem =
            std::fs::read_to_string(path).map_err(|e| Error::io("cannot read key", path, e, ExitClass::Template))?;
        let key = RecipientKey::from_pem(&pem, &path.display().to_string())
            .map_err(|e| Error::new(ExitClass::Template, e.to_string()))?;
        Ok((key, pem))
    };
    let (issuer, issuer_pem) = read_pem(&args.key)?;
    let mut recovery = Vec::new();
    let mut recovery_pems = Vec::new();
    for path in &args.recovery_keys {
        let (k, pem) = read_pem(path)?;
        recovery.push(k);
        recovery_pems.push(pem);
    }
    let grants = args
        .grants
        .iter()
        .map(|g| Grant::parse_assignment(g))
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| usage(e.to_string()))?;
    let expiry = match (args.expires_after_days, &args.expires_on) {
        (Some(days), _) => Expiry::DaysAfterProtection(days),
        (None, Some(date)) => {
            let format = time::macros::format_description!("[year]-[month]-[day]");
            Expiry::OnDate(
                time::Date::parse(date, format)
                    .map_err(|_| usage(format!("--expires-on {date:?}: expected YYYY-MM-DD")))?,
            )
        }
        (None, None) => Expiry::Never,
    };
    let license_server = match &args.license_server {
        Some(url) => Some(LicenseServer {
            url: templates::check_license_server_url(url).map_err(|e| usage(format!("--license-server: {e}")))?,
            register: args.register,
        }),
        None => None,
    };
    let path = dir.join(format!("{id}.xml"));
    let template = Template {
        id,
        name: args.name,
        description: args.description,
        grants,
        expiry,
        offline_days: args.offline_days,
        license_server,
        issuer,
        recovery,
        source: path.clone(),
    };
    let xml = template.to_xml(&issuer_pem, &recovery_pems);
    // Check that what we write reads back as the same template before it enters the store.
    Template::parse(&xml, &path)
        .map_err(|e| Error::new(ExitClass::Internal, format!("generated template does not parse: {e}")))?;
    crate::protect::inplace::write_new(&path, None, |file, temp| {
        use std::io::Write;
        file.write_all(xml.as_bytes()).map_err(|e| Error::io("cannot write", temp, e, ExitClass::Write))
    })?;
    println!("created template {} ({}) in {}", template.id, template.name, path.display());
    Ok(ExitClass::Success)
}
