//! The operation catalogue against kayobe-automation's real scripts
//! (`../shared/conformance/kayobe-automation/scripts`): every script is in
//! it, and what it says about arguments and pull requests is what each
//! script does.

use kayobe_automation_tests::conformance;
use kayobe_config::operation::{Arguments, Operation};

#[test]
fn every_script_is_catalogued_with_its_arguments_and_pull_requests() {
    let Some(automation) = conformance("kayobe-automation") else {
        return;
    };
    let scripts_dir = automation.join("scripts");
    let mut scripts: Vec<String> = std::fs::read_dir(&scripts_dir)
        .unwrap()
        .flatten()
        .filter_map(|entry| {
            let name = entry.file_name().into_string().ok()?;
            name.strip_suffix(".sh").map(str::to_owned)
        })
        .collect();
    scripts.sort();
    let catalogue: Vec<&str> = Operation::all().iter().map(Operation::name).collect();
    assert_eq!(catalogue, scripts);
    for operation in Operation::all() {
        let text = std::fs::read_to_string(scripts_dir.join(format!("{operation}.sh"))).unwrap();
        let code: String = text
            .lines()
            .filter(|line| !line.trim_start().starts_with('#'))
            .collect::<Vec<_>>()
            .join("\n");
        // A runbook raises what the scripts it calls raise.
        let raises = code.contains("\n    pull_request ")
            || Operation::all().iter().any(|callee| {
                code.contains(&format!("${{PARENT}}/{callee}.sh")) && callee.may_open_pull_request()
            });
        assert_eq!(
            operation.may_open_pull_request(),
            raises,
            "{operation}: pull request"
        );
        let requires_one = code.contains("\"$#\" -lt 1");
        let required = matches!(
            operation.arguments(),
            Arguments::Revision
                | Arguments::Playbook
                | Arguments::KollaCommand
                | Arguments::Script
                | Arguments::NodeConfigDir
        );
        assert_eq!(required, requires_one, "{operation}: required argument");
        let passes_args = code.contains("main \"${@:1}\"") || code.contains("main \"$1\"");
        assert_eq!(
            operation.arguments() != Arguments::None,
            passes_args,
            "{operation}: arguments"
        );
        if operation.takes_kolla_inputs() || operation.takes_kayobe_inputs() {
            assert!(
                code.contains("run_kayobe ") || code.contains("${PARENT}/"),
                "{operation}: limits and tags reach Kayobe through run_kayobe"
            );
        }
    }
}
