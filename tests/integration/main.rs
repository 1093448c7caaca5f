//! The integration tests: one test binary (one link, one process) instead of one per file. Each module is one
//! area, named as the files under tests/ were before (so `hostile_rewrite::a_hard_linked_file_…` still names a
//! test); what they share is in `util`.
//!
//! Tests run in parallel threads of this one process: a test never changes the process's environment or current
//! folder (it gives the child command its variables and folder instead), and shared system state (test users) is
//! taken one at a time through `util`.

mod support;
mod util;

mod admin_first;
mod architecture;
mod classify_cli;
mod classify_engine;
mod detect_foreign;
mod docs;
mod extract_formats;
mod extract_hostile;
mod extract_limits;
mod folders;
mod fsrm_command_line;
mod fsrm_contract;
mod hostile_policy;
mod hostile_rewrite;
mod ldap_directory;
mod license_server;
mod login;
mod lookaround;
mod platform_boundary;
mod portal;
mod powershell_syntax;
mod protect_roundtrip;
mod reader;
mod reader_service;
mod reliability_crash;
mod reliability_full_disk;
mod reliability_hostile;
mod reliability_overlap;
mod reliability_regex;
mod reliability_secrets;
mod reliability_tamper;
mod report_browser;
mod rules_check;
mod rules_test;
mod sample_share;
mod scale_memory;
mod scan_engines;
mod service;
mod service_postgres;
mod status_share;
mod store_postgres;
mod tampering;
mod vectors;
mod watch;
