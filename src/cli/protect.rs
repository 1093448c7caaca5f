//! `protect`: protect one file in place with a template.

use std::path::PathBuf;

use clap::Args;
use serde::Serialize;

use super::GlobalOptions;
use crate::protect::templates::TemplateStore;
use crate::protect::{self, ProtectOutcome, ProtectRequest};
use crate::{Error, ExitClass, locate};

#[derive(Args, Debug)]
pub struct ProtectArgs {
    /// The file to protect
    pub file: PathBuf,
    /// Template id (a GUID, with or without braces)
    #[arg(long, value_name = "ID")]
    pub template: String,
    /// Owner recorded in the license (e-mail address)
    #[arg(long, value_name = "EMAIL")]
    pub owner: Option<String>,
    /// Protect without classifying
    #[arg(long)]
    pub always: bool,
    /// Print one JSON object instead of a line of text
    #[arg(long)]
    pub json: bool,
}

#[derive(Serialize)]
struct ProtectLine<'a> {
    path: String,
    result: &'a str,
    template_id: Option<String>,
    template_name: Option<String>,
    content_id: Option<String>,
    owner: Option<String>,
}

/// Open the template store named by the global options (or found by default).
pub fn template_store(global: &GlobalOptions) -> Result<TemplateStore, Error> {
    let dir = locate::templates_dir(global.templates.as_deref()).ok_or_else(|| {
        Error::new(
            ExitClass::Config,
            format!(
                "no template store: give --templates <DIR> or put a {}/ folder beside the executable",
                locate::TEMPLATES_DIR
            ),
        )
    })?;
    TemplateStore::load(&dir)
}

pub fn run(global: &GlobalOptions, args: ProtectArgs) -> Result<ExitClass, Error> {
    let store = template_store(global)?;
    let template = store.get(&args.template)?;
    let request = ProtectRequest { owner: args.owner.as_deref() };
    let outcome = protect::protect_file(&args.file, template, &request)?;
    let (result, license) = match &outcome {
        ProtectOutcome::Protected(l) => ("protected", Some(l)),
        ProtectOutcome::AlreadyProtected(l) => ("already-protected", l.as_ref()),
    };
    if args.json {
        let line = ProtectLine {
            path: args.file.display().to_string(),
            result,
            template_id: license.map(|l| l.template_id.to_string()),
            template_name: license.map(|l| l.template_name.clone()),
            content_id: license.map(|l| l.content_id.to_string()),
            owner: license.and_then(|l| l.owner.clone()),
        };
        println!("{}", serde_json::to_string(&line).unwrap_or_default());
    } else {
        match &outcome {
            ProtectOutcome::Protected(l) => {
                println!("protected: {} (template {} {})", args.file.display(), l.template_name, l.template_id)
            }
            ProtectOutcome::AlreadyProtected(_) => {
                println!("left alone: {} is already protected by fci-connector", args.file.display())
            }
        }
    }
    Ok(ExitClass::Success)
}
