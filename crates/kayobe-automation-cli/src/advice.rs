//! What a failed command needs from its user, in this command line's words.
//!
//! Library errors speak of values and files ("no vault password was given"),
//! never of flags: an embedder has none. The input a library found missing
//! is a typed source somewhere in the error's chain, found here however
//! deeply the error was wrapped, and turned into the flags that give it.

use kayobe_automation::config::vault::NoVaultPassword;

/// How to give the vault password, on every command.
const VAULT_PASSWORD: &str = "pass `--vault-password-file FILE` (or set KAYOBE_VAULT_PASSWORD_FILE to the file), or set KAYOBE_VAULT_PASSWORD to the password";

/// The advice for the input `report`'s chain says is missing, if any.
pub fn for_report(report: &miette::Report) -> Option<&'static str> {
    report
        .chain()
        .any(|error| error.is::<NoVaultPassword>())
        .then_some(VAULT_PASSWORD)
}

#[cfg(test)]
mod tests {
    use super::*;
    use kayobe_automation::config::vars_file::VarsFileError;
    use miette::IntoDiagnostic;

    #[test]
    fn a_missing_password_deep_in_the_chain_gets_the_flags() {
        let error = VarsFileError::NeedsVaultPassword("secrets.yml".into(), NoVaultPassword);
        let report = Err::<(), _>(error).into_diagnostic().unwrap_err();
        assert_eq!(for_report(&report), Some(VAULT_PASSWORD));
        let other = miette::miette!("something else");
        assert_eq!(for_report(&other), None);
    }
}
